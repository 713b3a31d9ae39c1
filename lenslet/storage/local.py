"""The tree on local disk.

Every verb maps its key to a real path and refuses anything that resolves
outside the root, so a symlink cannot lead out of the tree either. Verbs that
change the tree go further: they open the key's folder one segment at a time from
a descriptor of the root, never following a symlink (`_parent_fd`), and name,
replace or remove the file relative to that descriptor, so a folder swapped for a
link meanwhile cannot send a write or a delete anywhere else. A name lenslet uses
that holds a symlink or anything but a regular file is foreign: never read as
lenslet's, never written through or removed (Foreign). Special files (FIFOs,
sockets, devices) are never opened for reading either. Internal state
(heartbeats, lock stripes, the queue) lives under the key prefix ".lenslet/",
which clean_path() never lets a client name; when the tree is read-only it and
the derived files go to a state folder outside the tree instead.
"""

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
from lenslet.layout import (
    DERIVED,
    LOCKS,
    ROOT_FILES,
    STATE,
    TEMP_SUFFIX,
    is_internal,
    is_state,
    is_xmp,
    join,
    name_of,
)
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
EDITS = "edits-"  # the name of a folder's lock of edits under way begins so (lock_images, edits_under_way)
# Folders are opened one segment at a time and never through a link.
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused right after, by fstat).
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
DISK_FULL_FOR = 30.0  # seconds /health says the disk is full after a write failed for want of space
MIN_FREE = 64 * 1024  # bytes free below which /health says the disk is full
MAX_ODD_NAMES = 200   # names that are not UTF-8 remembered per process, for the health report
ROOT_RETRY_AFTER = 10  # seconds a client is asked to wait while the root is unavailable
READ_MORE = 1 << 16  # bytes asked for by each read past the size a file had when opened (one that grew)
RESOLVE_TRIES = 3  # times a path is followed again when its links are swapped meanwhile (see _resolve)


