"""When a host's web processes last answered a read: seen by each of them through the page the gunicorn master
shares before it forks them (lenslet/readers.py), so an edit in any process rests while another reads."""

import math
import os

import pytest

from lenslet import readers


@pytest.fixture
def shared(monkeypatch):
    """The page shared as gunicorn's master shares it; this process a web process of age 1."""
    monkeypatch.setattr(readers, "_page", None)
    monkeypatch.setattr(readers, "_slot", 0)
    readers.share()
    readers.take_slot(1)
    return readers


def test_a_read_in_another_web_process_is_seen_here_while_it_runs_and_after_it_ended(shared):
    assert not shared.anywhere(100.0)
    go_on, told = os.pipe(), os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            readers.take_slot(2)
            readers.tell(math.inf)
            os.write(told[1], b"x")
            os.read(go_on[0], 1)
            readers.tell(150.0)  # ended at 150
            os.write(told[1], b"x")
        finally:
            os._exit(0)
    try:
        assert os.read(told[0], 1) == b"x"
        assert shared.anywhere(1e12)  # under way: seen whenever asked
        os.write(go_on[1], b"x")
        assert os.read(told[0], 1) == b"x"
        assert shared.anywhere(149.0) and shared.anywhere(150.0)
        assert not shared.anywhere(150.5)
    finally:
        os.waitpid(pid, 0)


def test_a_web_process_gone_while_it_read_is_freed_by_the_master(shared):
    told = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            readers.take_slot(3)
            readers.tell(math.inf)  # and dies answering a read
            os.write(told[1], b"x")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(told[0], 1) == b"x"
    assert shared.anywhere(1e12)
    shared.free_slot(3)  # gunicorn's child_exit
    assert not shared.anywhere(-1e12)


def test_this_process_own_reads_are_in_its_slot_and_seen_by_itself_too(shared):
    readers.tell(math.inf)  # what Turns.count_reads tells: its own slot, of age 1
    assert shared.anywhere(1e12)  # seen by others, and by itself
    readers.tell(20.0)
    assert shared.anywhere(20.0) and not shared.anywhere(21.0)


def test_outside_gunicorn_nothing_is_shared(monkeypatch):
    monkeypatch.setattr(readers, "_page", None)
    readers.tell(math.inf)
    assert not readers.anywhere(-1e12)
