"""What every storage backend shares."""

import os
import tempfile
import threading
from collections import namedtuple
from contextlib import contextmanager
from typing import Protocol

import blake3

from lenslet import metrics
from lenslet.errors import Foreign, LensletError, NotFound, TooLarge
from lenslet.layout import join

HEAD_BYTES = 256 * 1024  # enough for any image header, EXIF included

# Statuses that are the storage's fault, not the request's.
STORAGE_FAULTS = frozenset((403, 500, 503))

# version: an S3 ETag, or None on disk; link: the name is a symbolic link.
Entry = namedtuple("Entry", "name is_dir size mtime version link", defaults=(None, False))
# changed: ctime; tag: a bucket's ETag, since its times tell only the second
Stat = namedtuple("Stat", "size mtime is_dir changed tag", defaults=(None,))


def version_of(data):
    """Return a short content hash of data."""
    return blake3.blake3(data).hexdigest(length=16)


class Verbs:

    def exists(self, key):
        try:
            self.stat(key)
        except NotFound:
            return False
        return True

    def is_file(self, key):
        """Whether a file is at key; on S3 one request, where a missing one's exists() takes two."""
        try:
            return not self.stat(key).is_dir
        except NotFound:
            return False

    def overwrite(self, key, data):
        self.write(key, data, durable=False)

    def first_file(self, folder, names):
        """(name, Stat) of the first of names in folder that is a file, (name, Foreign) if another kind of
        entry holds it first, or None."""
        for name in names:
            try:
                return name, self.stat_file(join(folder, name))
            except NotFound:
                continue
            except Foreign as ex:
                return name, ex
        return None


# Locks this thread holds (name -> [count, release]); per thread, as two storages may share one.
_held = threading.local()


def process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's
    return True


@contextmanager
def holding(names, acquire):
    """Hold named locks, taken in sorted order so holders never deadlock; re-entrant within a thread."""
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
    """Turn a backend's errors into lenslet errors; translate() returns one, or None to re-raise."""

    def __init__(self, key):
        self.key = key

    def __enter__(self):
        return self

    def __exit__(self, kind, ex, tb):
        if kind is None:
            return False
        error = self.translate(ex)
        if error is None:
            if not isinstance(ex, LensletError):
                metrics.storage_error(type(ex).__name__)
            return False
        if getattr(error, "status", None) in STORAGE_FAULTS:
            metrics.storage_error(type(error).__name__)
        raise error from None

    def translate(self, ex):
        raise NotImplementedError


class Slice:
    """Read at most `length` bytes of a stream."""

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
    """Read without moving the file's position (safe across threads)."""
    return os.pread(stream.fileno(), length, offset)


CHUNK = 1024 * 1024


def copy_limited(stream, write, limit, head=b""):
    """Copy head, then the stream, to write(); TooLarge past limit. Return the size."""
    size, chunk = 0, head or stream.read(CHUNK)
    while chunk:
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the file is larger than {limit} bytes (LENSLET_MAX_UPLOAD)", limit=limit)
        write(chunk)
        chunk = stream.read(CHUNK)
    return size


def spool(stream, limit, head=b""):
    """Copy head and a stream into a temp file; return it, rewound."""
    copy = tempfile.TemporaryFile()
    try:
        copy_limited(stream, copy.write, limit, head)
    except BaseException:
        copy.close()
        raise
    copy.seek(0)
    return copy


class Storage(Protocol):
    """The verbs every backend offers; keys are POSIX paths relative to the root ("" is the root)."""

    backend: str         # "local" or "s3"
    folder_mtimes: bool  # a folder's mtime tells that its listing changed
    readonly: bool
    identity: tuple      # what makes two storages the same tree

    def list_folder(self, key) -> list: ...
    def list_names(self, key, prefix="") -> list: ...
    def watch(self): ...
    def has_subfolders(self, key) -> bool: ...
    def stat(self, key) -> Stat: ...
    def stat_image(self, key) -> Stat: """stat() of a known image, asked of the library directly."""
    def folder_version(self, key) -> tuple: """Times that move when a folder's names or settings change."""
    def stat_file(self, key) -> Stat: """Stat of a regular file, never through a link."""
    def first_file(self, folder, names) -> tuple: """(name, Stat or Foreign) of the first of names there."""
    def exists(self, key) -> bool: ...
    def is_file(self, key) -> bool: ...
    def identity_of(self, key) -> tuple: """What a file or folder is, whatever path reached it."""
    def read(self, key) -> bytes: ...
    def read_with_stat(self, key) -> tuple: ...
    def open_with_stat(self, key) -> tuple: ...
    def read_versioned(self, key) -> tuple: """(bytes, version), or (None, None) when missing."""
    def read_small(self, key, limit) -> tuple: """read_versioned() of a small state file."""
    def read_fresh(self, key, known) -> tuple: """(version, bytes), `known` again while unchanged."""
    def open(self, key): ...
    def open_seekable(self, key): ...
    def open_head(self, key, size=HEAD_BYTES): ...
    def open_range(self, key, start, length): ...
    def write(self, key, data, durable=True) -> None: ...
    def create(self, key, data, durable=True) -> None: ...
    def overwrite(self, key, data) -> None: """New bytes of the same length, in place where possible."""
    def sync(self, keys) -> None: """Make files written with durable=False durable."""
    def replace_if(self, key, data, version, durable=True): """Write only if still at version."""
    def delete(self, key) -> None: ...
    def delete_if(self, key, version) -> None: ...
    def update(self, key, change, durable=True) -> tuple: """Read-change-write, losing no concurrent update."""
    def lock_images(self, keys): ...
    def edits_under_way(self, folder) -> bool: ...
    def real_key(self, key) -> str: """The key of what is opened for key, links followed."""
    def key_of(self, other, key): """This tree's key for another storage's key, or None."""
    def derived_key(self, key) -> str: ...
    def derived_at(self, key) -> tuple: ...
    def root_file_key(self, name) -> str: ...
    def accel_path(self, key): ...
    def presign(self, key, seconds=300, content_type=None): ...
    def probe(self) -> dict: ...
    def rename(self, src, dst, resume=False, durable=True) -> None: """A new name, never replacing one."""
    def write_stream(self, key, stream, limit, replace=False, head=b"", renamed=None) -> str:
        """Stream to a file named when whole; return its key (renamed: a name taken meanwhile to the next)."""
    def make_folder(self, key) -> None: ...
    def remove_folder(self, key) -> None: ...
    def same(self, a, b) -> bool: """Whether two keys hold the same file."""
