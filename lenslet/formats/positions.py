"""An original's GPS position taken out as patches of the same length over its bytes, its pixels untouched: EXIF's
GPS directories and their pointers, XMP's exif:GPS* properties; None when anything else may still tell it."""

import re
import struct
import zlib

from lenslet.formats.embedded import EXTENDED_APP1, PNG_SIGNATURE, PNG_XMP_KEYWORD, XMP_APP1
from lenslet.formats.webp_chunks import chunks

GPS_POINTER = 0x8825
DIRECTORY_POINTERS = (0x8769, 0xA005, 0x014A)  # Exif, Interop, SubIFDs: exiftool follows GPS from each
TYPE_BYTES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
MAX_ENTRIES = 1000  # in one directory: more is no camera's
MAX_DIRECTORIES = 16
EXIF_APP1 = b"Exif\0\0"
PNG_CHUNKS = set(b"IHDR PLTE IDAT IEND tRNS cHRM gAMA iCCP sBIT sRGB cICP pHYs bKGD tIME hIST sPLT tEXt zTXt iTXt eXIf "
                 b"acTL fcTL fdAT".split())
WEBP_CHUNKS = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ICCP", b"ANIM", b"ANMF", b"EXIF", b"XMP "}
# A position left in words after the edit (DJI's drone-dji:GpsLatitude, a raw profile's text...): unsure.
TOLD = re.compile(rb"gps\w*(lat|lon|alt|pos|coord)|raw profile type (exif|app1|xmp)", re.IGNORECASE)


class Unsure(Exception):
    """The position might stay in the bytes."""


def position_removed(head, size, tail=b""):
    """Return [(offset, bytes)] over an original of size bytes that take its position out ([]: none there), or
    None when unsure. head: its first bytes (a PNG's or WebP's all); tail: a JPEG's last two."""
    try:
        if head.startswith(b"\xff\xd8") and tail == b"\xff\xd9":  # bytes after the picture (a video) may tell it
            return _jpeg(head)
        if head.startswith(PNG_SIGNATURE) and len(head) == size:
            return _png(head)
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP" and len(head) == size:
            return _webp(head)
    except (Unsure, struct.error, ValueError, IndexError):
        pass
    return None


def patched(data, start, patches):
    """Return the bytes found at start with the patches that fall on them applied."""
    out = bytearray(data)
    for at, new in patches:
        low, high = max(at, start), min(at + len(new), start + len(data))
        if low < high:
            out[low - start:high - start] = new[low - at:high - at]
    return bytes(out)


def _jpeg(head):
    found, offset = [], 2
    while True:
        if offset + 4 > len(head) or head[offset] != 0xFF:
            raise Unsure  # the picture does not start within the head
        code = head[offset + 1]
        if code == 0xFF or code == 0x01 or 0xD0 <= code <= 0xD7:  # fill byte, markers without a length
            offset += 1 if code == 0xFF else 2
            continue
        if code == 0xDA:
            return found
        length = int.from_bytes(head[offset + 2:offset + 4], "big")
        payload, at = head[offset + 4:offset + 2 + length], offset + 4
        if code == 0xD9 or length < 2 or len(payload) < length - 2:
            raise Unsure
        if code == 0xE1 and payload.startswith(EXIF_APP1):
            found += _tiff(payload[6:], at + 6)
        elif code == 0xE1 and payload.startswith(XMP_APP1):
            found += _xmp(payload[len(XMP_APP1):], at + len(XMP_APP1))
        elif (code == 0xE1 and payload.startswith(EXTENDED_APP1)) or (code == 0xE2 and payload.startswith(b"MPF\0")) \
                or code == 0xEB or (code == 0xED and re.search(rb"8BIM\x04[\x22\x24]", payload)) \
                or TOLD.search(payload):
            raise Unsure  # extended XMP, other pictures' EXIF, C2PA, Photoshop's copies of EXIF and XMP
        offset += 2 + length


def _png(data):
    found, offset = [], len(PNG_SIGNATURE)
    while True:
        length, kind = struct.unpack_from(">I4s", data, offset)
        at, end = offset + 8, offset + 12 + length
        if end > len(data) or kind not in PNG_CHUNKS:
            raise Unsure
        payload, edits = data[at:at + length], []
        if kind == b"eXIf":
            edits = _tiff(payload, 0)
        elif kind == b"iTXt" and payload.startswith(PNG_XMP_KEYWORD + b"\0"):
            start = len(PNG_XMP_KEYWORD) + 3  # past the keyword, its NUL, the compression flag and method
            if payload[start - 2] != 0:
                raise Unsure  # compressed: its words cannot be changed in place
            start = payload.index(b"\0", payload.index(b"\0", start) + 1) + 1  # past language and translation
            edits = _xmp(payload[start:], start)
        elif kind in (b"tEXt", b"zTXt", b"iTXt") and TOLD.search(payload):
            raise Unsure
        if edits:
            new = patched(payload, 0, edits)
            found.append((at, new + zlib.crc32(kind + new).to_bytes(4, "big")))
        if kind == b"IEND":
            if end != len(data):
                raise Unsure
            return found
        offset = end


