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
