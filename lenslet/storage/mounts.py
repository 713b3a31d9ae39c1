"""Which mount holds a folder, so a dropped network share is not read as an emptied folder."""

import os
import re

_ESCAPE = re.compile(r"\\([0-7]{3})")


def mount_table():
    """Return (mount point, type) pairs from /proc/self/mounts, or None."""
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="surrogateescape") as table:
            lines = table.read().splitlines()
    except OSError:
        return None
    return [(_ESCAPE.sub(lambda found: chr(int(found[1], 8)), fields[1]), fields[2])
            for fields in map(str.split, lines) if len(fields) > 2]


def mount_points():
    table = mount_table()
    return None if table is None else {point for point, _ in table}


def mount_holding(path, points):
    """Return the deepest mount point at or above a real path (points None: ask the system)."""
    if points is None:
        while not os.path.ismount(path) and path != os.path.dirname(path):
            path = os.path.dirname(path)
        return path
    return max((point for point in points if path == point or path.startswith(point.rstrip("/") + "/")),
               key=len, default="/")


def mounted(point, points):
    return os.path.ismount(point) if points is None else point in points
