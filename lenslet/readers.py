"""When each web process of this host last answered a read, so edits can wait for reads."""

import math
import mmap
import struct

# slots by gunicorn worker age; two processes sharing one just overwrite each other
SLOTS = 64
_ALL = struct.Struct(f"{SLOTS}d")
_ONE = struct.Struct("d")

_page = None  # None outside gunicorn
_slot = 0


def share():
    """Map the shared page, in the gunicorn master before it forks."""
    global _page
    if _page is None:
        _page = mmap.mmap(-1, _ALL.size)
        _ALL.pack_into(_page, 0, *[-math.inf] * SLOTS)


def take_slot(age):
    """Claim this web process's slot, right after the fork."""
    global _slot
    _slot = age % SLOTS
    tell(-math.inf)


def free_slot(age):
    """Clear the slot of a web process gone, perhaps in the middle of a read."""
    _put(age % SLOTS, -math.inf)


def tell(read_at):
    """Record when this process last answered a read, math.inf while it answers one."""
    _put(_slot, read_at)


def _put(slot, read_at):
    if _page is not None:
        _ONE.pack_into(_page, slot * _ONE.size, read_at)


def anywhere(since):
    """Whether a web process of this host answered a read at or after `since`, or answers one now."""
    return _page is not None and max(_ALL.unpack_from(_page)) >= since
