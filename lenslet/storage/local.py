"""The tree on local disk.

Every verb maps its key to a real path and refuses anything that resolves
outside the root, so a symlink cannot lead out of the tree either. Internal state
(heartbeats, lock stripes, the queue) lives under the key prefix ".lenslet/",
which clean_path() never lets a client name; when the tree is read-only it and
the derived files go to a state folder outside the tree instead.
"""

import errno
import fcntl
import os
import secrets
import stat as stat_module

from ..errors import AlreadyExists, BadPath, BadRequest, ConfigError, Forbidden, NotFound, PreconditionFailed
from ..layout import DERIVED, LOCKS, STATE, TEMP_SUFFIX, is_state, join
from .base import HEAD_BYTES, Entry, ErrorMap, Slice, Stat, version_of
from .paths import check_key
from .watch import open_watch

LOCK_STRIPES = 64


class LocalStorage:
    """A folder tree on local disk."""

    backend = "local"
    folder_mtimes = True  # a folder's mtime moves when a file is added, removed or renamed in it

    def __init__(self, root, state_dir=None, readonly=False):
        if not os.path.isdir(root):
            if readonly:
                raise ConfigError(f"LENSLET_ROOT {root!r} does not exist", setting="LENSLET_ROOT")
            os.makedirs(root, exist_ok=True)
        self.root = os.path.realpath(root)
        self.readonly = readonly
        self.state_root = os.path.realpath(state_dir or os.path.join(self.root, STATE))
        self._tmpfile = True  # O_TMPFILE until the filesystem says it cannot

    def __repr__(self):
        return f"LocalStorage({self.root!r})"

    @property
    def identity(self):
        """What makes two storages the same tree (pointer loops are found by it)."""
        return ("local", self.root)

    # -- paths -------------------------------------------------------------

    def _fs(self, key):
        """Map a key to a real path inside the root (or the state folder), refusing escapes."""
        return self._walk(key, last=True)[0]

    def _walk(self, key, last):
        """Return (real path, lstat of the last segment or None), refusing escapes.

        Walks the key with lstat: without a symlink on the way the joined path is
        already real (keys hold no "..") and costs one lstat a level, where
        realpath() costs one a level from "/". A symlink takes the careful road.
        With last=False the final segment is not looked at: the caller opens it
        with O_NOFOLLOW, which refuses a symlink there (see _open_file).
        """
        check_key(key)
        if is_state(key):
            base, rest = self.state_root, key[len(STATE) + 1:]
        else:
            base, rest = self.root, key
        if not rest:
            return base, None
        parts = rest.split("/")
        path, st = base, None
        for part in parts if last else parts[:-1]:
            path = f"{path}/{part}"
            try:
                st = os.lstat(path)
            except (FileNotFoundError, NotADirectoryError):
                return f"{base}/{rest}", None  # nothing exists beyond here, so no link either
            if stat_module.S_ISLNK(st.st_mode):
                return self._resolve(base, rest, key), None
        return (path if last else f"{path}/{parts[-1]}"), st

    def _open_file(self, key):
        """Open a file for reading, refusing one whose path leaves the root."""
        path, _ = self._walk(key, last=False)
        try:
            return open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC), "rb")
        except OSError as ex:
            if ex.errno != errno.ELOOP:
                raise
        return open(self._fs(key), "rb")  # the file itself is a symlink: resolve and check it

    def _resolve(self, base, rest, key):
        real = os.path.realpath(os.path.join(base, rest))
        if real != base and os.path.commonpath((base, real)) != base:
            raise BadPath("path leads outside the gallery root", path=key)
        return real

    def inside(self, real):
        """Tell whether a real filesystem path lies inside the root."""
        return real == self.root or os.path.commonpath((self.root, real)) == self.root

    # -- reading -----------------------------------------------------------

    def list_folder(self, key):
        """List a folder in one pass: Entry(name, is_dir, size, mtime) for each child.

        Hidden entries (names starting with a dot) are listed by name and kind only,
        without the stat their size and time would cost.
        """
        entries = []
        append = entries.append
        with _mapped(key):
            with os.scandir(self._fs(key)) as scan:
                for item in scan:
                    name = item.name
                    try:
                        if name[0] == ".":
                            if name.endswith(TEMP_SUFFIX) and _sweep_temp(item.path, name):
                                continue
                            append(Entry(name, item.is_dir(), 0, 0.0))
                            continue
                        if item.is_symlink() and not self.inside(os.path.realpath(item.path)):
                            continue  # a link out of the tree is not part of it
                        st = item.stat()
                    except OSError:
                        continue  # vanished or dangling between readdir and stat
                    append(Entry(name, stat_module.S_ISDIR(st.st_mode), st.st_size, st.st_mtime))
        return entries

    def list_names(self, key, prefix=""):
        """Names of the files in a folder starting with prefix, sorted; no stat (the job queue's listing)."""
        try:
            with _mapped(key):
                return sorted(name for name in os.listdir(self._fs(key))
                              if name.startswith(prefix) and name[:1] != ".")
        except NotFound:
            return []

    def watch(self):
        """Change notices for the tree's folders (watch.Watch), or None where the system has none."""
        return open_watch(self._fs, self.root)

    def has_subfolders(self, key):
        """Tell whether a folder holds any folder, cheaply."""
        with _mapped(key):
            real = self._fs(key)
            links = os.stat(real).st_nlink
            if links >= 2:
                return links > 2  # ext4, xfs and tmpfs count each subfolder's ".." link
            with os.scandir(real) as scan:  # btrfs and others always say 1: look
                return any(item.is_dir() for item in scan)

    def stat(self, key):
        """Return Stat(size, mtime, is_dir, changed) of a file or folder."""
        with _mapped(key):
            path, st = self._walk(key, last=True)
            if st is None:  # a symlink was resolved, or the walk stopped early
                st = os.stat(path)
        return Stat(st.st_size, st.st_mtime, stat_module.S_ISDIR(st.st_mode), st.st_ctime)

    def exists(self, key):
        try:
            self.stat(key)
        except NotFound:
            return False
        return True

    def read(self, key):
        """Return the whole content of a file."""
        with _mapped(key):
            with self._open_file(key) as f:
                return f.read()

    def read_with_stat(self, key):
        """Return (content, Stat) of a file, read through one open handle."""
        with _mapped(key):
            with self._open_file(key) as f:
                st = os.fstat(f.fileno())
                return f.read(), Stat(st.st_size, st.st_mtime, False, st.st_ctime)

    def read_versioned(self, key):
        """Return (content, version), or (None, None) when the file does not exist."""
        try:
            data = self.read(key)
        except NotFound:
            return None, None
        return data, version_of(data)

    def open(self, key):
        """Open a file for streaming; the caller closes it."""
        with _mapped(key):
            return self._open_file(key)

    def open_seekable(self, key):
        """Open a file to read at offsets (the search rollup)."""
        return self.open(key)

    def open_head(self, key, size=HEAD_BYTES):
        """Open a file to read its header (seekable); local files are simply opened."""
        return self.open(key)

    def open_range(self, key, start, length):
        """Open a file to stream `length` bytes from `start`."""
        stream = self.open(key)
        stream.seek(start)
        return Slice(stream, length)

    def read_fresh(self, key, known):
        """Return (version, bytes): `known` (version, bytes) again while the file has not changed."""
        stat = self.stat(key)
        if known is not None and known[0] == stat:
            return known
        data, stat = self.read_with_stat(key)
        return stat, data

    # -- writing -----------------------------------------------------------

    def write(self, key, data, durable=True):
        """Replace a file atomically: a reader sees the old bytes or the new, never a mix.

        durable=False skips the fsync: for files lenslet can make again (thumbnails,
        manifests, reports), whose readers check what they read.
        """
        self._refuse_if_readonly(key)
        real = self._fs(key)
        with _mapped(key):
            self._land(real, data, exclusive=False, durable=durable)

    def create(self, key, data):
        """Create a file atomically, failing with AlreadyExists when it is there."""
        self._refuse_if_readonly(key)
        real = self._fs(key)
        with _mapped(key):
            try:
                self._land(real, data, exclusive=True)
            except FileExistsError:
                raise AlreadyExists("file exists", path=key) from None

    def replace_if(self, key, data, version):
        """Write only if the file is still at version (None: only if it does not exist)."""
        self._refuse_if_readonly(key)
        with self._locked(key):
            _, current = self.read_versioned(key)
            if current != version:
                raise PreconditionFailed("file changed since it was read", path=key, version=current)
            self.write(key, data)
        return version_of(data)

    def delete(self, key):
        """Remove a file."""
        self._refuse_if_readonly(key)
        with _mapped(key):
            os.unlink(self._fs(key))

    def delete_if(self, key, version):
        """Remove a file only if it is still at version."""
        self._refuse_if_readonly(key)
        with self._locked(key):
            _, current = self.read_versioned(key)
            if current != version:
                raise PreconditionFailed("file changed since it was read", path=key, version=current)
            if current is not None:
                self.delete(key)

    def update(self, key, change):
        """Read, change and write back a file so that no concurrent update is lost.

        change(old_bytes_or_None, old_version) returns the new bytes, or None to leave
        the file as it is. Returns (bytes, version) of what is stored afterwards.
        Local disk holds a cross-process lock for the whole read-change-write, so
        writers queue up instead of retrying; a backend without locks retries
        replace_if on the new bytes instead.
        """
        self._refuse_if_readonly(key)
        with self._locked(key):
            old, version = self.read_versioned(key)
            new = change(old, version)
            if new is None:
                return old, version
            self.write(key, new)
        return new, version_of(new)

    # -- derived files -----------------------------------------------------

    def derived_key(self, key):
        """Map a derived file (manifest, thumbnail) to where it lives: beside the image,
        or under the state folder when the tree is read-only."""
        return join(DERIVED, key) if self.readonly else key

    # -- what this backend can do for GET /file ---------------------------

    def accel_path(self, key):
        """The file's path below the root, for nginx to send (X-Accel-Redirect)."""
        return key

    def presign(self, key, seconds=300, content_type=None):
        """None: a local file has no URL of its own; lenslet sends the bytes."""
        return None

    # -- health ------------------------------------------------------------

    def probe(self):
        """Return whether the root can be read and written, without writing."""
        readable = os.access(self.root, os.R_OK | os.X_OK)
        writable = not self.readonly and os.access(self.root, os.W_OK)
        return {"backend": self.backend, "readable": readable, "writable": writable}

    # -- internals ---------------------------------------------------------

    def _refuse_if_readonly(self, key):
        if self.readonly and not is_state(key):
            raise Forbidden("lenslet is read-only (LENSLET_READONLY)", path=key)

    def _land(self, real, data, exclusive, durable=True):
        """Write data to a file no one can see, fsync it, then put it in place."""
        folder = os.path.dirname(real)
        os.makedirs(folder, exist_ok=True)
        fd, tmp = self._unnamed(folder)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if durable:
                os.fsync(fd)
            if tmp is None:
                # O_TMPFILE: the file has no name until it is linked, so a crash
                # before this line leaves nothing behind.
                if exclusive:
                    _link_unnamed(fd, real)
                    return
                tmp = _temp_name(folder)
                _link_unnamed(fd, tmp)
            if exclusive:
                os.link(tmp, real)
                os.unlink(tmp)
            else:
                os.replace(tmp, real)
            tmp = None
        finally:
            os.close(fd)
            if tmp is not None:
                _unlink_quietly(tmp)

    def _unnamed(self, folder):
        """Open a temp file in folder: unnamed (O_TMPFILE) where supported, else dot-named."""
        if self._tmpfile and hasattr(os, "O_TMPFILE"):
            try:
                return os.open(folder, os.O_TMPFILE | os.O_WRONLY, 0o644), None
            except OSError as ex:
                if ex.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                    raise
                self._tmpfile = False
        tmp = _temp_name(folder)
        return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), tmp

    def _locked(self, key):
        """Hold a cross-process lock for key (one of a fixed set of stripes)."""
        stripe = int(version_of(key.encode())[:8], 16) % LOCK_STRIPES
        # Straight to the state folder: no walk, the lock is taken on every write.
        return _FileLock(f"{self.state_root}{LOCKS[len(STATE):]}/{stripe:02d}.lock")