class LocalStorage(Verbs):
    """A folder tree on local disk."""

    backend = "local"
    folder_mtimes = True  # a folder's mtime moves when a file is added, removed or renamed in it

    ROOT_CHECK_EVERY = 1.0  # seconds a look at whether the root is still there holds

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
        self.identity = ("local", self.root)  # what makes two storages the same tree (pointer loops are found by it)
        self.readonly = readonly
        # A state root's tree (storage/routed.py): its folders mirror the library's, made as they are needed.
        self.state_tree = state_tree
        self.reserved = []  # lenslet's names in the tree that someone else uses (reported in health)
        own_state = os.path.join(self.root, STATE)
        if state_dir is None and os.path.lexists(own_state) and \
                (os.path.islink(own_state) or not os.path.isdir(own_state)):
            # Someone else's file (or link) holds the name: keep the state outside the tree.
            state_dir = fallback_state(self.root)
            self.reserved.append(STATE)
        self.state_root = os.path.realpath(state_dir or own_state)
        # Locks are by file, not by path: a pointer's tree shares the lock folder of the
        # tree it is grafted into, so one image reached by two paths has one lock.
        self.lock_dir = lock_dir or f"{self.state_root}{LOCKS[len(STATE):]}"
        self.odd_names = {}   # folder key -> names that are not UTF-8, skipped by list_folder
        self.full_at = None   # when a write last failed for want of space (monotonic)
        self._tmpfile = True  # O_TMPFILE until the filesystem says it cannot
        # The mount that held the root at start (a NAS share, say): while it is no longer
        # mounted, the folder left in its place (empty, or none at all) is not the gallery,
        # and every verb answers Unavailable rather than "no images" (see unavailable()).
        # Not the root's device, which a share mounted again may well change, nor the
        # state folder, which a new tree lacks too: a mount lenslet started under that is
        # gone is a sure sign, and one that clears by itself when the share is back.
        self.mounts = mounts
        self.mount = mount_holding(self.root, mounts())
        self.state_in_tree = self.inside_root(self.state_root)
        self.root_checked = (float("-inf"), None)  # (when, problem) of the last look

    def __repr__(self):
        return f"LocalStorage({self.root!r})"

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
                    # lenslet makes no link in a state root (its folders are the library's real paths): one there
                    # is another program's, no folder of lenslet's, and words read or written through it would be
                    # another folder's. Nothing is kept for what lies below it (storage/routed.py's _read).
                    raise NotAFolder("a link holds a folder's place in the state root; lenslet never follows it",
                                     path=key)
                return self._resolve(base, rest, key), None
        return (path if last else f"{path}/{parts[-1]}"), st

    def _open_file(self, key):
        """Open a regular file for reading, refusing one whose path leaves the root.

        A link named like a file lenslet writes (its own, or another tool's XMP sidecar), or
        anywhere in its state folder, is foreign and never read (a write refuses to replace it,
        so what it points to would stand for the file for good; and a link in one folder may lead
        into another that a reader may not see); a link to an image is followed when it stays
        inside the root.
        """
        return open(self._open_fd(key)[0], "rb")

    def _open_fd(self, key):
        """_open_file's checked descriptor, and its fstat: the caller closes it."""
        path, _ = self._walk(key, last=False)
        try:
            fd = os.open(path, _READ_FLAGS)
        except OSError as ex:
            if ex.errno != errno.ELOOP:
                raise
            if is_internal(name_of(key)) or is_xmp(name_of(key)) or is_state(key):
                raise Foreign("a symlink holds the name of a file lenslet may write; it is never followed",
                              path=key) from None
            fd = os.open(self._fs(key), _READ_FLAGS & ~os.O_NOFOLLOW)  # resolved and checked
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
        """(content, fstat) of a file, read through its descriptor; TooLarge past limit bytes.

        No file object: one asks the file whether it is a terminal, where it stands (twice) and its size
        again, five calls more to read a listing's 8-byte mark. Each call hands the interpreter's lock to
        another thread, and while people tag, a reader of a folder waits for it again at each
        (bench/load.py: 15% fewer reads with the mark's 12 calls than with none)."""
        fd, st = self._open_fd(key)
        try:
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
                    break  # all it held when opened, and less than asked for: it ended (one call less a file)
                want = READ_MORE
        finally:
            os.close(fd)
        if limit is not None and got > limit:  # it grew between the look and the read
            raise TooLarge(f"the file is larger than {limit} bytes", path=key, limit=limit)
        return (parts[0] if len(parts) == 1 else b"".join(parts)), st

    def _check_opened(self, fd, key):
        """Refuse a file that, opened, lies outside the root (a folder swapped for a link meanwhile)."""
        try:
            real = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            return  # no /proc: the walk's check stands alone
        if not (self.inside(real) or _within(real, self.state_root)):
            raise BadPath("path leads outside the gallery root", path=key)

    def _parent_fd(self, key, create=False):
        """Open the folder holding key beneath the root, following no symlink; return (fd, name).

        The one way verbs that change the tree reach a file: the caller names, replaces
        or removes `name` relative to the returned O_DIRECTORY descriptor (os.replace with
        src_dir_fd/dst_dir_fd, os.unlink with dir_fd, ...) and closes it. Links to folders
        inside the root (aliases) are resolved first, by real path; after that every
        segment is opened with O_NOFOLLOW from the root's descriptor, so a folder swapped
        for a link meanwhile fails the write (Foreign) instead of redirecting it. With
        create, missing folders are made on the way.
        """
        folder, name = _file_key(key)
        base = self.state_root if is_state(key) else self.root
        real_folder_ = self._walk(folder, last=True)[0]
        parts = real_folder_[len(base) + 1:].split("/") if real_folder_ != base else []
        try:
            fd = os.open(base, _DIR_FLAGS)
        except FileNotFoundError:
            if not create:
                raise
            os.makedirs(base, exist_ok=True)  # the state folder, on first use
            fd = os.open(base, _DIR_FLAGS)
        try:
            for part in parts:
                try:
                    step = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise
                    try:
                        os.mkdir(part, 0o755, dir_fd=fd)
                    except FileExistsError:
                        pass
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
        """The key of what this storage opens for key: key itself, unless a link on its path leads to
        another place in the tree (BadPath when it leads out of it, as a read would say)."""
        with _mapped(key):
            return self.key_at(self._fs(key))

    def key_at(self, real):
        """The key of a real path inside the tree, or None when it lies outside it (or in the state folder)."""
        if not self.inside(real):
            return None
        return "" if real == self.root else real[len(self.root) + 1:]

    def key_of(self, other, key):
        """This tree's key for a key of another storage (a pointer folder's target), or None when that is
        not a place in this tree."""
        if not isinstance(other, LocalStorage):
            return None
        return self.key_at(f"{other.root}/{key}" if key else other.root)

    def identity_of(self, key):
        """What a file or folder is, whatever path reached it: (device, inode)."""
        with _mapped(key):
            path, st = self._walk(key, last=True)
            if st is None:  # the root, a link on the way (resolved), or nothing there (raises)
                st = os.stat(path)
        return st.st_dev, st.st_ino

    def _resolve(self, base, rest, key):
        for _ in range(RESOLVE_TRIES):
            try:
                real = os.path.realpath(os.path.join(base, rest))
                break
            except OSError as ex:
                # realpath() saw a link that another program then swapped for a file or folder
                # (readlink: EINVAL): the path is followed again from the start.
                if ex.errno != errno.EINVAL:
                    raise
        else:
            # Never in one place long enough to be found: answered as missing (the scanner takes the
            # folder as gone until its next look; a pointer check finds no pointer there).
            raise NotFound("no such file or folder: the path kept changing while it was followed", path=key)
        if not (self.inside(real) if base == self.root else _within(real, base)):
            raise BadPath("path leads outside the gallery root", path=key)
        return real

    def unavailable(self):
        """Why the tree cannot be reached now, or None: the root folder is gone, or the file system
        mounted at start (which held it) is mounted no more. Looked at once a second at most."""
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
        """Raise Unavailable while the tree cannot be reached, so that no one takes it for empty."""
        problem = self.unavailable()
        if problem is not None:
            raise Unavailable(f"storage unavailable: {problem}", retry_after=ROOT_RETRY_AFTER)

    def inside_root(self, real):
        return _within(real, self.root)

    def inside(self, real):
        """Tell whether a real filesystem path lies inside the root, and not in lenslet's state folder.

        A link into `.lenslet/` (alias -> .lenslet/hidden) would let a move, or a forged
        move journal, put an image where no listing shows it: such a link leads nowhere.
        """
        return _within(real, self.root) and not _within(real, self.state_root)

    # -- reading -----------------------------------------------------------

    def list_folder(self, key):
        """List a folder in one pass: Entry(name, is_dir, size, mtime) for each child.

        Hidden entries (names starting with a dot) are listed by name and kind only,
        without the stat their size and time would cost.
        """
        entries = []
        append = entries.append
        odd = []
        with _mapped(key):
            with os.scandir(self._fs(key)) as scan:
                for item in scan:
                    name = item.name
                    if not name.isascii() and not _utf8(name):
                        odd.append(name.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
                        continue  # no key can name it: skipped, and reported in health
                    try:
                        if name[0] == ".":
                            # A read-only tree is never written, not even to sweep up temp files.
                            if name.endswith(TEMP_SUFFIX) and not self.readonly and _sweep_temp(item.path, name):
                                continue
                            append(Entry(name, item.is_dir(), 0, 0.0))
                            continue
                        link = item.is_symlink()
                        if link and (is_internal(name) or not self.inside(os.path.realpath(item.path))):
                            # A link out of the tree is not part of it; a link named like a
                            # sidecar or thumbnail is foreign, so the file counts as missing.
                            continue
                        st = item.stat()
                        is_dir = stat_module.S_ISDIR(st.st_mode)
                        if link and is_dir:
                            # A link to a folder is listed as the link it is, with its own time:
                            # the folder's time moves with every manifest written in it, and a
                            # link back to its own folder or above (2024/self -> .) would make
                            # each write of that manifest change the listing it was made from.
                            st = item.stat(follow_symlinks=False)
                    except OSError:
                        continue  # vanished or dangling between readdir and stat
                    if is_dir or stat_module.S_ISREG(st.st_mode):  # FIFOs, sockets, devices are not listed
                        append(Entry(name, is_dir, st.st_size, st.st_mtime, None, link))
        if odd or key in self.odd_names:
            if odd:
                if len(self.odd_names) < MAX_ODD_NAMES:
                    self.odd_names[key] = odd[:MAX_ODD_NAMES]
            else:
                self.odd_names.pop(key, None)
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

    stat_image = stat  # an image is a file like any other here

    def folder_version(self, key):
        """What moves when a folder's names or its own settings (a picked cover, renamed into place) change."""
        return (self.stat(key).mtime,)

    def stat_file(self, key):
        """Return the Stat of the regular file named key, never following a link at that name: Foreign
        when a link, a folder, a FIFO, a socket or a device holds it (a file lenslet may write)."""
        with _mapped(key):
            path, _ = self._walk(key, last=False)
            st = os.lstat(path)
        if not stat_module.S_ISREG(st.st_mode):
            raise Foreign(f"a {_kind(st.st_mode)} holds this name; lenslet never follows, reads or writes through it",
                          path=key)
        return Stat(st.st_size, st.st_mtime, False, st.st_ctime)

    def read(self, key):
        """Return the whole content of a file."""
        with _mapped(key):
            return self._read_whole(key)[0]

    def read_with_stat(self, key):
        """Return (content, Stat) of a file, read through one open handle."""
        with _mapped(key):
            data, st = self._read_whole(key)
            return data, Stat(st.st_size, st.st_mtime, False, st.st_ctime)

    def open_with_stat(self, key):
        """Return (an open file, Stat) through one open handle; the caller closes the file."""
        with _mapped(key):
            f = self._open_file(key)
            st = os.fstat(f.fileno())
            return f, Stat(st.st_size, st.st_mtime, False, st.st_ctime)

    def read_versioned(self, key):
        """Return (content, version), or (None, None) when the file does not exist."""
        try:
            data = self.read(key)
        except NotFound:
            return None, None
        return data, version_of(data)

    def read_small(self, key, limit):
        """Return (content, version) of a file of at most limit bytes, or (None, None) when there is none.

        A bigger file is refused (TooLarge) by its size, never read; a link, FIFO, socket or folder in
        its place is never read either (Foreign), and opening it never waits.
        """
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
        with _mapped(key, self):
            fd, name = self._parent_fd(key, create=self._makes_folders(key))
            try:
                self._land(fd, name, key, data, exclusive=False, durable=durable)
            finally:
                os.close(fd)

    def overwrite(self, key, data):
        """Give a small file new bytes of the same length in place, never durable; write() when it is
        missing, of another length, a file with another name too (replaced, the other left as it is), or not
        a regular file (which write() refuses).

        For a marker whose readers compare its bytes and stat (.lenslet/listed, rewritten at every
        listing rebuild): a new file renamed over the old one costs 0.4 to 1.8 ms on ext4, which
        writes a replaced file's blocks out at once (auto_da_alloc), and half of a big first index's
        time went there; bytes changed in place cost some microseconds. A reader may catch a mix
        of old and new bytes: a mark it never saw before, so it only counts again.
        """
        self._refuse_if_readonly(key)
        with _mapped(key, self):
            fd, name = self._parent_fd(key, create=self._makes_folders(key))
            try:
                try:
                    # O_NOFOLLOW: a link in its place is never written through; O_NONBLOCK: nor a FIFO waited on.
                    file = os.open(name, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=fd)
                except OSError:
                    file = None  # missing, a link, a folder, a FIFO without a reader: write() says which
                if file is not None:
                    try:
                        st = os.fstat(file)
                        # A file of other names too (a hard link, maybe to a photo) is never changed in place.
                        if stat_module.S_ISREG(st.st_mode) and st.st_nlink == 1 and st.st_size == len(data):
                            os.pwrite(file, data, 0)
                            return
                    finally:
                        os.close(file)
                self._land(fd, name, key, data, exclusive=False, durable=False)
            finally:
                os.close(fd)

    def create(self, key, data, durable=True):
        """Create a file atomically, failing with AlreadyExists when it is there."""
        self._refuse_if_readonly(key)
        with _mapped(key, self):
            fd, name = self._parent_fd(key, create=self._makes_folders(key))
            try:
                self._land(fd, name, key, data, exclusive=True, durable=durable)
            except FileExistsError:
                raise AlreadyExists("file exists", path=key) from None
            finally:
                os.close(fd)

    def replace_if(self, key, data, version):
        """Write only if the file is still at version (None: only if it does not exist).

        Under the file's lock, so lenslet's own writers queue. Another program takes no lock of
        lenslet's: the version is looked at once more after the new bytes are written and synced, and
        the new file takes the name by an exchange of names, after which what it replaced is looked at
        too (by its identity: _swap_in): if that is not the file read (the other program wrote in between),
        the names are exchanged back and the write refused, so such a write is never lost. Where names cannot
        be exchanged (NFS, SMB, FUSE) the name is given by a rename right after the second look, and such
        a write is lost only if it lands in those microseconds.
        """
        self._refuse_if_readonly(key)

        def unchanged():
            _, current = self.read_versioned(key)
            if current != version:
                raise PreconditionFailed("file changed since it was read", path=key, version=current)

        with self._locked(key):
            unchanged()  # refused before any bytes are written, as a rule
            with _mapped(key, self):
                fd, name = self._parent_fd(key, create=self._makes_folders(key))
                try:
                    # None: the name is taken only if free (a link, never a replace), however late it was taken.
                    # The second look is _swap_in's, just before the name is given.
                    self._land(fd, name, key, data, exclusive=version is None, replacing=version)
                except FileExistsError:
                    raise PreconditionFailed("file appeared since it was read", path=key) from None
                finally:
                    os.close(fd)
        return version_of(data)

    def delete(self, key):
        """Remove a file."""
        self._refuse_if_readonly(key)
        with _mapped(key, self):
            fd, name = self._parent_fd(key)
            try:
                _refuse_foreign(fd, name, key, missing_ok=False)
                os.unlink(name, dir_fd=fd)  # the name itself: never what a link points to
            finally:
                os.close(fd)

    def delete_if(self, key, version):
        """Remove a file only if it is still at version."""
        self._refuse_if_readonly(key)
        with self._locked(key):
            _, current = self.read_versioned(key)
            if current != version:
                raise PreconditionFailed("file changed since it was read", path=key, version=current)
            if current is not None:
                self.delete(key)

    def update(self, key, change, durable=True):
        """Read, change and write back a file so that no concurrent update is lost.

        change(old_bytes_or_None, old_version) returns the new bytes, or None to leave
        the file as it is. Returns (bytes, version) of what is stored afterwards.
        Local disk holds a cross-process lock for the whole read-change-write, so
        writers queue up instead of retrying; a backend without locks retries
        replace_if on the new bytes instead.
        """
        self._refuse_if_readonly(key)
        with _mapped(key, self), self._locked(key):
            old, version = self.read_versioned(key)
            new = change(old, version)
            if new is None:
                return old, version
            self.write(key, new, durable)
        return new, version_of(new)

    def sync(self, keys):
        """Make files and folders written with durable=False durable now: one fsync each.

        Many writes followed by their fsyncs cost a fraction of an fsync after each write
        (the file system commits them together): a bulk move writes, then syncs.
        """
        for key in keys:
            try:
                with _mapped(key, self):
                    fd = os.open(self._fs(key), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            except NotFound:
                continue  # gone meanwhile: nothing of it to keep
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    # -- derived files -----------------------------------------------------

    def derived_key(self, key):
        """Map a derived file (manifest, thumbnail) to where it lives: beside the image,
        or under the state folder when the tree is read-only."""
        return join(DERIVED, key) if self.readonly else key

    def derived_at(self, key):
        return self, self.derived_key(key)

    def root_file_key(self, name):
        """Where one of lenslet's files at the root (the rollup, the health report) is kept.

        Beside the images (its derived key) as a rule; in the state folder when anything
        but a plain file holds that name there (someone's folder, a link): lenslet never
        writes into, through or over it, and the file is still made and read. /health
        lists the name under storage.reservedNames.
        """
        key = self.derived_key(name)
        try:
            mode = self._lstat_beneath(key)[2]
        except NotFound:
            return key
        return key if stat_module.S_ISREG(mode) else join(STATE, name)

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
        problem = self.unavailable()
        readable = problem is None and os.access(self.root, os.R_OK | os.X_OK)
        writable = readable and not self.readonly and os.access(self.root, os.W_OK)
        try:
            fs = os.statvfs(self.root)
            low = fs.f_bavail * fs.f_frsize < MIN_FREE or (fs.f_files and fs.f_favail == 0)
        except OSError:
            low = False
        full = not self.readonly and (low or (self.full_at is not None
                                              and time.monotonic() - self.full_at < DISK_FULL_FOR))
        # The root folder's name, never its path: enough for the page to say what is served.
        report = {"backend": self.backend, "readable": readable, "writable": writable and not full,
                  "name": os.path.basename(self.root) or self.root}
        if problem is not None:
            report["unavailable"] = problem
        if full:
            report["diskFull"] = True
        reserved = self.reserved + sorted(name for name in ROOT_FILES if self._held(name))
        if reserved:
            report["reservedNames"] = reserved
        if self.odd_names:
            report["undecodableNames"] = dict(list(self.odd_names.items())[:MAX_ODD_NAMES])
        return report

    def _held(self, name):
        """Whether a folder holds the name of one of lenslet's files at the root (see root_file_key)."""
        try:
            return self.root_file_key(name) != self.derived_key(name)
        except LensletError:
            return False  # unreadable: the probe says so already

    # -- internals ---------------------------------------------------------

    def _refuse_if_readonly(self, key):
        if self.readonly and not is_state(key):
            raise Forbidden("lenslet is read-only (LENSLET_READONLY)", path=key)

    def _land(self, folder_fd, name, key, data, exclusive, durable=True, replacing=None):
        """Write data to a file no one can see, fsync it, then give it `name` in the open folder.

        replacing: the version the name must still hold (not exclusive); with it, the new file takes the name
        by an exchange of the two names, and what it took the name from is looked at afterwards (_swap_in).
        Returns what a writer function returned (None for bytes)."""
        _refuse_foreign(folder_fd, name, key)
        fd, tmp = self._unnamed(folder_fd)
        try:
            # data: bytes, or a function that writes the file through its descriptor (an upload).
            written = data(fd) if callable(data) else _write_all(fd, data)
            if durable:
                os.fsync(fd)
            if tmp is None:
                # O_TMPFILE: the file has no name until it is linked, so a crash
                # before this line leaves nothing behind.
                if exclusive:
                    _link_unnamed(fd, folder_fd, name)
                    return written
                tmp = _temp_name()
                _link_unnamed(fd, folder_fd, tmp)
            if exclusive:
                os.link(tmp, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd, follow_symlinks=False)
                os.unlink(tmp, dir_fd=folder_fd)
            elif replacing is not None and self._swap_in(folder_fd, tmp, name, key, replacing):
                pass  # the name taken by an exchange, what it replaced found to be the version read
            elif durable or not _take_name(folder_fd, tmp, name):
                # rename() replaces the name itself: a link put there meanwhile is replaced, not followed.
                os.replace(tmp, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
            tmp = None
            return written
        finally:
            os.close(fd)
            if tmp is not None:
                _unlink_quietly(tmp, folder_fd)

    def _swap_in(self, folder_fd, tmp, name, key, replacing):
        """Give the new file (named tmp) `name` by exchanging the two names, then make sure what it replaced is
        at version `replacing` (the version the caller read); if not (another program, which takes no
        lock of lenslet's, wrote in between), give the name back and refuse. So no write of another program is
        ever lost, however late it lands: a check before a rename leaves the moment between the two open.
        False where names cannot be exchanged here (the caller then renames, the check made just before).

        What holds the name is read and its version checked first, and its identity kept (inode, size, time
        of change): after the exchange, one stat of what was replaced tells whether it is that very file. Our
        bytes hold the name for that one system call when they must be taken back, not for a second read:
        another program reading then would write back what it read, ours, without its own last words."""
        ours = _identity(os.stat(tmp, dir_fd=folder_fd, follow_symlinks=False))
        seen = self._looked_at(folder_fd, name)
        if seen is None or seen[1] != replacing:
            raise PreconditionFailed("file changed since it was read", path=key, version=seen and seen[1])
        try:
            if not _exchange(folder_fd, tmp, name):
                return False
        except FileNotFoundError:
            raise PreconditionFailed("file removed since it was read", path=key) from None
        if _identity_at(folder_fd, tmp) == seen[0]:
            _unlink_quietly(tmp, folder_fd)
            return True
        _exchange(folder_fd, tmp, name)  # theirs back under its name
        if _identity_at(folder_fd, tmp) != ours:
            _exchange(folder_fd, tmp, name)  # they wrote again over ours meanwhile: their newest keeps the name
        _unlink_quietly(tmp, folder_fd)
        found = self._looked_at(folder_fd, name)
        raise PreconditionFailed("file changed since it was read", path=key, version=found and found[1])

    @staticmethod
    def _looked_at(folder_fd, name):
        """(identity, version) of a file in an open folder, None when it is not a regular file lenslet can read."""
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder_fd)
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if not stat_module.S_ISREG(st.st_mode):
                return None
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            return _identity(st), version_of(b"".join(chunks))
        finally:
            os.close(fd)

    def _unnamed(self, folder_fd):
        """Open a temp file in the open folder: unnamed (O_TMPFILE) where supported, else dot-named."""
        if self._tmpfile and hasattr(os, "O_TMPFILE"):
            try:
                return os.open(".", os.O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, 0o644, dir_fd=folder_fd), None
            except OSError as ex:
                if ex.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                    raise
                self._tmpfile = False
        tmp = _temp_name()
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        return os.open(tmp, flags, 0o644, dir_fd=folder_fd), tmp

    def _locked(self, key):
        """Hold a cross-process lock for the file key names (one of a fixed set of stripes).

        The stripe is chosen by the file's folder (device and inode) and name, not by the
        path: two paths to one file (a folder link, a pointer into the same tree) share it.
        """
        folder_key, name = _file_key(key)
        try:
            folder = self._folder_stat(folder_key)
        except (FileNotFoundError, NotADirectoryError):
            if not self._makes_folders(key):  # its folder is not there: no other path can name it yet
                folder = None  # (a file on the way: the write says so)
            else:  # made now, so that every writer names it by the same device and inode
                fd, _ = self._parent_fd(key, create=True)
                try:
                    folder = os.fstat(fd)
                finally:
                    os.close(fd)
        ident = (f"missing:{key}" if folder is None else f"{folder.st_dev}:{folder.st_ino}/{name}").encode(
            "utf-8", "surrogateescape")
        stripe = int(version_of(ident)[:8], 16) % LOCK_STRIPES
        return _FileLock(f"{self.lock_dir}/{stripe:02d}.lock")

    def _folder_stat(self, folder):
        """The stat of the folder key names, by the walk's own look at it: a lock is named by its device
        and inode. (Opened, as a write reaches it, it cost an edit ten system calls more, each handing the
        interpreter's lock to a reader.) FileNotFoundError when it is not there."""
        path, st = self._walk(folder, last=True)
        return os.stat(path) if st is None else st

    def lock_images(self, keys):
        """Hold the locks of images (or folders) for a change: an edit, a hash, a move, a trash, a delete.

        Across threads and processes (the web processes and the worker share them).
        A lock is named by the image's folder (device and inode) and name, like the
        file locks, so two paths to one image share it; these are a set of stripes of
        their own, taken before any file lock and never while one is held.
        """
        return holding([lock for key in keys for lock in self._image_locks(key)], _flock)

    def _image_locks(self, key):
        """The image's lock, and its folder's lock of edits under way (EDITS: shared by every change in the
        folder, so they never wait on each other; edits_under_way tries it)."""
        folder, name = key.rpartition("/")[::2]
        try:
            with _mapped(key):
                found = self._folder_stat(folder)
            where = f"{found.st_dev}:{found.st_ino}"
        except LensletError:
            where = folder  # a folder not made yet (a restore's): its path is all there is to name it by
        return (f"{self.lock_dir}/image-{_stripe(f'{where}/{name}'):02d}.lock",
                f"{self.lock_dir}/{EDITS}{_stripe(where):02d}.lock")

    def edits_under_way(self, folder):
        """Whether a change to an image of a folder (anything under lock_images) is under way in any process
        now: one try of the folder's lock of edits that never waits (a read never waits for a write). A
        folder sharing its stripe with one being edited is answered yes too: its readers look again on
        their next read."""
        try:
            with _mapped(folder):
                found = self._folder_stat(folder)
            fd = os.open(f"{self.lock_dir}/{EDITS}{_stripe(f'{found.st_dev}:{found.st_ino}'):02d}.lock",
                         os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
        except (LensletError, OSError):
            return False  # no such folder, or no edit was ever made (no lock file), or not a lock file
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing drops the flock, had it been taken

    # -- file management: beneath the root's descriptor, never replacing --

    def rename(self, src, dst, resume=False, durable=True):
        """Give a file or folder a new name; AlreadyExists when dst is taken (never replaced).
        (resume: nothing to resume here, where a folder's rename is one step.)

        durable=False leaves the new name to the next fsync of its folder (a move's
        companions, made durable by the fsync of the image's own step in the same folder).
        """
        self._refuse_if_readonly(src)
        self._refuse_if_readonly(dst)
        with _mapped(src, self):
            old_fd, old = self._parent_fd(src)
            try:
                new_fd, new = self._parent_fd(dst, create=True)
                try:
                    is_dir = stat_module.S_ISDIR(os.stat(old, dir_fd=old_fd, follow_symlinks=False).st_mode)
                    try:
                        if is_dir:
                            _rename_noreplace(old_fd, old, new_fd, new)
                        else:
                            # link + unlink: a crash in between leaves the same file under both
                            # names (move recovery finishes or undoes it), never under neither.
                            os.link(old, new, src_dir_fd=old_fd, dst_dir_fd=new_fd, follow_symlinks=False)
                            os.unlink(old, dir_fd=old_fd)
                    except FileExistsError:
                        raise AlreadyExists("the target exists", path=dst) from None
                    if durable:
                        os.fsync(new_fd)  # the new name survives a power cut
                finally:
                    os.close(new_fd)
            finally:
                os.close(old_fd)

    def write_stream(self, key, stream, limit, replace=False, head=b""):
        """Write head (bytes already read from the stream) and the stream to a file no one sees until it
        is complete; TooLarge past limit bytes.

        Named only once complete and fsynced; AlreadyExists when the name is taken
        and replace is false. Returns the size written.
        """
        self._refuse_if_readonly(key)
        with _mapped(key, self):
            fd, name = self._parent_fd(key, create=True)
            try:
                return self._land(fd, name, key, lambda out: copy_limited(stream, lambda chunk: _write_all(out, chunk),
                                                                          limit, head), exclusive=not replace)
            except FileExistsError:
                raise AlreadyExists("file exists", path=key) from None
            finally:
                os.close(fd)

    def make_folder(self, key):
        """Create one folder; AlreadyExists when it is there, NotFound when its parent is not."""
        self._refuse_if_readonly(key)
        with _mapped(key, self):
            fd, name = self._parent_fd(key)
            try:
                os.mkdir(name, 0o755, dir_fd=fd)
            except FileExistsError:
                raise AlreadyExists("the folder exists", path=key) from None
            finally:
                os.close(fd)

    def remove_folder(self, key):
        """Remove an empty folder; Conflict when it holds anything. The state folder itself (`lenslet
        clean`) is removed wherever it lies: inside the tree, or outside it for a read-only tree."""
        self._refuse_if_readonly(key)
        with _mapped(key, self):
            fd, name = self._parent_fd(key) if key != STATE else \
                (os.open(os.path.dirname(self.state_root), _DIR_FLAGS), os.path.basename(self.state_root))
            try:
                os.rmdir(name, dir_fd=fd)
            except OSError as ex:
                if ex.errno in (errno.ENOTEMPTY, errno.EEXIST):
                    raise Conflict("the folder is not empty", path=key) from None
                raise
            finally:
                os.close(fd)

    def _makes_folders(self, key):
        """Whether writing key makes its missing folders (see _makes_folders); in a state root's tree, always
        (the router refuses a write for a library folder that is gone)."""
        return self.state_tree or _makes_folders(key)

    def same(self, a, b):
        """Whether two keys name one file (a move interrupted between link and unlink)."""
        return self._lstat_beneath(a)[:2] == self._lstat_beneath(b)[:2]

    def _lstat_beneath(self, key):
        with _mapped(key, self):
            fd, name = self._parent_fd(key)
            try:
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            finally:
                os.close(fd)
        return st.st_dev, st.st_ino, st.st_mode


def _makes_folders(key):
    """Whether writing key makes its missing folders: in lenslet's state folder, yes; in the tree,
    no. A folder of the tree that is missing was moved or removed meanwhile (by lenslet or
    another program): a thumbnail, listing or sidecar written there late would make it again,
    a ghost holding only lenslet's files, so such a write fails NotFound instead."""
    return is_state(key)


def _file_key(key):
    """(its folder's key, its name) of a key that names a file; BadPath when it names none."""
    check_key(key)
    folder, _, name = key.rpartition("/")
    if not name:
        raise BadPath("a file key needs a name", path=key)
    return folder, name


class _FileLock:
    """flock on a lock file: excludes other processes and other threads alike (shared: only those that
    take it alone)."""

    def __init__(self, path, shared=False):
        self.path = path
        self.fd = None
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
    """Take the flock of a lock file (shared for a folder's lock of edits under way); return its release."""
    lock = _FileLock(path, shared=os.path.basename(path).startswith(EDITS)).__enter__()
    return lambda: lock.__exit__(None, None, None)


def _within(real, folder):
    """Whether a real path is folder or lies beneath it (both real: absolute, normalized, so a prefix
    compare says what os.path.commonpath does, at a tenth of its cost: it runs at every open)."""
    return real == folder or real.startswith(folder if folder.endswith("/") else folder + "/")


def _stripe(ident):
    """Which of the LOCK_STRIPES locks of a kind an identity (device, inode and name) takes."""
    return int(version_of(ident.encode("utf-8", "surrogateescape"))[:8], 16) % LOCK_STRIPES


class _mapped(ErrorMap):
    """OS errors, for the local backend (given the storage, a full disk is remembered for health)."""

    def __init__(self, key, storage=None):
        super().__init__(key)
        self.storage = storage

    def translate(self, ex):
        if isinstance(ex, OSError) and ex.errno in (errno.ENOSPC, errno.EDQUOT):
            if self.storage is not None:
                self.storage.full_at = time.monotonic()
            return InsufficientStorage("the disk is full (or over quota): nothing was written", path=self.key)
        if isinstance(ex, FileNotFoundError):
            return NotFound("no such file or folder", path=self.key)
        if isinstance(ex, NotADirectoryError):
            return NotAFolder("not a folder", path=self.key)
        if isinstance(ex, IsADirectoryError):
            return BadRequest("is a folder, not a file", path=self.key)
        if isinstance(ex, PermissionError):
            return Forbidden("permission denied by the file system", path=self.key)
        if isinstance(ex, OSError) and ex.errno == errno.ENAMETOOLONG:
            return BadPath("name too long", path=self.key)
        return None


def _link_unnamed(fd, folder_fd, name):
    """Give an O_TMPFILE file a name in an open folder (linkat with AT_SYMLINK_FOLLOW through /proc): one
    call, /proc/self looked up by it, so it names this process, forked or not."""
    os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=folder_fd, follow_symlinks=True)


def _refuse_foreign(folder_fd, name, key, missing_ok=True):
    """Refuse to replace or remove a name that holds anything but a regular file (a link, a FIFO, a folder)."""
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
    """What holds a name, in words, when it is not a regular file."""
    if stat_module.S_ISLNK(mode):
        return "symlink"
    return "folder" if stat_module.S_ISDIR(mode) else "FIFO" if stat_module.S_ISFIFO(mode) else "special file"


def _utf8(name):
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _temp_name():
    # The writer's pid is in the name, so a temp file left by a killed writer can
    # be told from one being written right now (see _sweep_temp).
    return f".{os.getpid()}-{secrets.token_hex(6)}{TEMP_SUFFIX}"


def _sweep_temp(path, name):
    """Remove a temp file whose writer is dead (killed between naming and renaming it)."""
    try:
        pid = int(name[1:].partition("-")[0])
    except ValueError:
        return False
    if process_alive(pid):
        return False  # its writer is alive: leave it be
    _unlink_quietly(path)
    return True


def _write_all(fd, chunk):
    """Write all of chunk to fd (os.write may write less than asked)."""
    view = memoryview(chunk)
    while view:
        view = view[os.write(fd, view):]


RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2
_renameat2 = []  # libc's renameat2, looked up once; [None] where there is none


def _identity(st):
    """What tells one file's bytes from any other's without reading them: its inode, and its size and time of
    change (a program writing in place keeps the inode). A rename keeps all three. Not told apart: bytes of the
    same size written in place within one tick of the file system's clock (a few milliseconds); exiftool, for
    one, writes a new file and renames it."""
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _identity_at(folder_fd, name):
    try:
        return _identity(os.stat(name, dir_fd=folder_fd, follow_symlinks=False))
    except OSError:
        return None


def _renameat2_error(old_fd, old, new_fd, new, flags):
    """Call libc's renameat2: 0 when done, else its errno (ENOSYS where libc has none)."""
    import ctypes
    if not _renameat2:
        _renameat2.append(getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None))
    call = _renameat2[0]
    if call is None:
        return errno.ENOSYS
    if call(old_fd, os.fsencode(old), new_fd, os.fsencode(new), flags) == 0:
        return 0
    return ctypes.get_errno()


def _exchange(folder_fd, one, other):
    """Swap two names in an open folder at once (renameat2 RENAME_EXCHANGE): True, or False where the kernel,
    libc or file system cannot (NFS, SMB and FUSE mounts among them). FileNotFoundError when either is gone."""
    code = _renameat2_error(folder_fd, one, folder_fd, other, RENAME_EXCHANGE)
    if code == 0:
        return True
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), other) if code != errno.ENOENT else FileNotFoundError(code, "gone", other)


