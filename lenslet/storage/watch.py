"""Change notices for a local tree from Linux inotify, so a tree at rest costs nothing to watch.

Through the C library with ctypes, not a package: three calls (inotify_init1,
inotify_add_watch, read) and a fixed event layout are all it takes, and lenslet
adds no run-time dependency for local storage. Where inotify is missing (not Linux,
a seccomp'd container) `open_watch()` gives None and the worker polls as before.

A watch covers one folder (inotify is not recursive): the scanner adds one per
folder it lists, before listing it, so a change made meanwhile is not missed.
Polling takes over when the kernel's watch limit is reached
(fs.inotify.max_user_watches) or its event queue overflowed; network filesystems
send no notices of other machines' changes, which the slow deep scan covers.
"""

import ctypes
import ctypes.util
import errno
import os
import select
import struct
import sys
import time

from lenslet.errors import LensletError
from lenslet.layout import ROOT_FILES, is_manifest
from lenslet.storage.mounts import mount_holding, mount_table

IN_ATTRIB = 0x4            # touch, chmod: an mtime set by hand
IN_CLOSE_WRITE = 0x8       # a file written and closed (not every write(): IN_MODIFY would flood)
IN_MOVED_FROM = 0x40
IN_MOVED_TO = 0x80
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_Q_OVERFLOW = 0x4000
IN_IGNORED = 0x8000
IN_ONLYDIR = 0x01000000
IN_ISDIR = 0x40000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC
MASK = (IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
        | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
EVENT = struct.Struct("iIII")  # wd, mask, cookie, length of the name that follows
SETTLE = 0.05  # seconds to wait for the rest of a burst (a copy is create, then close-write)


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.inotify_init1.argtypes = [ctypes.c_int]
        libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        return libc
    except (OSError, AttributeError):
        return None


def ours(name):
    """Whether a changed file is one lenslet writes for itself (not news about the tree)."""
    return name[:1] == "." or is_manifest(name) or name in ROOT_FILES


class Watch:
    """inotify watches on folders of one tree, each named by its key."""

    def __init__(self, libc, fd, path_of):
        self.libc = libc
        self.fd = fd
        self.path_of = path_of  # key -> filesystem path
        self.keys = {}          # watch descriptor -> folder key
        self.full = False       # the watch limit was reached: some folders are not watched

    def add(self, key):
        """Watch one folder; False when it cannot be (gone, or the limit reached: see `full`)."""
        try:
            path = os.fsencode(self.path_of(key))
        except LensletError:
            return False  # a link out of the root: not this tree's
        wd = self.libc.inotify_add_watch(self.fd, path, MASK)
        if wd < 0:
            if ctypes.get_errno() == errno.ENOSPC:
                self.full = True
            return False
        self.keys[wd] = key  # the same folder under a new name (moved) keeps its wd
        return True

    def changes(self, timeout):
        """Wait up to timeout for changes; return (folder keys that changed, overflowed).

        The first notice's burst is waited for whole (SETTLE) and read at once. Read as each notice came,
        while people tagged (an edit is half a dozen notices, of lenslet's own files mostly) the worker woke
        up hundreds of times a second to find nothing new, and took a tenth of a core from readers."""
        if not select.select([self.fd], [], [], timeout)[0]:
            return set(), False
        time.sleep(SETTLE)
        changed, overflowed = set(), False
        for wd, mask, name in self._read():
            if mask & IN_Q_OVERFLOW:
                overflowed = True
                continue
            key = self.keys.pop(wd, None) if mask & IN_IGNORED else self.keys.get(wd)
            if key is None or (name and not mask & IN_ISDIR and ours(name)):
                continue
            changed.add(key)
        return changed, overflowed

    def _read(self):
        events = []
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return events
            offset = 0
            while offset + EVENT.size <= len(data):
                wd, mask, _, length = EVENT.unpack_from(data, offset)
                raw = data[offset + EVENT.size:offset + EVENT.size + length].split(b"\0", 1)[0]
                events.append((wd, mask, os.fsdecode(raw)))
                offset += EVENT.size + length

    def close(self):
        os.close(self.fd)


# Filesystems whose other clients change files without a notice reaching this kernel.
NETWORK = ("nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "ceph", "glusterfs", "lustre", "afs", "gpfs")


def network_filesystem(path):
    """Whether path lies on a network (or FUSE) filesystem, by /proc/self/mounts."""
    table = dict(mount_table() or ())
    kind = table.get(mount_holding(path, set(table)), "") if table else ""
    return kind in NETWORK or kind.startswith("fuse")


def open_watch(path_of, root):
    """A Watch over folders named by key (path_of maps a key to its path), or None where
    inotify is missing or would miss changes (a network filesystem under root)."""
    libc = _libc()
    if libc is None or network_filesystem(root):
        return None
    fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
    if fd < 0:
        return None  # no inotify here, or the per-user instance limit reached
    return Watch(libc, fd, path_of)
