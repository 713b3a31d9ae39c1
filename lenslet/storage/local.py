"""The tree on local disk, where no key reaches outside the root, even through a swapped-in link."""

import contextlib
import errno
import fcntl
import os
import secrets
import stat as stat_module
import time

from lenslet.errors import (
    AlreadyExists,
    BadPath,
    BadRequest,
    ConfigError,
    Conflict,
    Forbidden,
    Foreign,
    InsufficientStorage,
    LensletError,
    NotAFolder,
    NotFound,
    PreconditionFailed,
    TooLarge,
    Unavailable,
)
from lenslet.health import disk_full
from lenslet.layout import DERIVED, LOCKS, ROOT_FILES, STATE, TEMP_SUFFIX, is_internal, is_state, is_xmp, join, name_of
from lenslet.storage.base import (
    HEAD_BYTES,
    Entry,
    ErrorMap,
    Slice,
    Stat,
    Verbs,
    copy_limited,
    holding,
    process_alive,
    version_of,
)
from lenslet.storage.mounts import mount_holding, mount_points, mounted
from lenslet.storage.paths import check_key
from lenslet.storage.watch import open_watch

LOCK_STRIPES = 64
EDITS = "edits-"  # a folder's lock of edits under way
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: a FIFO must not block the open (fstat refuses it next).
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
MAX_ODD_NAMES = 200
ROOT_RETRY_AFTER = 10
READ_MORE = 1 << 16  # bytes per read past a file's size at open
RESOLVE_TRIES = 3


