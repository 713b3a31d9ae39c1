"""Change notices for a local tree's folders from Linux inotify, through ctypes."""

import ctypes
import ctypes.util
import errno
import os
import select
import struct
import sys
import time

from lenslet.errors import LensletError
from lenslet.layout import ROOT_FILES, THUMB, is_manifest
from lenslet.storage.mounts import mount_holding, mount_table

IN_ATTRIB = 0x4            # touch, chmod: an mtime set by hand
IN_CLOSE_WRITE = 0x8       # not IN_MODIFY, which fires at every write()
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
EVENT = struct.Struct("iIII")
SETTLE = 0.05  # seconds to wait for the rest of a burst


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


def ours(name, mask):
    """Whether a changed file is one lenslet writes for itself; a thumbnail made is no news, one removed is."""
    return (name[:1] == "." or is_manifest(name) or name in ROOT_FILES
            or name.endswith(THUMB) and not mask & (IN_DELETE | IN_MOVED_FROM)
            # the kernel's name for a file written unnamed (O_TMPFILE), whose naming was seen already
            or mask & IN_CLOSE_WRITE and name[:1] == "#" and name[1:].isdigit())


class Watch:
    """inotify watches on a tree's folders."""

    def __init__(self, libc, fd, path_of):
        self.libc = libc
        self.fd = fd
        self.path_of = path_of
        self.keys = {}          # watch descriptor -> folder key
        self.full = False       # the watch limit was reached

    def add(self, key):
        """Watch one folder; False when it is gone or the limit is reached."""
        try:
            path = os.fsencode(self.path_of(key))
        except LensletError:
            return False
        wd = self.libc.inotify_add_watch(self.fd, path, MASK)
        if wd < 0:
            if ctypes.get_errno() == errno.ENOSPC:
                self.full = True
            return False
        self.keys[wd] = key
        return True

    def changes(self, timeout):
        """Wait up to timeout; return (changed folder keys, whether the queue overflowed)."""
        if not select.select([self.fd], [], [], timeout)[0]:
            return set(), False
        time.sleep(SETTLE)  # take the whole burst at once
        changed, overflowed = set(), False
        for wd, mask, name in self._read():
            if mask & IN_Q_OVERFLOW:
                overflowed = True
                continue
            key = self.keys.pop(wd, None) if mask & IN_IGNORED else self.keys.get(wd)
            if key is None or (name and not mask & IN_ISDIR and ours(name, mask)):
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


# Filesystems other machines change without a notice reaching this kernel.
NETWORK = ("nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "ceph", "glusterfs", "lustre", "afs", "gpfs")


def network_filesystem(path):
    table = dict(mount_table() or ())
    kind = table.get(mount_holding(path, set(table)), "") if table else ""
    return kind in NETWORK or kind.startswith("fuse")


def open_watch(path_of, root):
    """A Watch, or None without inotify or on a network (or FUSE) filesystem."""
    libc = _libc()
    if libc is None or network_filesystem(root):
        return None
    fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
    if fd < 0:
        return None  # or the per-user instance limit reached
    return Watch(libc, fd, path_of)
