"""Storage's read of a small state file (read_small) on the local disk: within its size or refused by
it, and never through a link, a FIFO, a socket or a folder in its place; opening never waits."""

import os
import socket

import pytest

from lenslet.errors import Foreign, TooLarge
from lenslet.storage import version_of

KEY = ".lenslet/throttle/x.json"
LIMIT = 16


def put_bytes(data):
    return lambda path: path.write_bytes(data)


def put_sparse(path):
    with open(path, "wb") as out:
        out.truncate(2 ** 40)  # 1 TiB that costs no disk, and would cost 1 TiB of memory read whole


def put_socket(path):
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))  # the socket's file stays when it is closed


def put_link(path):
    target = path.parent / "target.json"
    target.write_bytes(b"{}")
    os.symlink(target, path)


@pytest.mark.parametrize("put, expected", [
    (None, (None, None)),
    (put_bytes(b""), (b"", version_of(b""))),
    (put_bytes(b"x" * LIMIT), (b"x" * LIMIT, version_of(b"x" * LIMIT))),
    (put_bytes(b"x" * (LIMIT + 1)), TooLarge),
    (put_sparse, TooLarge),
    (lambda path: os.mkfifo(path), Foreign),
    (put_socket, Foreign),
    (put_link, Foreign),
    (lambda path: path.mkdir(), Foreign),
])
def test_a_small_file_is_read_within_its_size_or_refused(storage, tree, put, expected):
    path = tree / KEY
    path.parent.mkdir(parents=True)
    if put is not None:
        put(path)
    if isinstance(expected, tuple):
        assert storage.read_small(KEY, LIMIT) == expected
    else:
        with pytest.raises(expected):
            storage.read_small(KEY, LIMIT)


@pytest.mark.parametrize("grown_by", [1, 70_000])
def test_a_file_that_grows_once_opened_is_read_to_its_end_or_refused_past_the_limit(storage, tree, monkeypatch,
                                                                                    grown_by):
    """A whole file is read through its descriptor up to where it ends when read (past the size it had when
    opened, in reads of READ_MORE), and a small one is refused once it holds more than its limit."""
    path = tree / KEY
    path.parent.mkdir(parents=True)
    path.write_bytes(b"x" * 10)
    opened = storage._open_fd

    def then_it_grows(key):
        found = opened(key)
        with open(path, "ab") as out:
            out.write(b"y" * grown_by)
        return found

    monkeypatch.setattr(storage, "_open_fd", then_it_grows)
    assert storage.read(KEY) == b"x" * 10 + b"y" * grown_by
    assert storage.read_with_stat(KEY)[0] == b"x" * 10 + b"y" * (grown_by * 2)
    if 10 + grown_by * 3 <= LIMIT:
        assert storage.read_small(KEY, LIMIT)[0] == b"x" * 10 + b"y" * (grown_by * 3)
    else:
        with pytest.raises(TooLarge):
            storage.read_small(KEY, LIMIT)