class LocalStorage(Verbs):

    backend = "local"
    folder_mtimes = True

    ROOT_CHECK_EVERY = 1.0

    def __init__(self, root, state_dir=None, readonly=False, lock_dir=None, create=True, mounts=mount_points,
                 state_tree=False):
        if not os.path.isdir(root):
            if os.path.exists(root):
                raise ConfigError(f"LENSLET_ROOT {root!r} is not a folder", setting="LENSLET_ROOT", root=root,
                                  problem="not a folder")
            if readonly or not create:
                # A typo must not quietly become an empty gallery.
                raise ConfigError(f"LENSLET_ROOT {root!r} does not exist; create it, or set "
                                  "LENSLET_CREATE_ROOT=true (lenslet serve --create) to have lenslet create it",
                                  setting="LENSLET_ROOT", root=root, problem="missing")
            os.makedirs(root, exist_ok=True)
        self.root = os.path.realpath(root)
        self.identity = ("local", self.root)
        self.readonly = readonly
        self.state_tree = state_tree
        self.reserved = []  # lenslet's names taken by others
        own_state = os.path.join(self.root, STATE)
        if state_dir is None and os.path.lexists(own_state) and \
                (os.path.islink(own_state) or not os.path.isdir(own_state)):
            # someone else's file holds the name .lenslet: the tree's state goes to the user's cache
            state_dir = os.path.join(user_cache(), "displaced", version_of(self.root.encode()))
            self.reserved.append(STATE)
        self.state_root = os.path.realpath(state_dir or own_state)
        # Locks are by file, not path: a grafted pointer tree shares its host's lock folder.
        self.lock_dir = lock_dir or f"{self.state_root}{LOCKS[len(STATE):]}"
        self.odd_names = {}
        self.full_at = None   # when a write last failed for want of space
        self._tmpfile = True  # O_TMPFILE until the filesystem says it cannot
        # While the root's mount at start is gone, verbs answer Unavailable, not "no images".
        self.mounts = mounts
        self.mount = mount_holding(self.root, mounts())
        self.state_in_tree = _within(self.state_root, self.root)
        self.root_checked = (float("-inf"), None)

    def __repr__(self):
        return f"LocalStorage({self.root!r})"

    # -- paths

    def _fs(self, key):
        """Map a key to a real path inside the root or state folder, refusing escapes."""
        return self._walk(key, last=True)[0]

    def _walk(self, key, last):
        """Return (real path, lstat of the last segment or None), refusing escapes; last=False skips the last."""
        check_key(key)
        if is_state(key):
            base, rest = self.state_root, key[len(STATE) + 1:]
            if self.state_in_tree:
                self.check_root()
        else:
            base, rest = self.root, key
            self.check_root()
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
                if self.state_tree:
                    # lenslet makes no link in a state root: one there is never followed.
                    raise NotAFolder("a link holds a folder's place in the state root; lenslet never follows it",
                                     path=key)
                return self._resolve(base, rest, key), None
        return (path if last else f"{path}/{parts[-1]}"), st

    def _open_fd(self, key):
        """Open a regular file: (fd, fstat); a link named like a file lenslet writes is never followed (Foreign)."""
        path, _ = self._walk(key, last=False)
        try:
            fd = os.open(path, _READ_FLAGS)
        except OSError as ex:
            if ex.errno != errno.ELOOP:
                raise
            if is_internal(name_of(key)) or is_xmp(name_of(key)) or is_state(key):
                raise Foreign("a symlink holds the name of a file lenslet may write; it is never followed",
                              path=key) from None
            fd = os.open(self._fs(key), _READ_FLAGS & ~os.O_NOFOLLOW)
        try:
            st = os.fstat(fd)
            if not stat_module.S_ISREG(st.st_mode):
                raise Foreign("not a regular file (a FIFO, socket or device is never read)", path=key)
            self._check_opened(fd, key)
        except BaseException:
            os.close(fd)
            raise
        return fd, st

    def _read_whole(self, key, limit=None):
        """Return (content, fstat) of a file, read through its descriptor; TooLarge past limit."""
        fd, st = self._open_fd(key)
        with _closing(fd):
            if limit is not None and st.st_size > limit:
                raise TooLarge(f"the file is larger than {limit} bytes", path=key, limit=limit)
            parts, got, want = [], 0, st.st_size + 1  # a byte more than its size: a short read says it ended
            while True:
                if limit is not None:
                    want = min(want, limit + 1 - got)
                chunk = os.read(fd, want) if want > 0 else b""
                if not chunk:
                    break
                parts.append(chunk)
                got += len(chunk)
                if got == st.st_size and len(chunk) < want:
                    break
                want = READ_MORE
        if limit is not None and got > limit:  # it grew between the look and the read
            raise TooLarge(f"the file is larger than {limit} bytes", path=key, limit=limit)
        return (parts[0] if len(parts) == 1 else b"".join(parts)), st

    def _check_opened(self, fd, key):
        """Refuse an opened file that lies outside the root (a folder swapped for a link meanwhile)."""
        try:
            real = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            return  # no /proc: the walk's check stands alone
        if not (self.inside(real) or _within(real, self.state_root)):
            raise BadPath("path leads outside the gallery root", path=key)

    @contextlib.contextmanager
    def _in_parent(self, key, create=False):
        """Yield (fd, name) of key's folder beneath the root, its errors mapped, the folder closed after."""
        with _mapped(key, self):
            fd, name = self._parent_fd(key, create=create)
            with _closing(fd):
                yield fd, name

    def _parent_fd(self, key, create=False):
        """Open the folder holding key beneath the root, never through a link; return (fd, name) for *at calls."""
        folder, name = _file_key(key)
        base = self.state_root if is_state(key) else self.root
        real = self._fs(folder)
        parts = real[len(base) + 1:].split("/") if real != base else []
        try:
            fd = os.open(base, _DIR_FLAGS)
        except FileNotFoundError:
            if not create:
                raise
            os.makedirs(base, exist_ok=True)
            fd = os.open(base, _DIR_FLAGS)
        try:
            for part in parts:
                try:
                    step = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(part, 0o755, dir_fd=fd)
                    step = os.open(part, _DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = step
        except OSError as ex:
            os.close(fd)
            if ex.errno in (errno.ELOOP, errno.ENOTDIR):
                raise Foreign("a folder on the path is a link or a file (changed while lenslet wrote?)",
                              path=key) from None
            raise
        return fd, name

    def real_key(self, key):
        with _mapped(key):
            return self.key_at(self._fs(key))

    def key_at(self, real):
        """The key of a real path inside the tree, or None outside it (or in the state folder)."""
        if not self.inside(real):
            return None
        return "" if real == self.root else real[len(self.root) + 1:]

    def key_of(self, other, key):
        if not isinstance(other, LocalStorage):
            return None
        return self.key_at(f"{other.root}/{key}" if key else other.root)

    def identity_of(self, key):
        with _mapped(key):
            st = self._stat_followed(key)
        return st.st_dev, st.st_ino

    def _resolve(self, base, rest, key):
        for _ in range(RESOLVE_TRIES):
            try:
                real = os.path.realpath(os.path.join(base, rest))
                break
            except OSError as ex:
                # a link swapped for a file meanwhile (EINVAL): follow the path again
                if ex.errno != errno.EINVAL:
                    raise
        else:  # never in one place long enough to be found
            raise NotFound("no such file or folder: the path kept changing while it was followed", path=key)
        if not (self.inside(real) if base == self.root else _within(real, base)):
            raise BadPath("path leads outside the gallery root", path=key)
        return real

    def unavailable(self):
        """Why the tree cannot be reached now (root folder or its mount gone), or None."""
        checked_at, problem = self.root_checked
        now = time.monotonic()
        if now - checked_at < self.ROOT_CHECK_EVERY:
            return problem
        if not os.path.isdir(self.root):
            problem = "the gallery root folder is missing (a network share unmounted, a disk gone?)"
        elif not mounted(self.mount, self.mounts()):
            problem = f"the file system that held the gallery at {self.mount} is no longer mounted"
        else:
            problem = None
        self.root_checked = (now, problem)
        return problem

    def check_root(self):
        problem = self.unavailable()
        if problem is not None:
            raise Unavailable(f"storage unavailable: {problem}", retry_after=ROOT_RETRY_AFTER)

    def inside(self, real):
        """Whether a real path lies inside the root and not in the state folder, where no link may lead."""
        return _within(real, self.root) and not _within(real, self.state_root)

    # -- reading

    def list_folder(self, key):
        """List a folder in one pass; hidden entries get no stat."""
        entries, odd = [], []
        append = entries.append
        with _mapped(key), os.scandir(self._fs(key)) as scan:
            for item in scan:
                name = item.name
                if not name.isascii() and not is_utf8(name):
                    odd.append(name.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
                    continue  # no key can name it: reported in health
                try:
                    if name[0] == ".":
                        # A read-only tree is never written, not even to sweep up temp files.
                        if name.endswith(TEMP_SUFFIX) and not self.readonly and _sweep_temp(item.path, name):
                            continue
                        append(Entry(name, item.is_dir(), 0, 0.0))
                        continue
                    link = item.is_symlink()
                    if link and (is_internal(name) or not self.inside(os.path.realpath(item.path))):
                        continue  # a link out of the tree, or named like lenslet's file, is not listed
                    st = item.stat()
                    is_dir = stat_module.S_ISDIR(st.st_mode)
                    if link and is_dir:
                        # the link's own time: one back up (2024/self -> .) would change with each write
                        st = item.stat(follow_symlinks=False)
                except OSError:
                    continue
                if is_dir or stat_module.S_ISREG(st.st_mode):
                    append(Entry(name, is_dir, st.st_size, st.st_mtime, None, link))
        if not odd:
            self.odd_names.pop(key, None)
        elif len(self.odd_names) < MAX_ODD_NAMES:
            self.odd_names[key] = odd[:MAX_ODD_NAMES]
        return entries

    def list_names(self, key, prefix=""):
        try:
            with _mapped(key):
                return sorted(name for name in os.listdir(self._fs(key))
                              if name.startswith(prefix) and name[:1] != ".")
        except NotFound:
            return []

    def watch(self):
        return open_watch(self._fs, self.root)

    def has_subfolders(self, key):
        with _mapped(key):
            real = self._fs(key)
            links = os.stat(real).st_nlink
            if links >= 2:
                return links > 2  # ext4, xfs and tmpfs count each subfolder's ".." link
            with os.scandir(real) as scan:  # btrfs and others always say 1: look
                return any(item.is_dir() for item in scan)

    def stat(self, key):
        with _mapped(key):
            st = self._stat_followed(key)
        return Stat(st.st_size, st.st_mtime, stat_module.S_ISDIR(st.st_mode), st.st_ctime)

    stat_image = stat

    def folder_version(self, key):
        return (self.stat(key).mtime,)

    def stat_file(self, key):
        with _mapped(key):
            path, _ = self._walk(key, last=False)
            st = os.lstat(path)
        if not stat_module.S_ISREG(st.st_mode):
            raise Foreign(f"a {_kind(st.st_mode)} holds this name; lenslet never follows, reads or writes through it",
                          path=key)
        return Stat(st.st_size, st.st_mtime, False, st.st_ctime)

    def read(self, key):
        with _mapped(key):
            return self._read_whole(key)[0]

    def read_with_stat(self, key):
        with _mapped(key):
            data, st = self._read_whole(key)
            return data, Stat(st.st_size, st.st_mtime, False, st.st_ctime)

    def open_with_stat(self, key):
        with _mapped(key):
            fd, st = self._open_fd(key)
            return open(fd, "rb"), Stat(st.st_size, st.st_mtime, False, st.st_ctime)

    def read_versioned(self, key):
        try:
            data = self.read(key)
        except NotFound:
            return None, None
        return data, version_of(data)

    def read_small(self, key, limit):
        try:
            with _mapped(key):
                try:
                    data, _ = self._read_whole(key, limit)
                except OSError as ex:
                    if ex.errno != errno.ENXIO:
                        raise
                    raise Foreign("not a regular file (a socket is never read)", path=key) from None
        except NotFound:
            return None, None
        return data, version_of(data)

    def open(self, key):
        with _mapped(key):
            return open(self._open_fd(key)[0], "rb")

    open_seekable = open

    def open_head(self, key, size=HEAD_BYTES):
        return self.open(key)

    def open_range(self, key, start, length):
        stream = self.open(key)
        stream.seek(start)
        return Slice(stream, length)

    def read_fresh(self, key, known):
        stat = self.stat(key)
        if known is not None and known[0] == stat:
            return known
        data, stat = self.read_with_stat(key)
        return stat, data

    # -- writing

    def write(self, key, data, durable=True):
        """Replace a file atomically; durable=False skips the fsync, for files lenslet can make again."""
        self._refuse_if_readonly(key)
        with self._in_parent(key, create=self._makes_folders(key)) as (fd, name):
            self._land(fd, name, key, data, exclusive=False, durable=durable)

    def overwrite(self, key, data):
        """Give a marker new bytes of the same length in place, else write(); a reader may see a mix, a new mark."""
        self._refuse_if_readonly(key)
        with self._in_parent(key, create=self._makes_folders(key)) as (fd, name):
            try:
                # O_NOFOLLOW: never write through a link; O_NONBLOCK: never wait on a FIFO.
                file = os.open(name, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=fd)
            except OSError:
                file = None
            if file is not None:
                with _closing(file):
                    st = os.fstat(file)
                    # A file of other names too (a hard link to a photo) is never changed in place.
                    if stat_module.S_ISREG(st.st_mode) and st.st_nlink == 1 and st.st_size == len(data):
                        os.pwrite(file, data, 0)
                        return
            self._land(fd, name, key, data, exclusive=False, durable=False)

    def create(self, key, data, durable=True):
        self._refuse_if_readonly(key)
        with self._in_parent(key, create=self._makes_folders(key)) as (fd, name):
            try:
                self._land(fd, name, key, data, exclusive=True, durable=durable)
            except FileExistsError:
                raise AlreadyExists("file exists", path=key) from None

    def replace_if(self, key, data, version, durable=True):
        """Write only if still at version (None: absent); checked again after the swap, so no write is lost."""
        self._refuse_if_readonly(key)
        with self._locked(key):
            self._unchanged(key, version)
            with self._in_parent(key, create=self._makes_folders(key)) as (fd, name):
                try:
                    # None: take the name only if free; _swap_in checks again
                    self._land(fd, name, key, data, exclusive=version is None, durable=durable, replacing=version)
                except FileExistsError:
                    raise PreconditionFailed("file appeared since it was read", path=key) from None
        return version_of(data)

    def delete(self, key):
        self._refuse_if_readonly(key)
        with self._in_parent(key) as (fd, name):
            _refuse_foreign(fd, name, key, missing_ok=False)
            os.unlink(name, dir_fd=fd)  # the name itself: never what a link points to

    def delete_if(self, key, version):
        self._refuse_if_readonly(key)
        with self._locked(key):
            self._unchanged(key, version)
            if version is not None:
                self.delete(key)

    def _unchanged(self, key, version):
        _, current = self.read_versioned(key)
        if current != version:
            raise PreconditionFailed("file changed since it was read", path=key, version=current)

    def update(self, key, change, durable=True):
        """Read, change and write back a file under a cross-process lock."""
        self._refuse_if_readonly(key)
        with _mapped(key, self), self._locked(key):
            old, version = self.read_versioned(key)
            new = change(old, version)
            if new is None:
                return old, version
            self.write(key, new, durable)
        return new, version_of(new)

    def sync(self, keys):
        for key in keys:
            try:
                with _mapped(key, self):
                    fd = os.open(self._fs(key), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            except NotFound:
                continue
            with _closing(fd):
                os.fsync(fd)

    # -- derived files

    def derived_key(self, key):
        """Where a derived file lives: beside the image, or in the state folder when read-only."""
        return join(DERIVED, key) if self.readonly else key

    def derived_at(self, key):
        return self, self.derived_key(key)

    def root_file_key(self, name):
        """Where one of lenslet's root files lives: beside the images, or in the state folder when another holds it."""
        key = self.derived_key(name)
        try:
            mode = self._lstat_beneath(key)[2]
        except NotFound:
            return key
        return key if stat_module.S_ISREG(mode) else join(STATE, name)

    # -- GET /file

    def accel_path(self, key):
        return key

    def presign(self, key, seconds=300, content_type=None):
        return None

    # -- health

    def probe(self):
        problem = self.unavailable()
        readable = problem is None and os.access(self.root, os.R_OK | os.X_OK)
        writable = readable and not self.readonly and os.access(self.root, os.W_OK)
        try:
            fs = os.statvfs(self.root)
            free = fs.f_bavail * fs.f_frsize, fs.f_favail if fs.f_files else None  # None: no count of files kept
        except OSError:
            free = None, None
        full = not self.readonly and disk_full(*free, self.full_at)
        # The root folder's name, never its path.
        report = {"backend": self.backend, "readable": readable, "writable": writable and not full,
                  "name": os.path.basename(self.root) or self.root}
        told = {"unavailable": problem, "diskFull": bool(full),  # each only when there is something to tell
                "reservedNames": self.reserved + sorted(name for name in ROOT_FILES if self._held(name)),
                "undecodableNames": dict(list(self.odd_names.items())[:MAX_ODD_NAMES])}
        report.update((name, value) for name, value in told.items() if value)
        return report

    def _held(self, name):
        try:
            return self.root_file_key(name) != self.derived_key(name)
        except LensletError:
            return False

    # -- internals

    def _refuse_if_readonly(self, key):
        if self.readonly and not is_state(key):
            raise Forbidden("lenslet is read-only (LENSLET_READONLY)", path=key)

    def _land(self, folder_fd, name, key, data, exclusive, durable=True, replacing=None, renamed=None):
        """Write data (bytes, or a writer given the fd) to an unseen file, fsync it, then name it (see _swap_in);
        return the name. With renamed (a name to the next), a name taken meanwhile is given up for the next."""
        _refuse_foreign(folder_fd, name, key)
        fd, tmp = self._unnamed(folder_fd)
        try:
            if callable(data):
                data(fd)
            else:
                _write_all(fd, data)
            if durable:
                os.fsync(fd)
            if tmp is None:
                # O_TMPFILE: no name until linked, so a crash leaves nothing behind
                if exclusive:
                    return _link_free(lambda new: _link_unnamed(fd, folder_fd, new), name, renamed)
                tmp = _temp_name()
                _link_unnamed(fd, folder_fd, tmp)
            if exclusive:
                name = _link_free(lambda new: os.link(tmp, new, src_dir_fd=folder_fd, dst_dir_fd=folder_fd,
                                                      follow_symlinks=False), name, renamed)
                os.unlink(tmp, dir_fd=folder_fd)
            elif replacing is not None and self._swap_in(folder_fd, tmp, name, key, replacing):
                pass
            elif durable or not _take_name(folder_fd, tmp, name):
                # rename() replaces a link put there meanwhile, never follows it.
                os.replace(tmp, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
            tmp = None
            return name
        finally:
            os.close(fd)
            if tmp is not None:
                _unlink_quietly(tmp, folder_fd)

    def _swap_in(self, folder_fd, tmp, name, key, replacing):
        """Take the name by an exchange, then check what it replaced is at `replacing`, else swap back and refuse.
        False where names cannot be exchanged."""
        ours = _identity(os.stat(tmp, dir_fd=folder_fd, follow_symlinks=False))
        seen = self._looked_at(folder_fd, name)
        if seen is None or seen[1] != replacing:
            raise PreconditionFailed("file changed since it was read", path=key, version=seen and seen[1])
        try:
            if not _exchange(folder_fd, tmp, name):
                return False
        except FileNotFoundError:
            raise PreconditionFailed("file removed since it was read", path=key) from None
        if self._looked_at(folder_fd, tmp) == seen:  # the bytes too: a stat can match a file rewritten in place
            _unlink_quietly(tmp, folder_fd)
            return True
        _exchange(folder_fd, tmp, name)
        if _identity_at(folder_fd, tmp) != ours:
            _exchange(folder_fd, tmp, name)  # written again over ours meanwhile: their newest keeps the name
        _unlink_quietly(tmp, folder_fd)
        found = self._looked_at(folder_fd, name)
        raise PreconditionFailed("file changed since it was read", path=key, version=found and found[1])

    @staticmethod
    def _looked_at(folder_fd, name):
        """(identity, version) of a regular file in an open folder, or None."""
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder_fd)
        except OSError:
            return None
        with _closing(fd):
            st = os.fstat(fd)
            if not stat_module.S_ISREG(st.st_mode):
                return None
            return _identity(st), version_of(b"".join(iter(lambda: os.read(fd, 1 << 20), b"")))

    def _unnamed(self, folder_fd):
        if self._tmpfile and hasattr(os, "O_TMPFILE"):
            try:
                return os.open(".", os.O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, 0o644, dir_fd=folder_fd), None
            except OSError as ex:
                if os.fstat(folder_fd).st_nlink == 0:
                    raise FileNotFoundError(errno.ENOENT, "the folder was removed meanwhile") from None
                if ex.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                    raise
                self._tmpfile = False
        tmp = _temp_name()
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        return os.open(tmp, flags, 0o644, dir_fd=folder_fd), tmp

    def _locked(self, key):
        """Hold a cross-process lock for a file, striped by its folder's device and inode and its name."""
        folder_key, name = _file_key(key)
        try:
            folder = self._stat_followed(folder_key)
        except (FileNotFoundError, NotADirectoryError):
            if not self._makes_folders(key):  # no other path can name it yet
                folder = None
            else:  # made now, so every writer names it by the same device and inode
                with _closing(self._parent_fd(key, create=True)[0]) as fd:
                    folder = os.fstat(fd)
        stripe = _stripe(f"missing:{key}" if folder is None else f"{folder.st_dev}:{folder.st_ino}/{name}")
        return _FileLock(f"{self.lock_dir}/{stripe:02d}.lock")

    def _stat_followed(self, key):
        path, st = self._walk(key, last=True)
        return os.stat(path) if st is None else st

    def lock_images(self, keys):
        """Hold the locks of images (or folders) for a change; taken before any file lock, never while one is held."""
        return holding([lock for key in keys for lock in self._image_locks(key)], _flock)

    def _image_locks(self, key):
        """The image's lock, and its folder's shared lock of edits under way."""
        folder, name = key.rpartition("/")[::2]
        try:
            with _mapped(key):
                found = self._stat_followed(folder)
            where = f"{found.st_dev}:{found.st_ino}"
        except LensletError:
            where = folder  # a folder not made yet: named by its path
        return (f"{self.lock_dir}/image-{_stripe(f'{where}/{name}'):02d}.lock",
                f"{self.lock_dir}/{EDITS}{_stripe(where):02d}.lock")

    def edits_under_way(self, folder):
        """Whether a change under lock_images is under way in a folder (or one sharing its stripe)."""
        try:
            with _mapped(folder):
                found = self._stat_followed(folder)
            fd = os.open(f"{self.lock_dir}/{EDITS}{_stripe(f'{found.st_dev}:{found.st_ino}'):02d}.lock",
                         os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
        except (LensletError, OSError):
            return False
        with _closing(fd):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            return False

    # -- file management

    def rename(self, src, dst, resume=False, durable=True):
        """Rename a file or folder, never replacing one; durable=False leaves it to a later fsync."""
        self._refuse_if_readonly(src)
        self._refuse_if_readonly(dst)
        with self._in_parent(src) as (old_fd, old):
            new_fd, new = self._parent_fd(dst, create=True)
            with _closing(new_fd):
                is_dir = stat_module.S_ISDIR(os.stat(old, dir_fd=old_fd, follow_symlinks=False).st_mode)
                try:
                    if is_dir:
                        _rename_noreplace(old_fd, old, new_fd, new)
                    else:
                        # link, then unlink: a crash leaves the file under both names, never neither
                        os.link(old, new, src_dir_fd=old_fd, dst_dir_fd=new_fd, follow_symlinks=False)
                        os.unlink(old, dir_fd=old_fd)
                except FileExistsError:
                    raise AlreadyExists("the target exists", path=dst) from None
                if durable:
                    os.fsync(new_fd)  # the new name survives a power cut

    def write_stream(self, key, stream, limit, replace=False, head=b"", renamed=None):
        self._refuse_if_readonly(key)
        with self._in_parent(key, create=self._makes_folders(key)) as (fd, name):  # a late write makes no ghost
            try:
                name = self._land(fd, name, key, lambda out: copy_limited(stream, lambda chunk: _write_all(out, chunk),
                                                                          limit, head), exclusive=not replace,
                                  renamed=renamed)
                return f"{key.rpartition('/')[0]}/{name}".lstrip("/")
            except FileExistsError:
                raise AlreadyExists("file exists", path=key) from None

    def make_folder(self, key):
        self._refuse_if_readonly(key)
        with self._in_parent(key) as (fd, name):
            try:
                os.mkdir(name, 0o755, dir_fd=fd)
            except FileExistsError:
                raise AlreadyExists("the folder exists", path=key) from None

    def remove_folder(self, key):
        """Remove an empty folder; the state folder itself is removed wherever it lies."""
        self._refuse_if_readonly(key)
        with _mapped(key, self):
            fd, name = self._parent_fd(key) if key != STATE else \
                (os.open(os.path.dirname(self.state_root), _DIR_FLAGS), os.path.basename(self.state_root))
            with _closing(fd):
                try:
                    os.rmdir(name, dir_fd=fd)
                except OSError as ex:
                    if ex.errno in (errno.ENOTEMPTY, errno.EEXIST):
                        raise Conflict("the folder is not empty", path=key) from None
                    raise

    def _makes_folders(self, key):
        """Whether writing key makes its missing folders: only in the state folder (or a state root's tree), so a
        late write makes no ghost."""
        return self.state_tree or is_state(key)

    def same(self, a, b):
        return self._lstat_beneath(a)[:2] == self._lstat_beneath(b)[:2]

    def _lstat_beneath(self, key):
        with self._in_parent(key) as (fd, name):
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        return st.st_dev, st.st_ino, st.st_mode


def _file_key(key):
    check_key(key)
    folder, _, name = key.rpartition("/")
    if not name:
        raise BadPath("a file key needs a name", path=key)
    return folder, name


@contextlib.contextmanager
def _closing(fd):
    try:
        yield fd
    finally:
        os.close(fd)


class _FileLock:
    """flock on a lock file, excluding other processes and threads alike."""

    def __init__(self, path, shared=False):
        self.path = path
        self.shared = shared

    def __enter__(self):
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)  # closing drops the flock


def _flock(path):
    lock = _FileLock(path, shared=os.path.basename(path).startswith(EDITS)).__enter__()
    return lambda: lock.__exit__(None, None, None)


def _within(real, folder):
    """Whether a real path is folder or beneath it (both real, so a prefix compare suffices)."""
    return real == folder or real.startswith(folder if folder.endswith("/") else folder + "/")


def _stripe(ident):
    return int(version_of(ident.encode("utf-8", "surrogateescape"))[:8], 16) % LOCK_STRIPES


_OS_ERRORS = ((FileNotFoundError, NotFound, "no such file or folder"), (NotADirectoryError, NotAFolder, "not a folder"),
              (IsADirectoryError, BadRequest, "is a folder, not a file"),
              (PermissionError, Forbidden, "permission denied by the file system"))


class _mapped(ErrorMap):

    def __init__(self, key, storage=None):
        super().__init__(key)
        self.storage = storage

    def translate(self, ex):
        if isinstance(ex, OSError) and ex.errno in (errno.ENOSPC, errno.EDQUOT):
            if self.storage is not None:
                self.storage.full_at = time.monotonic()
            return InsufficientStorage("the disk is full (or over quota): nothing was written", path=self.key)
        for kind, error, message in _OS_ERRORS:
            if isinstance(ex, kind):
                return error(message, path=self.key)
        if isinstance(ex, OSError) and ex.errno == errno.ENAMETOOLONG:
            return BadPath("name too long", path=self.key)
        return None


def _link_free(link, name, renamed):
    """Link under name or, with renamed, under the next name while one is taken; return the name linked."""
    for _ in range(100):
        try:
            link(name)
            return name
        except FileExistsError:
            if renamed is None:
                raise
            name = renamed(name)
    raise FileExistsError(errno.EEXIST, "no free name", name)


def _link_unnamed(fd, folder_fd, name):
    os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=folder_fd, follow_symlinks=True)


def _refuse_foreign(folder_fd, name, key, missing_ok=True):
    try:
        st = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
    except FileNotFoundError:
        if missing_ok:
            return
        raise
    if not stat_module.S_ISREG(st.st_mode):
        raise Foreign(f"a {_kind(st.st_mode)} holds this name; lenslet never writes through it or removes it",
                      path=key)


def _kind(mode):
    if stat_module.S_ISLNK(mode):
        return "symlink"
    return "folder" if stat_module.S_ISDIR(mode) else "FIFO" if stat_module.S_ISFIFO(mode) else "special file"


def is_utf8(name):
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _temp_name():
    # The writer's pid tells a dead writer's leftover from a file being written.
    return f".{os.getpid()}-{secrets.token_hex(6)}{TEMP_SUFFIX}"


def _sweep_temp(path, name):
    try:
        pid = int(name[1:].partition("-")[0])
    except ValueError:
        return False
    if process_alive(pid):
        return False
    _unlink_quietly(path)
    return True


def _write_all(fd, chunk):
    view = memoryview(chunk)
    while view:
        view = view[os.write(fd, view):]


RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2
_renameat2 = []


def _identity(st):
    """Inode, size and mtime: what tells most changes of a file without reading it (not all: see _swap_in)."""
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _identity_at(folder_fd, name):
    try:
        return _identity(os.stat(name, dir_fd=folder_fd, follow_symlinks=False))
    except OSError:
        return None


def _renameat2_error(old_fd, old, new_fd, new, flags):
    import ctypes
    if not _renameat2:
        _renameat2.append(getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None))
    call = _renameat2[0]
    if call is None:
        return errno.ENOSYS
    return 0 if call(old_fd, os.fsencode(old), new_fd, os.fsencode(new), flags) == 0 else ctypes.get_errno()


def _exchange(folder_fd, one, other):
    """Swap two names in an open folder: True, or False where unsupported (NFS, SMB, FUSE)."""
    code = _renameat2_error(folder_fd, one, folder_fd, other, RENAME_EXCHANGE)
    if code == 0:
        return True
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), other) if code != errno.ENOENT else FileNotFoundError(code, "gone", other)


