"""When this host's web processes last answered a read, so that an edit in any of them rests while any of them
reads (items.Turns). Connections go to the processes as the kernel spreads them: the process the
writers reached often answered no reads while the other was busy with them, and its edits, counting only
its own reads, never rested.

The gunicorn master maps a page of memory before it forks the web processes (share); each one writes into its
slot, named by gunicorn's age of the worker (take_slot), when it last answered a read: infinity while one is
under way, else the time.monotonic() its last one ended (one clock for every process of the host), and reads
every slot. Two live processes whose ages are 64 apart share a slot: the last time written stands. A process
run alone (tests, `create_app()` in a script) knows its own reads only."""

import math
import mmap
import struct

SLOTS = 64
_ALL = struct.Struct(f"{SLOTS}d")
_ONE = struct.Struct("d")

_page = None  # the page the web processes share, or None outside gunicorn
_slot = 0


def share():
    """In the gunicorn master, before it forks a web process."""
    global _page
    if _page is None:
        _page = mmap.mmap(-1, _ALL.size)
        _ALL.pack_into(_page, 0, *[-math.inf] * SLOTS)  # no process has read yet


def take_slot(age):
    """In a web process just forked: its slot."""
    global _slot
    _slot = age % SLOTS
    tell(-math.inf)


def free_slot(age):
    """In the master, for a web process gone: it may have died answering reads."""
    _put(age % SLOTS, -math.inf)


def tell(read_at):
    """When this process last answered a read: math.inf while it answers one, else when the last one ended."""
    _put(_slot, read_at)


def _put(slot, read_at):
    if _page is not None:
        _ONE.pack_into(_page, slot * _ONE.size, read_at)


def anywhere(since):
    """Whether a web process of this host (this one too) answered a read at or after `since` (time.monotonic()),
    or answers one now (False outside gunicorn)."""
    return _page is not None and max(_ALL.unpack_from(_page)) >= since
