"""The JPEG preview a raw camera file embeds: where it lies and what the camera recorded."""

import struct
from typing import NamedTuple

from lenslet.errors import Undecodable

RAF_MAGIC = b"FUJIFILMCCD-RAW "
TIFF_MAGICS = {b"II*\x00": "<", b"MM\x00*": ">", b"IIRO": "<", b"IIRS": "<", b"MMOR": ">", b"IIU\x00": "<"}
OLYMPUS = b"OLYMPUS\x00"
# A raw file is untrusted input: every offset is checked and every count and walk is bounded.
MAX_IFDS = 32               # per file
MAX_ENTRIES = 1000          # per IFD
MAX_SUBIFDS = 16            # per tag
MAX_PREVIEW = 64 << 20      # bytes
JPEG_HEAD = 128 * 1024      # bytes read to reach the frame header past EXIF and ICC
MAX_CANDIDATES = 16         # per file
MAX_BOXES = 256             # per CR3
CR3_PREVIEW = bytes.fromhex("eaf42b5e1c984b88b9fbb7dc406e4d16")  # the uuid box holding PRVW
CR3_CANON = bytes.fromhex("85c0b687820f11e08111f4ce462b6a48")    # moov's uuid box holding THMB and CMT1-4
DECODABLE = (0xC0, 0xC1, 0xC2)  # baseline, extended, progressive
ORIENTATION, MAKE, MODEL, EXIF_IFD, SUB_IFDS, TAKEN = 0x0112, 0x010F, 0x0110, 0x8769, 0x014A, 0x9003
JPEG_OFFSET, JPEG_LENGTH, COMPRESSION, STRIPS, STRIP_BYTES = 0x0201, 0x0202, 0x0103, 0x0111, 0x0117
JPG_FROM_RAW, MAKER_NOTE = 0x002E, 0x927C
CAMERA_SETTINGS, PREVIEW_START, PREVIEW_LENGTH = 0x2020, 0x0101, 0x0102
SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}  # TIFF type -> bytes


class Preview(NamedTuple):
    """Where a raw's embedded JPEG lies, and what the raw says about the picture."""

    offset: int
    length: int
    width: int          # before orientation
    height: int
    orientation: int    # 0 when the raw has none: the JPEG's own EXIF then says
    exif: bytes         # the JPEG's own EXIF block, or b""
    make: str
    model: str
    taken: str          # as EXIF writes it, or ""


def is_raw(head):
    return head[:4] in TIFF_MAGICS or head[:16] == RAF_MAGIC or is_cr3(head)


def is_cr3(head):
    return head[4:12] == b"ftypcrx "


class _Found:
    """What the walk gathers: JPEG candidates and the camera's tags."""

    def __init__(self):
        self.candidates = []  # (offset, length)
        self.orientation = 0
        self.make = self.model = self.taken = ""
        self.ifds = 0


def find_preview(read, size):
    """Return the largest browser-readable JPEG preview of a raw file as a Preview, or raise Undecodable."""
    head = read(0, 16)
    found = _Found()
    try:
        if head[:16] == RAF_MAGIC:
            header = read(84, 8)
            if len(header) == 8:
                found.candidates.append(struct.unpack(">II", header))
        elif head[:4] in TIFF_MAGICS and len(head) >= 8:
            _walk_tiff(read, size, head, found)
        elif is_cr3(head):
            _walk_cr3(read, size, found)
        else:
            raise Undecodable("not a raw file lenslet reads (DNG, CR2, NEF, ARW, ORF, RW2, RAF, PEF, CR3)")
    except struct.error:
        pass  # a truncated directory or box: earlier candidates still count
    best = None
    for offset, length in list(dict.fromkeys(found.candidates))[:MAX_CANDIDATES]:
        frame = _jpeg_frame(read, size, offset, length)
        if frame is not None and (best is None or frame[0] * frame[1] > best[1][0] * best[1][1]):
            best = ((offset, length), frame)
    if best is None:
        raise Undecodable("this raw file holds no JPEG preview lenslet can show")
    (offset, length), (width, height, exif) = best
    return Preview(offset, length, width, height, found.orientation, exif, found.make, found.model, found.taken)


