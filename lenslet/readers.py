"""The reads this host's web processes are answering now, so that an edit in any of them rests while any of
them reads (items.Turns). Connections go to the processes as the kernel spreads them: the process the
writers reached often answered no reads while the other was busy with them, and its edits, counting only
its own reads, never rested.

The gunicorn master maps a page of memory before it forks the web processes (share); each one writes its
own count into its slot, named by gunicorn's age of the worker (take_slot), and reads every slot. Two live
processes whose ages are 64 apart share a slot: the last count written stands, never one added up wrong.
A process run alone (tests, `create_app()` in a script) has its own count only."""

import mmap
import struct

SLOTS = 64
_ALL = struct.Struct(f"{SLOTS}i")
_ONE = struct.Struct("i")

_counts = None  # the page the web processes share, or None outside gunicorn
_slot = 0


def share():
    """In the gunicorn master, before it forks a web process."""
    global _counts
    if _counts is None:
        _counts = mmap.mmap(-1, _ALL.size)


def take_slot(age):
    """In a web process just forked: its slot."""
    global _slot
    _slot = age % SLOTS
    tell(0)


def free_slot(age):
    """In the master, for a web process gone: it may have died answering reads."""
    _put(age % SLOTS, 0)


def tell(count):
    """The reads this process is answering now."""
    _put(_slot, count)


def _put(slot, count):
    if _counts is not None:
        _ONE.pack_into(_counts, slot * _ONE.size, count)


def anywhere():
    """Whether a web process of this host (this one too) is answering a read now (False outside gunicorn)."""
    return _counts is not None and any(_ALL.unpack_from(_counts))