def _take_name(folder_fd, tmp, name):
    """Give tmp a name another file holds by an exchange, removing the old; False where a rename must.
    Remakeable files only: ext4 writes a file renamed over another out at once."""
    try:
        if not _exchange(folder_fd, tmp, name):
            return False
    except FileNotFoundError:
        return False
    if stat_module.S_ISDIR(os.stat(tmp, dir_fd=folder_fd, follow_symlinks=False).st_mode):
        _exchange(folder_fd, tmp, name)  # a folder put there meanwhile: never removed
        return False
    os.unlink(tmp, dir_fd=folder_fd)  # the old file, or what was put there meanwhile
    return True


def _rename_noreplace(old_fd, old, new_fd, new):
    code = _renameat2_error(old_fd, old, new_fd, new, RENAME_NOREPLACE)
    if code == 0:
        return
    if code == errno.EEXIST:
        raise FileExistsError(code, os.strerror(code), new)
    if code not in (errno.ENOSYS, errno.EINVAL):
        raise OSError(code, os.strerror(code), old)
    try:
        os.stat(new, dir_fd=new_fd, follow_symlinks=False)
    except FileNotFoundError:
        os.rename(old, new, src_dir_fd=old_fd, dst_dir_fd=new_fd)
        return
    raise FileExistsError(errno.EEXIST, "exists", new)


def _unlink_quietly(path, dir_fd=None):
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path, dir_fd=dir_fd)


def user_cache():
    return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "lenslet")


def real_folder(path):
    """Resolve a server folder from a setting or pointer file; None when not a folder."""
    real = os.path.realpath(path)
    return real if os.path.isdir(real) else None
