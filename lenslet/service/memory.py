"""Giving freed memory back to the system, where the C library allows it."""

import ctypes


def _trimmer():
    try:
        return ctypes.CDLL(None).malloc_trim  # glibc
    except (OSError, AttributeError):
        return None


_malloc_trim = _trimmer()


def trim():
    """Hand the heap's free pages back to the system (glibc's malloc_trim; nothing elsewhere).

    glibc keeps what a decode freed in the heap of the thread that freed it (a
    web process has one per request thread): a process that made a few big
    thumbnails would hold their memory until it ends. A trim costs well under a
    millisecond on such a heap, against 30-100 ms for the thumbnail before it.
    """
    if _malloc_trim is not None:
        _malloc_trim(0)
