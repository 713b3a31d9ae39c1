"""Sets of items as bitmaps (item 0 the lowest bit), and arrays of item ids read back; pure data."""

import re
from array import array
from collections import deque
from itertools import repeat

BITS = [tuple(bit for bit in range(8) if value >> bit & 1) for value in range(256)]
DIGIT_OF = bytes.maketrans(b"\x00\x01", b"01")  # an item's byte as a base-2 digit
FLAG_OF = bytes.maketrans(b"01", b"\x00\x01")


def array_of(code, data):
    ids = array(code)
    ids.frombytes(data)
    return ids


def marked(ids, count):
    """Return the bitmap of ids (item 0 the lowest bit)."""
    marks = bytearray(count)
    deque(map(marks.__setitem__, ids, repeat(1)), 0)
    return int(marks.translate(DIGIT_OF)[::-1] or b"0", 2)


def bitmap_page(bitmap, lo, hi, count, offset, limit):
    """Return (total, one page) of a bitmap's ids within [lo, hi)."""
    if (lo, hi) != (0, count):
        bitmap &= ((1 << hi) - 1) ^ ((1 << lo) - 1)
    total, want, ids = bitmap.bit_count(), offset + limit, []
    bits = bitmap.to_bytes((count + 7) // 8, "little")
    for byte in re.finditer(rb"[^\x00]", bits):  # empty stretches are skipped in C
        at = byte.start()
        ids.extend(at * 8 + bit for bit in BITS[bits[at]])
        if len(ids) >= want:
            break
    return total, ids[offset:want]
