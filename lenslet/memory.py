"""Give freed memory back to the system where glibc allows it."""

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
    """Map each buffer of BIG_BUFFER or more on its own, so freeing it returns the memory."""
    if _mallopt is not None:
        _mallopt(M_MMAP_THRESHOLD, BIG_BUFFER)


def trim():
    """Hand the heap's free pages back to the system."""
    if _malloc_trim is not None:
        _malloc_trim(0)


def keep_heap(kept):
    """Keep big buffers and up to `kept` freed bytes in the heap, for the next image to reuse."""
    if _mallopt is not None:
        _mallopt(M_MMAP_THRESHOLD, 32 << 20)  # glibc's maximum
        _mallopt(M_TRIM_THRESHOLD, kept)
