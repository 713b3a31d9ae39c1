"""WebP files as RIFF chunks: walked and checked whole."""

import struct

ANIMATED = 0x02  # VP8X's animation flag


def chunks(data):
    """Yield (fourcc, payload offset, payload length) of each chunk, even one cut short."""
    offset = 12
    while offset + 8 <= len(data):
        length = struct.unpack_from("<I", data, offset + 4)[0]
        yield data[offset:offset + 4], offset + 8, length
        offset += 8 + length + (length & 1)


def problem(data, max_edge):
    """Why bytes are not a whole WebP of one still image whose long edge is at most max_edge, or None."""
    if len(data) < 20 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return "not a WebP"
    told = struct.unpack_from("<I", data, 4)[0] + 8
    if told != len(data):
        return "a WebP cut short" if told > len(data) else "holds more than its WebP"
    end = 12
    for _, start, length in chunks(data):
        end = start + length + (length & 1)
    if end != len(data):
        return "a WebP whose chunks do not add up"
    size = canvas(data[12:16], data[20:30])
    if size is None:
        return "a WebP of no kind lenslet makes"
    if max(size) > max_edge:
        return f"{size[0]}x{size[1]}: larger than any thumbnail lenslet makes"
    return None


def canvas(fourcc, head):
    """Return the (width, height) a still WebP's first chunk states, or None."""
    if fourcc == b"VP8X" and len(head) >= 10 and not head[0] & ANIMATED:
        return int.from_bytes(head[4:7], "little") + 1, int.from_bytes(head[7:10], "little") + 1
    if fourcc == b"VP8L" and head[:1] == b"\x2f" and len(head) >= 5:
        bits = int.from_bytes(head[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if fourcc == b"VP8 " and head[3:6] == b"\x9d\x01\x2a" and len(head) >= 10:
        return struct.unpack_from("<H", head, 6)[0] & 0x3FFF, struct.unpack_from("<H", head, 8)[0] & 0x3FFF
    return None
