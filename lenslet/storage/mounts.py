"""Which mounted file system holds a folder, so a share that went away is told from an emptied folder.

A NAS mount that drops leaves its mount point behind as an empty folder of the
file system below (or, for a root deeper in the share, no folder at all). Read
naively, that is a gallery whose every image was deleted. The mount that held the
root when lenslet started is remembered; while it is no longer mounted the tree
is unavailable, whatever the folder below it holds.
"""

import os
import re

_ESCAPE = re.compile(r"\\([0-7]{3})")  # /proc/self/mounts writes a space as \040, a tab as \011, ...


def mount_table():
    """(mount point, file system type) of each mount now, from /proc/self/mounts; None where there is none."""
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="surrogateescape") as table:
            lines = table.read().splitlines()
    except OSError:
        return None
    return [(_ESCAPE.sub(lambda found: chr(int(found[1], 8)), fields[1]), fields[2])
            for fields in map(str.split, lines) if len(fields) > 2]


def mount_points():
    """The mount points of this system now (a set of paths), or None where it keeps no table to read."""
    table = mount_table()
    return None if table is None else {point for point, _ in table}


def mount_holding(path, points):
    """The mount point holding a real path: the deepest of points at or above it (points None: looked at)."""
    if points is None:
        while not os.path.ismount(path) and path != os.path.dirname(path):
            path = os.path.dirname(path)
        return path
    return max((point for point in points if _at_or_above(point, path)), key=len, default="/")


def mounted(point, points):
    """Whether a mount point is mounted now (points None: looked at)."""
    return os.path.ismount(point) if points is None else point in points


def _at_or_above(point, path):
    return path == point or path.startswith(point.rstrip("/") + "/")