def _walk_tiff(read, size, head, found, role="ifd0"):
    order = TIFF_MAGICS[head[:4]]
    (first,) = struct.unpack(order + "I", head[4:8])
    todo, seen = [(first, 0, order, role)], set()
    while todo and found.ifds < MAX_IFDS:
        offset, base, order, role = todo.pop(0)
        if (base + offset) in seen or not 8 <= base + offset < size:
            continue
        seen.add(base + offset)
        found.ifds += 1
        entries, following = _ifd(read, base + offset, order)
        if role in ("ifd0", "chain") and following:
            todo.append((following, base, order, "chain"))
        _gather(read, entries, base, order, role, found, todo)


def _walk_cr3(read, size, found):
    """Gather a CR3's JPEGs (PRVW, THMB) and what its CMT1 and CMT2 TIFFs say."""
    budget = [MAX_BOXES]
    for kind, body, end in _boxes(read, 0, size, budget):
        if kind == b"uuid" and read(body, 16) == CR3_PREVIEW:
            for inner, start, stop in _boxes(read, body + 24, end, budget):
                if inner == b"PRVW":
                    _boxed_jpeg(read, start, stop, found)
        elif kind == b"moov":
            for inner, start, stop in _boxes(read, body, end, budget):
                if inner != b"uuid" or read(start, 16) != CR3_CANON:
                    continue
                for part, at, until in _boxes(read, start + 16, stop, budget):
                    if part == b"THMB":
                        _boxed_jpeg(read, at, until, found)
                    elif part in (b"CMT1", b"CMT2"):
                        _boxed_tiff(read, at, until, found, "ifd0" if part == b"CMT1" else "exif")


def _boxes(read, start, end, budget):
    """Yield (type, contents start, end) of each ISO media box from start to end, stopping at a bad size."""
    at = start
    while at + 8 <= end and budget[0] > 0:
        budget[0] -= 1
        size, kind = struct.unpack(">I4s", read(at, 8))
        body = at + 8
        if size == 1:  # a 64-bit size follows the type
            (size,) = struct.unpack(">Q", read(at + 8, 8))
            body = at + 16
        elif size == 0:  # to the end of the file
            size = end - at
        if size < body - at or at + size > end:
            return
        yield kind, body, at + size
        at += size


def _boxed_jpeg(read, start, end, found):
    at = read(start, min(64, end - start)).find(b"\xff\xd8\xff")  # the JPEG starts after a few header fields
    if at >= 0:
        found.candidates.append((start + at, end - start - at))


def _boxed_tiff(read, start, end, found, role):
    """Take orientation, make and model (CMT1) or the time taken (CMT2) from a CMT box's TIFF."""
    def inside(offset, length):
        return read(start + offset, max(0, min(length, end - start - offset))) if offset >= 0 else b""

    head = inside(0, 16)
    if head[:4] not in TIFF_MAGICS or len(head) < 8:
        return
    said = _Found()
    try:
        _walk_tiff(inside, end - start, head, said, role)
    except struct.error:
        return
    if role == "ifd0":
        found.orientation, found.make, found.model = said.orientation, said.make, said.model
    else:
        found.taken = said.taken


