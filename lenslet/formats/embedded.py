"""The XMP and IPTC an image (JPEG, PNG or WebP) carries inside itself, read from its first bytes."""

import zlib
from dataclasses import dataclass

from lenslet.formats import xmp

XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\0"
EXTENDED_APP1 = b"http://ns.adobe.com/xmp/extension/\0"
PHOTOSHOP_APP13 = b"Photoshop 3.0\0"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_XMP_KEYWORD = b"XML:com.adobe.xmp"
IPTC_RESOURCE = 0x0404
IPTC_KEYWORDS = (2, 25)
IPTC_CHARSET = (1, 90)
UTF8_ESCAPES = (b"\x1b%G", b"\x1b%/I")  # ISO 2022 escapes IPTC uses to say "UTF-8"
RESOURCE_SIGNATURES = (b"8BIM", b"PHUT", b"AgHg", b"DCSR")  # Photoshop, and what older writers put instead
MAX_BEYOND_HEAD = xmp.MAX_XMP + 64 * 1024  # bytes read_at may fetch for one image
MAX_READS = 16   # read_at calls for one image
WINDOW = 64 * 1024  # bytes per read past the head
MAX_SEGMENTS = 4096


@dataclass
class Found:
    """What an image holds, before it is interpreted."""

    xmp: bytes = None       # the main XMP packet
    extended: bytes = None  # a JPEG's extended XMP, when whole
    iptc_keywords: tuple = ()
    problems: tuple = ()


def read(head, read_at=None):
    """Read the keywords, rating, label, title and description an image holds (an xmp.Metadata)."""
    found = extract(head, read_at)
    if found.xmp is None and not found.iptc_keywords and not found.problems:
        return xmp.Metadata()  # most images: nothing to combine
    metadata = xmp.parse(found.xmp) if found.xmp is not None else xmp.Metadata()
    if found.extended is not None:
        metadata = xmp.combine(metadata, xmp.parse(found.extended))
    metadata = xmp.with_iptc(metadata, found.iptc_keywords)
    if found.problems:
        metadata = xmp.combine(metadata, xmp.Metadata(problems=found.problems))
    return metadata


def extract(head, read_at=None):
    """Find the XMP packets and IPTC keywords in an image's bytes (JPEG, PNG or WebP; else nothing)."""
    source, found, problems = _Source(bytes(head), read_at), Found(), []
    try:
        if source.head.startswith(b"\xff\xd8"):
            _jpeg(source, found, problems)
        elif source.head.startswith(PNG_SIGNATURE):
            _png(source, found, problems)
        elif source.head[:4] == b"RIFF" and source.head[8:12] == b"WEBP":
            _webp(source, found, problems)
    except _Beyond as ex:
        problems.append(str(ex))
    found.problems = tuple(problems)
    return found


class _Beyond(Exception):
    """Metadata lies past the bytes lenslet may look at."""


class _Source:
    """The head, and reads past it through read_at within a budget of bytes and reads."""

    def __init__(self, head, read_at):
        self.head, self.read_at = head, read_at
        self.window_at, self.window = None, b""
        self.fetched = self.reads = 0

    def get(self, offset, size):
        """Return size bytes at offset (fewer at the end), or raise _Beyond past the budget."""
        if offset + size <= len(self.head):
            return self.head[offset:offset + size]
        if self.window_at is not None and self.window_at <= offset and \
                offset + size <= self.window_at + len(self.window):
            return self.window[offset - self.window_at:offset - self.window_at + size]
        if self.read_at is None:
            raise _Beyond(f"metadata at byte {offset} lies past the {len(self.head)} bytes read")
        want = max(size, WINDOW)
        if self.reads >= MAX_READS or self.fetched + want > MAX_BEYOND_HEAD:
            raise _Beyond(f"metadata at byte {offset} lies past what lenslet reads of an image")
        self.reads += 1
        self.fetched += want
        self.window_at, self.window = offset, bytes(self.read_at(offset, want))
        return self.window[:size]


# JPEG

def _jpeg(source, found, problems):
    offset, photoshop, extended = 2, [], {}
    for _ in range(MAX_SEGMENTS):
        marker = source.get(offset, 4)
        if len(marker) < 2 or marker[0] != 0xFF:
            break
        code = marker[1]
        if code == 0xFF:  # fill byte
            offset += 1
            continue
        if code in (0xD8, 0x01) or 0xD0 <= code <= 0xD7:  # markers without a length
            offset += 2
            continue
        if code in (0xDA, 0xD9) or len(marker) < 4:  # the picture starts: metadata comes before it
            break
        length = int.from_bytes(marker[2:4], "big")
        if length < 2:
            problems.append(f"a JPEG segment at byte {offset} has a bad length")
            break
        if code in (0xE1, 0xED):
            try:
                payload = source.get(offset + 4, length - 2)
            except _Beyond as ex:
                problems.append(str(ex))
                break
            if code == 0xE1 and payload.startswith(XMP_APP1) and found.xmp is None:
                found.xmp = payload[len(XMP_APP1):]
            elif code == 0xE1 and payload.startswith(EXTENDED_APP1):
                _extended_chunk(payload[len(EXTENDED_APP1):], extended, problems)
            elif code == 0xED and payload.startswith(PHOTOSHOP_APP13):
                photoshop.append(payload[len(PHOTOSHOP_APP13):])
        offset += 2 + length
    block = _photoshop_iptc(b"".join(photoshop))
    if block:
        found.iptc_keywords = _iptc_keywords(block)
    if extended and found.xmp is not None:
        found.extended = _extended_packet(found.xmp, extended, problems)


