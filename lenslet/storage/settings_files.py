"""Settings files outside any tree, such as the users file."""

import fcntl
import os
import stat as stat_module
import tempfile
from contextlib import contextmanager, suppress

from lenslet.errors import ConfigError, PreconditionFailed


def stat_of(path):
    """What tells a change of the file (inode, size, mtime), or None when there is none."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as ex:
        raise ConfigError(f"cannot look at {path}: {ex.strerror}") from None
    return found.st_ino, found.st_size, found.st_mtime_ns


def read_file(path, limit):
    """Read at most limit bytes of a regular file; return them with its stat_of()."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # a FIFO here must not block the open
    except OSError as ex:
        raise ConfigError(f"cannot read {path}: {ex.strerror}") from None
    try:
        found = os.fstat(fd)
        if not stat_module.S_ISREG(found.st_mode):
            raise ConfigError(f"{path} is not a regular file (a FIFO, socket, device or folder is never read)")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read(limit + 1)
    except OSError as ex:
        raise ConfigError(f"cannot read {path}: {ex.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise ConfigError(f"{path} is larger than {limit} bytes")
    return data, (found.st_ino, found.st_size, found.st_mtime_ns)


@contextmanager
def changing(path):
    """Hold the file's lock (a `.lock` file beside it) for a read-change-write."""
    try:
        fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as ex:
        raise ConfigError(f"cannot lock {path}: {ex.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def replace_file(path, data, expected=False):
    """Replace the file atomically, owner-only (it holds password hashes); refuse unless it still holds the bytes
    `expected` (None: absent). Bytes, not a stat: an edit in place may keep the inode, size and time."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, temp = tempfile.mkstemp(dir=folder, prefix=".lenslet-users-")
        try:
            with os.fdopen(fd, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            if expected is not False and not _holds(path, expected):
                raise PreconditionFailed(f"{path} changed since it was read")
            os.replace(temp, path)
        except BaseException:
            with suppress(OSError):
                os.unlink(temp)
            raise
    except OSError as ex:
        raise ConfigError(f"cannot write {path}: {ex.strerror}") from None


def _holds(path, expected):
    if stat_of(path) is None:
        return expected is None
    try:
        return expected is not None and read_file(path, len(expected))[0] == expected
    except ConfigError:
        return False  # grown past them, or no longer a regular file