class _FileLock:
    """flock on a lock file: excludes other processes and other threads alike."""

    def __init__(self, path):
        self.path = path
        self.fd = None

    def __enter__(self):
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)  # closing drops the flock


class _mapped(ErrorMap):
    """OS errors, for the local backend."""

    def translate(self, ex):
        if isinstance(ex, FileNotFoundError):
            return NotFound("no such file or folder", path=self.key)
        if isinstance(ex, NotADirectoryError):
            return BadRequest("not a folder", path=self.key)
        if isinstance(ex, IsADirectoryError):
            return BadRequest("is a folder, not a file", path=self.key)
        if isinstance(ex, PermissionError):
            return Forbidden("permission denied by the file system", path=self.key)
        if isinstance(ex, OSError) and ex.errno == errno.ENAMETOOLONG:
            return BadPath("name too long", path=self.key)
        return None


def _link_unnamed(fd, target):
    """Give an O_TMPFILE file a name (linkat with AT_SYMLINK_FOLLOW through /proc)."""
    # Opened per call: a /proc/self handle kept across a fork would name the parent.
    proc = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.link(str(fd), target, src_dir_fd=proc, follow_symlinks=True)
    finally:
        os.close(proc)


def _temp_name(folder):
    # The writer's pid is in the name, so a temp file left by a killed writer can
    # be told from one being written right now (see _sweep_temp).
    return os.path.join(folder, f".{os.getpid()}-{secrets.token_hex(6)}{TEMP_SUFFIX}")


def _sweep_temp(path, name):
    """Remove a temp file whose writer is dead (killed between naming and renaming it)."""
    try:
        pid = int(name[1:].partition("-")[0])
        os.kill(pid, 0)
        return False  # its writer is alive: leave it be
    except ProcessLookupError:
        _unlink_quietly(path)
        return True
    except (ValueError, PermissionError):
        return False


def _unlink_quietly(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def real_folder(path):
    """Resolve a server folder named in a setting or a pointer file; None when it is not a folder."""
    real = os.path.realpath(path)
    return real if os.path.isdir(real) else None
