"""Giving freed memory back to the system, where the C library allows it."""

import ctypes

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
BIG_BUFFER = 1 << 20


def _glibc(name):
    try:
        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None


_malloc_trim = _glibc("malloc_trim")
_mallopt = _glibc("mallopt")


def map_big_buffers():
    """Have every buffer of BIG_BUFFER or more mapped on its own and unmapped when freed, for the
    life of this process (a web process, the worker; never a thumbnail process, which keeps its
    heap on purpose: lenslet/images/pool.py).

    By default glibc raises this threshold each time a big buffer is freed, up to 32 MB, so
    Pillow's 16 MB blocks of a decode and an original's bytes then come from the heaps of the
    request threads, among small objects that outlive them: after 16 inline 4K thumbnails on four
    threads a process kept 99 MB that malloc_trim could not give back, 36 MB with the threshold
    fixed (bench/inline_memory.py). A big buffer then costs its page faults each time it is
    made, which the thumbnail processes, decoding all day, avoid by keeping their heap.
    """
    if _mallopt is not None:
        _mallopt(M_MMAP_THRESHOLD, BIG_BUFFER)


def trim():
    """Hand the heap's free pages back to the system (glibc's malloc_trim; nothing elsewhere).

    glibc keeps what a decode freed in the heap of the thread that freed it (a
    web process has one per request thread): a process that made a few big
    thumbnails would hold their memory until it ends. A trim costs well under a
    millisecond on such a heap, against 30-100 ms for the thumbnail before it.
    """
    if _malloc_trim is not None:
        _malloc_trim(0)


def keep_heap(kept):
    """Have big buffers (up to 32 MB, glibc's largest) come from the heap, and the heap keep up to
    kept bytes freed, for the life of this process: a thumbnail process reuses the pages of one
    image for the next instead of faulting fresh ones in (lenslet/images/pool.py says what it saves)."""
    if _mallopt is not None:
        _mallopt(M_MMAP_THRESHOLD, 32 << 20)  # bigger buffers are still mapped
        _mallopt(M_TRIM_THRESHOLD, kept)