def _webp(data):
    found, end = [], 12
    if int.from_bytes(data[4:8], "little") + 8 != len(data):
        raise Unsure
    for kind, at, length in chunks(data):
        end = at + length + (length & 1)
        if end > len(data) or kind not in WEBP_CHUNKS:
            raise Unsure
        payload = data[at:at + length]
        if kind == b"EXIF":
            skip = len(EXIF_APP1) if payload.startswith(EXIF_APP1) else 0
            found += _tiff(payload[skip:], at + skip)
        elif kind == b"XMP ":
            found += _xmp(payload, at)
    if end != len(data):
        raise Unsure
    return found


def _tiff(tiff, base):
    """Patches (at base) that take the GPS directories and the pointers to them out of a TIFF structure."""
    order = {b"II": "<", b"MM": ">"}.get(bytes(tiff[:2]))
    if order is None or struct.unpack_from(order + "H", tiff, 2)[0] != 42:
        raise Unsure
    zeroed, rewritten = [], []
    for at, entries, following in _directories(tiff, order):
        kept = [entry for entry in entries if entry[0] != GPS_POINTER]
        for _, kind, count, value in [entry for entry in entries if entry[0] == GPS_POINTER]:
            zeroed += _gps_directory(tiff, order, _offsets(tiff, order, kind, count, value)[0])
        if len(kept) < len(entries):
            gone = len(entries) - len(kept)
            rewritten.append((at, struct.pack(order + "H", len(kept))
                              + b"".join(struct.pack(order + "HHI4s", *entry) for entry in kept)
                              + struct.pack(order + "I", following) + bytes(12 * gone)))
    edits = zeroed + rewritten  # a directory rewritten last wins over zeroes overlapping it
    if any(tag == GPS_POINTER for _, entries, _ in _directories(patched(tiff, 0, edits), order)
           for tag, *_ in entries):
        raise Unsure
    return [(base + at, new) for at, new in edits]


def _directories(tiff, order):
    """Yield (offset, entries, next offset) of each directory a reader reaches from the first, each once."""
    todo, seen = [struct.unpack_from(order + "I", tiff, 4)[0]], set()
    while todo:
        at = todo.pop()
        if not at or at in seen:
            continue
        seen.add(at)
        if len(seen) > MAX_DIRECTORIES:
            raise Unsure
        entries, following = _directory(tiff, order, at)
        yield at, entries, following
        todo.append(following)
        for tag, kind, number, value in entries:
            if tag in DIRECTORY_POINTERS:
                todo += _offsets(tiff, order, kind, number, value)


def _directory(tiff, order, at):
    count = struct.unpack_from(order + "H", tiff, at)[0]
    if count > MAX_ENTRIES or at + 6 + 12 * count > len(tiff):
        raise Unsure
    entries = [struct.unpack_from(order + "HHI4s", tiff, at + 2 + 12 * n) for n in range(count)]
    return entries, struct.unpack_from(order + "I", tiff, at + 2 + 12 * count)[0]


def _offsets(tiff, order, kind, count, value):
    if kind not in (4, 13) or not 0 < count <= MAX_DIRECTORIES:
        raise Unsure
    data = value if count == 1 else tiff[struct.unpack_from(order + "I", value)[0]:][:4 * count]
    return list(struct.unpack_from(order + "I" * count, data))


def _gps_directory(tiff, order, at):
    """Zeroes over a GPS directory and the values it points to."""
    entries, _ = _directory(tiff, order, at)
    zeroes = [(at, bytes(6 + 12 * len(entries)))]
    for _, kind, number, value in entries:
        size, start = TYPE_BYTES.get(kind, 1 << 32) * number, struct.unpack_from(order + "I", value)[0]
        if size > 4 and start + size > len(tiff):
            raise Unsure
        zeroes += [(start, bytes(size))] if size > 4 else []
    return zeroes


def _xmp(packet, base):
    """Patches (at base) that turn an XMP packet's exif:GPS* properties, attributes or elements, into spaces."""
    if b"\0" in packet:
        raise Unsure  # UTF-16 or 32
    edited = bytearray(packet)
    for prefix in set(re.findall(rb"xmlns:([\w.-]+)\s*=\s*[\"']http://ns\.adobe\.com/exif/1\.0/[\"']", packet)):
        name = re.escape(prefix) + rb":(GPS\w*)"
        found = re.finditer(rb"\s" + name + rb"\s*=\s*(\"[^\"]*\"|'[^']*')|<" + name + rb"(\s[^>]*?)?(/>|>.*?</"
                            + re.escape(prefix) + rb":\3\s*>)", packet, re.DOTALL)
        for match in found:
            edited[match.start():match.end()] = b" " * (match.end() - match.start())
    if TOLD.search(edited):
        raise Unsure
    return [(base, bytes(edited))] if edited != packet else []
