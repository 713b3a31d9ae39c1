"""Giving freed memory back to the system, where the C library allows it."""

import ctypes

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
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
