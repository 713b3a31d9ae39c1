"""What every storage backend shares: entries, stats, version tags and error mapping."""

import os
import tempfile
import threading
from collections import namedtuple
from contextlib import contextmanager

import blake3

from lenslet import metrics
from lenslet.errors import LensletError, NotFound, TooLarge

HEAD_BYTES = 256 * 1024  # enough for any image header lenslet reads, EXIF included

# Statuses of translated errors that are the storage's fault (refused, busy, down), not the
# request's (missing, bad name, lost race): these are counted as storage errors.
STORAGE_FAULTS = frozenset((403, 500, 503))

# version: what tells one write of a file from the next where a listing gives it cheaply (a bucket's
# ETag), else None (a disk: size and time only).
# link: the name is a symbolic link (on disk; a bucket has none): a listing marks it, so a scope looks where it leads.
Entry = namedtuple("Entry", "name is_dir size mtime version link", defaults=(None, False))
Stat = namedtuple("Stat", "size mtime is_dir changed")  # changed: ctime, when the file last got a name or new bytes


def version_of(data):
    """Return the version tag of a blob: the same bytes always give the same tag."""
    return blake3.blake3(data).hexdigest(length=16)


class Verbs:
    """What every backend does the same way on top of its own verbs."""

    def exists(self, key):
        """Whether a file or folder is there."""
        try:
            self.stat(key)
        except NotFound:
            return False
        return True

    def overwrite(self, key, data):
        """Give a small file new bytes of the same length, never durable: where a backend cannot
        change a file in place (a bucket), a write of the whole file."""
        self.write(key, data, durable=False)


# Image locks this thread holds: name -> [count, release]. Per thread, not per storage
# object, because two storage objects (a pointer mount, a second Tree) may name one lock.
_held = threading.local()


def process_alive(pid):
    """Whether a process of this machine is running (another user's too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, and is someone else's
    return True


@contextmanager
def holding(names, acquire):
    """Hold named locks, taken in one fixed (sorted) order so two holders never wait on each other.

    acquire(name) blocks until the lock is taken and returns its release. A thread
    that holds a name already takes it again for free, so an operation built of
    smaller locked ones (a trash records the origin, then moves) does not wait on itself.
    """
    held = _held.__dict__.setdefault("locks", {})
    mine = []
    try:
        for name in sorted(set(names)):
            if name not in held:
                held[name] = [0, acquire(name)]
            held[name][0] += 1
            mine.append(name)
        yield
    finally:
        for name in reversed(mine):
            held[name][0] -= 1
            if not held[name][0]:
                held.pop(name)[1]()


class ErrorMap:
    """A context that turns a backend's errors into lenslet errors carrying the key.

    Subclasses say how, in translate(): the lenslet error to raise, or None to let
    the original through.
    """

    def __init__(self, key):
        self.key = key

    def __enter__(self):
        return self

    def __exit__(self, kind, ex, tb):
        error = self.translate(ex) if kind is not None else None
        if kind is not None and (getattr(error, "status", None) in STORAGE_FAULTS if error is not None
                                 else not isinstance(ex, LensletError)):
            metrics.storage_error(type(error or ex).__name__)
        if error is None:
            return False
        raise error from None

    def translate(self, ex):
        raise NotImplementedError


class Slice:
    """Read at most `length` bytes of an open stream (a byte range), then stop."""

    def __init__(self, stream, length):
        self.stream = stream
        self.left = length

    def read(self, size=-1):
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = self.stream.read(size)
        self.left -= len(data)
        return data

    def close(self):
        self.stream.close()


def read_at(stream, offset, length):
    """Read bytes at an offset of an open file without moving it (safe across threads)."""
    return os.pread(stream.fileno(), length, offset)


CHUNK = 1024 * 1024  # bytes copied at a time from an upload


def copy_limited(stream, write, limit, head=b""):
    """Copy head (bytes the caller read first, to tell the type) then a stream to write() chunk by chunk,
    refusing (TooLarge) past limit bytes; return the size."""
    size, chunk = 0, head
    while True:
        chunk = chunk or stream.read(CHUNK)
        if not chunk:
            return size
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the file is larger than {limit} bytes (LENSLET_MAX_UPLOAD)", limit=limit)
        write(chunk)
        chunk = b""


def spool(stream, limit, head=b""):
    """Copy head and a stream into an unnamed temp file (never whole in memory); return it, rewound."""
    copy = tempfile.TemporaryFile()
    try:
        copy_limited(stream, copy.write, limit, head)
    except BaseException:
        copy.close()
        raise
    copy.seek(0)
    return copy