def _gather(read, entries, base, order, role, found, todo):
    """Take what the walk needs from one IFD's entries; queue the IFDs they point to."""
    def number(tag, at=0):
        values = _values(read, entries.get(tag), base, order, limit=at + 1)
        return values[at] if len(values) > at else None

    def candidate(start_tag, length_tag):
        start, length = number(start_tag), number(length_tag)
        if start and length:
            found.candidates.append((base + start, length))

    if role == "ifd0":
        found.orientation = number(ORIENTATION) or 0
        found.orientation = found.orientation if 1 <= found.orientation <= 8 else 0
        found.make = _text(read, entries.get(MAKE), base, order)
        found.model = _text(read, entries.get(MODEL), base, order)
    if role == "exif":
        found.taken = _text(read, entries.get(TAKEN), base, order)
    if role == "olympus":
        settings = number(CAMERA_SETTINGS)
        if settings is not None:
            todo.append((settings, base, order, "olympus-settings"))
    if role == "olympus-settings":
        candidate(PREVIEW_START, PREVIEW_LENGTH)
        return
    candidate(JPEG_OFFSET, JPEG_LENGTH)
    if number(COMPRESSION) in (6, 7) and entries.get(STRIPS) and entries[STRIPS][1] == 1:
        candidate(STRIPS, STRIP_BYTES)
    if JPG_FROM_RAW in entries:  # RW2: the JPEG is the tag's value
        _, count, raw_value = entries[JPG_FROM_RAW]
        if count > 4:
            found.candidates.append((base + struct.unpack(order + "I", raw_value)[0], count))
    for sub in _values(read, entries.get(SUB_IFDS), base, order, limit=MAX_SUBIFDS):
        todo.append((sub, base, order, "sub"))
    exif = number(EXIF_IFD)
    if exif:
        todo.append((exif, base, order, "exif"))
    note = entries.get(MAKER_NOTE)
    if note and note[1] > 16:
        at = base + struct.unpack(order + "I", note[2])[0]
        blob = read(at, 16)
        # Olympus: an IFD 12 bytes in, its offsets counted from the maker note's start.
        if blob[:8] == OLYMPUS and blob[8:10] in (b"II", b"MM"):
            note_order = "<" if blob[8:10] == b"II" else ">"
            todo.append((12, at, note_order, "olympus"))


def _ifd(read, at, order):
    """Return {tag: (type, count, value bytes)} of an IFD, and the next IFD's offset (0: none)."""
    raw = read(at, 2)
    if len(raw) < 2:
        return {}, 0
    (count,) = struct.unpack(order + "H", raw)
    count = min(count, MAX_ENTRIES)
    block = read(at + 2, count * 12 + 4)
    entries = {}
    for start in range(0, min(count * 12, len(block) - len(block) % 12), 12):
        tag, kind, number = struct.unpack_from(order + "HHI", block, start)
        entries.setdefault(tag, (kind, number, block[start + 8:start + 12]))
    following = struct.unpack_from(order + "I", block, count * 12)[0] if len(block) >= count * 12 + 4 else 0
    return entries, following


def _values(read, entry, base, order, limit):
    """Return up to limit integers of a SHORT, LONG or IFD entry, else []."""
    if entry is None:
        return []
    kind, count, raw = entry
    code = {3: "H", 4: "I", 13: "I", 8: "h", 9: "i"}.get(kind)
    if code is None or count == 0:
        return []
    count = min(count, limit)
    width = SIZES[kind] * count
    data = raw[:width] if SIZES[kind] * entry[1] <= 4 else \
        read(base + struct.unpack(order + "I", raw)[0], width) if width <= 4096 else b""
    if len(data) < width:
        return []
    return list(struct.unpack(order + code * count, data))


def _text(read, entry, base, order):
    if entry is None or entry[0] != 2:
        return ""
    _, count, raw = entry
    data = raw[:count] if count <= 4 else read(base + struct.unpack(order + "I", raw)[0], min(count, 200))
    return data.split(b"\x00")[0].decode("utf-8", "replace").strip()


def _jpeg_frame(read, size, offset, length):
    """Return (width, height, EXIF block or b"") of a JPEG a browser can decode, or None."""
    if not (0 < offset < size and 0 < length <= MAX_PREVIEW and offset + length <= size):
        return None
    data = read(offset, min(length, JPEG_HEAD))
    if data[:3] != b"\xff\xd8\xff":
        return None
    at, exif = 2, b""
    for _ in range(64):
        if at + 4 > len(data) or data[at] != 0xFF:
            return None
        code, block = data[at + 1], int.from_bytes(data[at + 2:at + 4], "big")
        if code in DECODABLE:
            frame = data[at + 4:at + 9]
            if len(frame) < 5:
                return None
            height, width = int.from_bytes(frame[1:3], "big"), int.from_bytes(frame[3:5], "big")
            return (width, height, exif) if width and height else None
        if 0xC3 <= code <= 0xCF and code not in (0xC4, 0xC8, 0xCC):
            return None  # lossless or arithmetic: raw sensor data, not a picture
        if code == 0xE1 and data[at + 4:at + 10] == b"Exif\x00\x00":
            exif = data[at + 4:at + 2 + block]
        if block < 2:
            return None
        at += 2 + block
    return None
