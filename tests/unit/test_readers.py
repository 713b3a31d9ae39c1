"""The reads under way in a host's web processes: seen by each of them through the page the gunicorn master
shares before it forks them (lenslet/readers.py), so an edit in any process rests while another reads."""

import os

import pytest

from lenslet import readers


@pytest.fixture
def shared(monkeypatch):
    """The page shared as gunicorn's master shares it; this process a web process of age 1."""
    monkeypatch.setattr(readers, "_counts", None)
    monkeypatch.setattr(readers, "_slot", 0)
    readers.share()
    readers.take_slot(1)
    return readers


def test_a_read_in_another_web_process_is_seen_here_until_it_ends(shared):
    assert not shared.anywhere()
    go_on, told = os.pipe(), os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            readers.take_slot(2)
            readers.tell(1)
            os.write(told[1], b"x")
            os.read(go_on[0], 1)
            readers.tell(0)
            os.write(told[1], b"x")
        finally:
            os._exit(0)
    try:
        assert os.read(told[0], 1) == b"x"
        assert shared.anywhere()
        os.write(go_on[1], b"x")
        assert os.read(told[0], 1) == b"x"
        assert not shared.anywhere()
    finally:
        os.waitpid(pid, 0)


def test_a_web_process_gone_while_it_read_is_freed_by_the_master(shared):
    told = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            readers.take_slot(3)
            readers.tell(5)  # and dies answering them
            os.write(told[1], b"x")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(told[0], 1) == b"x"
    assert shared.anywhere()
    shared.free_slot(3)  # gunicorn's child_exit
    assert not shared.anywhere()


def test_this_process_own_reads_are_its_turns_count_not_the_pages(shared):
    readers.tell(2)  # what Turns.reading tells: its own slot, of age 1
    assert shared.anywhere()  # seen by others, and by itself
    readers.tell(0)
    assert not shared.anywhere()


def test_outside_gunicorn_nothing_is_shared(monkeypatch):
    monkeypatch.setattr(readers, "_counts", None)
    readers.tell(3)
    assert not readers.anywhere()