def _extended_chunk(chunk, extended, problems):
    """Keep one chunk of extended XMP: 32 hex digits of GUID, total length, offset, bytes."""
    if len(chunk) < 40:
        problems.append("an extended XMP segment is too short")
        return
    guid, total, at = chunk[:32], int.from_bytes(chunk[32:36], "big"), int.from_bytes(chunk[36:40], "big")
    data = chunk[40:]
    if total > xmp.MAX_XMP or at + len(data) > total:
        problems.append("an extended XMP segment does not fit its stated length")
        return
    parts = extended.setdefault(guid, {"total": total, "chunks": {}})
    if parts["total"] == total:
        parts["chunks"][at] = data


def _extended_packet(main, extended, problems):
    """The extended packet the main one names (xmpNote:HasExtendedXMP), put together; None if incomplete."""
    guid = xmp.parse(main).extended
    parts = extended.get(guid.encode("ascii", "replace")) if guid else None
    if parts is None:
        problems.append("extended XMP that the main packet does not name was ignored")
        return None
    packet, end = bytearray(), 0
    for at, data in sorted(parts["chunks"].items()):
        if at > end:
            break
        packet += data[end - at:]
        end = max(end, at + len(data))
    if end != parts["total"]:
        problems.append(f"the extended XMP is incomplete ({end} of {parts['total']} bytes found)")
        return None
    return bytes(packet)


def _photoshop_iptc(resources):
    """The IPTC-IIM block (resource 0x0404) among Photoshop image resources."""
    offset = 0
    while offset + 12 <= len(resources) and resources[offset:offset + 4] in RESOURCE_SIGNATURES:
        resource = int.from_bytes(resources[offset + 4:offset + 6], "big")
        name_length = resources[offset + 6]
        offset += 6 + ((name_length + 2) & ~1)  # a Pascal string padded to an even length
        if offset + 4 > len(resources):
            return None
        size = int.from_bytes(resources[offset:offset + 4], "big")
        offset += 4
        if resource == IPTC_RESOURCE:
            return resources[offset:offset + size]
        offset += size + (size & 1)
    return None


def _iptc_keywords(block):
    """Keywords (2:25) of an IPTC-IIM block, in UTF-8 when 1:90 says so, else Latin-1."""
    raw, utf8, offset = [], False, 0
    while offset + 5 <= len(block) and block[offset] == 0x1C:
        record, dataset = block[offset + 1], block[offset + 2]
        size = int.from_bytes(block[offset + 3:offset + 5], "big")
        offset += 5
        if size & 0x8000:  # an extended length: never a keyword's
            count = size & 0x7FFF
            if count > 4:
                break
            size = int.from_bytes(block[offset:offset + count], "big")
            offset += count
        value = block[offset:offset + size]
        offset += size
        if (record, dataset) == IPTC_CHARSET:
            utf8 = value in UTF8_ESCAPES
        elif (record, dataset) == IPTC_KEYWORDS:
            raw.append(value)
    codec = "utf-8" if utf8 else "latin-1"
    return tuple(value.decode(codec, "replace").strip() for value in raw if value.strip())


# PNG and WebP

def _png(source, found, problems):
    offset = len(PNG_SIGNATURE)
    for _ in range(MAX_SEGMENTS):
        header = source.get(offset, 8)
        if len(header) < 8:
            break
        size, kind = int.from_bytes(header[:4], "big"), header[4:8]
        if kind == b"IEND":
            break
        if kind == b"iTXt" and size <= xmp.MAX_XMP:
            text = _png_xmp(source.get(offset + 8, size), problems)
            found.xmp = text if found.xmp is None else found.xmp  # the first one counts
        elif kind == b"IDAT" and offset + 8 + size > len(source.head):
            break  # the picture runs past the head: not worth reading past it
        offset += 12 + size


def _png_xmp(chunk, problems):
    """The XMP of an iTXt chunk named XML:com.adobe.xmp; None for another iTXt."""
    keyword, _, rest = chunk.partition(b"\0")
    if keyword != PNG_XMP_KEYWORD or len(rest) < 2:
        return None
    compressed = rest[0]  # then the compression method, always 0 (zlib)
    _language, _, rest = rest[2:].partition(b"\0")
    _translated_keyword, _, text = rest.partition(b"\0")
    if not compressed:
        return text
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(text, xmp.MAX_XMP + 1)
    except zlib.error as ex:
        problems.append(f"the PNG's XMP does not decompress: {ex}")
        return None
    if len(data) > xmp.MAX_XMP or inflater.unconsumed_tail:
        problems.append(f"the PNG's XMP is larger than {xmp.MAX_XMP // (1024 * 1024)} MB")
        return None
    return data


def _webp(source, found, problems):
    # Only VP8X flags XMP, which follows the picture: skip reads past the head when it is absent.
    if source.head[12:16] != b"VP8X" or len(source.head) < 21 or not source.head[20] & 0x04:
        return
    end = 8 + int.from_bytes(source.head[4:8], "little")
    offset = 12
    for _ in range(MAX_SEGMENTS):
        if offset + 8 > end:
            break
        header = source.get(offset, 8)
        if len(header) < 8:
            break
        kind, size = header[:4], int.from_bytes(header[4:8], "little")
        if kind == b"XMP ":
            if size > xmp.MAX_XMP:
                problems.append(f"the WebP's XMP is larger than {xmp.MAX_XMP // (1024 * 1024)} MB")
            else:
                found.xmp = source.get(offset + 8, size)
            break
        offset += 8 + size + (size & 1)