def _take_name(folder_fd, tmp, name):
    """Give a file written without fsync (named tmp) a name another file holds, by exchanging the two names and
    removing the file it took the name from: True, or False where a rename must (nothing holds the name yet,
    names cannot be exchanged here, or a folder holds it: the rename refuses that as it always did).

    Not a rename over the old file: ext4 writes a file renamed over another out at once (auto_da_alloc, its
    guard for programs that never fsync), so every edit's listing page of 340 KB cost 0.36 to 0.42 ms and
    went to the disk, 400 times a second while people tag; exchanged, 0.09 to 0.13 ms, and the bytes of a page
    replaced before they were written out never reach the disk. Only for files lenslet can make again: a
    crash may leave one torn, and its readers check what they read."""
    try:
        if not _exchange(folder_fd, tmp, name):
            return False
    except FileNotFoundError:
        return False
    if stat_module.S_ISDIR(os.stat(tmp, dir_fd=folder_fd, follow_symlinks=False).st_mode):
        _exchange(folder_fd, tmp, name)  # a folder put there meanwhile: back under its name, never removed
        return False
    os.unlink(tmp, dir_fd=folder_fd)  # the old file (or a link or FIFO put there meanwhile, as a rename would)
    return True


def _rename_noreplace(old_fd, old, new_fd, new):
    """Rename within open folders, refusing to replace new (renameat2 RENAME_NOREPLACE; a check
    first where the kernel or libc lacks it)."""
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
    try:
        os.unlink(path, dir_fd=dir_fd)
    except FileNotFoundError:
        pass


def fallback_state(root):
    """Where a tree's state goes when someone else's file holds the name .lenslet at its root."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(cache, "lenslet", "displaced", version_of(root.encode()))


def real_folder(path):
    """Resolve a server folder named in a setting or a pointer file; None when it is not a folder."""
    real = os.path.realpath(path)
    return real if os.path.isdir(real) else None
