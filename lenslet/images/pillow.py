"""Image decoding with Pillow, header probing and the content hash: bytes in, plain data out."""

import datetime
import functools
import io
import re
import struct

import blake3
from PIL import Image, ImageFilter, ImageStat, UnidentifiedImageError

from lenslet.errors import LensletError, Undecodable, UnsupportedMedia
from lenslet.formats import exif, similar
from lenslet.images import raw

# The formats lenslet opens: Pillow tries no other plugin on a client's bytes.
MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "AVIF": "image/avif", "GIF": "image/gif",
        "HEIF": "image/heic"}
OPEN_FORMATS = ("JPEG", "PNG", "WEBP", "AVIF", "GIF")
# ISO media brands of HEIC and HEIF; AVIF is checked first.
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}


@functools.cache
def heif_readable():
    """Return whether pillow-heif is installed, registering it with Pillow on first call."""
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


def open_formats():
    return OPEN_FORMATS + ("HEIF",) if heif_readable() else OPEN_FORMATS


def embedded_jpeg(stream):
    """Return (preview JPEG stream, raw.Preview) for a raw camera file, or None for any other file."""
    if not raw.is_raw(_peek(stream, 16)):
        return None
    read, size = _reader(stream)
    found = raw.find_preview(read, size)
    return io.BytesIO(read(found.offset, found.length)), found


def _reader(stream):
    """Return read(offset, length) from the stream's position, and the bytes left."""
    start = stream.tell()
    size = stream.seek(0, 2) - start
    stream.seek(start)

    def read(offset, length):
        stream.seek(start + offset)
        try:
            return stream.read(max(0, min(length, size - offset)))
        finally:
            stream.seek(start)
    return read, size

ORIENTATION, MAKE, MODEL, EXIF_IFD, DATE_TIME_ORIGINAL = 0x0112, 0x010F, 0x0110, 0x8769, 0x9003
GPS_IFD = 0x8825
OFFSET_TIME_ORIGINAL = 0x9011  # the time zone of DateTimeOriginal, e.g. "+02:00"
_OFFSET = re.compile(r"^[+-](0\d|1[0-4]):[0-5]\d$")
UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
           5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
           8: Image.Transpose.ROTATE_90}
WEBP_METHOD = 2  # much faster than the default for slightly larger files
WEBP_QUALITY_KEPT = 90  # a picture turned after it was made loses little more
QUARTER_TURNS = {5, 6, 7, 8}  # orientations where the displayed width is the stored height
RAW = "image/x-raw"
SNIFF_BYTES = 64  # enough to tell an image type, AVIF's brands included
HASH_PREFIX = "blake3:"


def content_hash(data):
    return HASH_PREFIX + blake3.blake3(data).hexdigest()


def content_hash_of(stream, chunk=1 << 18):
    """Return the content_hash of the rest of a stream, read a chunk at a time."""
    hasher, buffer = blake3.blake3(), bytearray(chunk)
    view = memoryview(buffer)
    while count := stream.readinto(buffer):
        hasher.update(view[:count])
    return HASH_PREFIX + hasher.hexdigest()


DECODE_ERRORS = (OSError, SyntaxError, ValueError, struct.error, EOFError, Image.DecompressionBombError)


def probe(stream, details=False):
    """Read display size and type (and with details, the EXIF summary) without decoding pixels."""
    if raw.is_raw(_peek(stream, 16)):
        return _probe_raw(stream, details)
    header = None if details else jpeg_header(stream)
    try:
        if header is not None:
            width, height, exif_bytes = header
            kind, exif = "image/jpeg", {}
        else:
            with Image.open(stream, formats=open_formats()) as img:
                width, height = img.size
                kind, exif_bytes = MIME[img.format], img.info.get("exif")
                exif = _exif(img) if details else {}
    except UnidentifiedImageError:
        raise unidentified(stream) from None
    except DECODE_ERRORS as ex:
        raise Undecodable(f"cannot read the image header: {ex}") from None
    orientation = exif_orientation(exif_bytes)
    if orientation in QUARTER_TURNS:
        width, height = height, width
    found = {"w": width, "h": height, "type": kind, "orientation": orientation}
    found.update(shot(exif_bytes))
    if details:
        found["exif"] = dict(exif, width=width, height=height, orientation=orientation)
    return found


def _probe_raw(stream, details):
    found = raw.find_preview(*_reader(stream))
    orientation = found.orientation or exif_orientation(found.exif)
    width, height = (found.height, found.width) if orientation in QUARTER_TURNS else (found.width, found.height)
    summary = {key: value for key, value in (("make", found.make), ("model", found.model),
                                             ("createdAt", exif_time(found.taken))) if value}
    # Most raw types are TIFFs; the caller tells them apart by name.
    result = {"w": width, "h": height, "type": None, "orientation": orientation}
    if details:
        result["exif"] = dict(summary, width=width, height=height, orientation=orientation)
    result.update(shot(summary))
    return result


def _peek(stream, count):
    start = stream.tell()
    head = stream.read(count)
    stream.seek(start)
    return head


class OverBudget(Exception):
    """More pixels than the budget allows; caught by the caller, never an HTTP answer."""


def make_thumbnail(stream, size, quality, max_pixels, xmp=None, budget=None):
    """Make an upright WebP thumbnail, long edge at most size, within an optional budget."""
    embedded = embedded_jpeg(stream)
    stream, recorded = (embedded[0], embedded[1].orientation) if embedded else (stream, None)
    try:
        with Image.open(stream, formats=("JPEG",) if embedded else open_formats()) as img:
            if img.width * img.height > max_pixels:
                raise Undecodable(f"the image has {img.width}x{img.height} pixels, more than the "
                                  f"{max_pixels:,} LENSLET_MAX_PIXELS allows", pixels=img.width * img.height)
            orientation = recorded or exif_orientation(img.info.get("exif"))
            cost = _drafted_cost(img, size)
            if budget is not None:
                budget.take(cost)
            img.load()
            thumb = _without_opaque_alpha(_displayable(img))
            # A cheap whole-factor reduce first, then one bicubic step.
            thumb.thumbnail((size, size), Image.Resampling.BICUBIC, reducing_gap=1.0)
    except UnidentifiedImageError:
        raise unidentified(stream) from None
    except Image.DecompressionBombError as ex:
        raise Undecodable(f"the image is too large to decode: {ex}") from None
    except DECODE_ERRORS as ex:
        raise Undecodable(f"cannot decode the image (truncated or corrupt?): {ex}") from None
    if orientation in UPRIGHT:
        thumb = thumb.transpose(UPRIGHT[orientation])
    if xmp and LOOK_FIELD in xmp:
        phash, sharpness = look(thumb)
        xmp = xmp.replace(LOOK_FIELD, b'lenslet:look="%s %.1f"' % (phash.encode(), sharpness))
    out = io.BytesIO()
    thumb.save(out, "WEBP", quality=quality, method=WEBP_METHOD, **({"xmp": xmp} if xmp else {}))
    return out.getvalue()


LOOK_FIELD = b'lenslet:look=""'  # in a thumbnail's XMP record: filled with its look as it is made


def look(img):
    """Return the perceptual hash and the sharpness (mean edge strength, 0 to 255) of a thumbnail's pixels."""
    grey = img.convert("L")
    sharpness = ImageStat.Stat(grey.reduce(2).filter(ImageFilter.FIND_EDGES)).mean[0]
    return similar.perceptual_hash(grey.resize((similar.SIDE, similar.SIDE), Image.Resampling.BOX).tobytes()), \
        round(sharpness, 1)


def look_of_thumbnail(webp):
    """Return look() of a stored thumbnail, decoded (one made before its XMP record held it)."""
    try:
        with Image.open(io.BytesIO(webp), formats=("WEBP",)) as img:
            return look(img)
    except (UnidentifiedImageError, *DECODE_ERRORS) as ex:
        raise Undecodable(f"cannot decode the thumbnail: {ex}") from None


def turned(webp, turn, xmp=None):
    """Return a made WebP turned by an orientation a person gave (1: as it is), with xmp or its XMP record kept."""
    if turn not in UPRIGHT:
        return webp
    with Image.open(io.BytesIO(webp), formats=("WEBP",)) as img:
        out, xmp = io.BytesIO(), xmp or img.info.get("xmp")
        img.transpose(UPRIGHT[turn]).save(out, "WEBP", quality=WEBP_QUALITY_KEPT, method=WEBP_METHOD,
                                          **({"xmp": xmp} if xmp else {}))
    return out.getvalue()


def cut(webp, box, size, quality):
    """Return the part of a made WebP a box [x, y, w, h] holds (fractions of its sides), as a WebP fitting size."""
    with Image.open(io.BytesIO(webp), formats=("WEBP",)) as img:
        left, top = round(box[0] * img.width), round(box[1] * img.height)
        face = img.crop((left, top, max(left + 1, round((box[0] + box[2]) * img.width)),
                         max(top + 1, round((box[1] + box[3]) * img.height))))
        face.thumbnail((size, size))
        out = io.BytesIO()
        face.save(out, "WEBP", quality=quality, method=WEBP_METHOD)
    return out.getvalue()


def _cost(img):
    # Doubled when the decode is converted: both images are held at once.
    return img.width * img.height * (1 if img.mode == "RGB" else 2)


def _drafted_cost(img, size):
    """Let JPEG decode at a reduced scale no smaller than the thumbnail; return the pixels the decode holds."""
    whole = 0
    if img.info.get("progressive") and getattr(img, "layer", None):
        # Until its last scan it holds every coefficient of its full size (two bytes, at each component's sampling).
        most = max(h * v for _, h, v, _ in img.layer)
        whole = img.width * img.height * 2 * sum(h * v for _, h, v, _ in img.layer) // (3 * most)
    img.draft(img.mode, fitted(img.size, size))
    return max(whole, _cost(img))


def decode_cost(data, size):
    """Return what make_thumbnail(data, size) will ask its budget for, from the header alone."""
    stream = io.BytesIO(data)
    try:
        embedded = embedded_jpeg(stream)
        with Image.open(embedded[0] if embedded else stream, formats=("JPEG",) if embedded else open_formats()) as img:
            return _drafted_cost(img, size)
    except (LensletError, *DECODE_ERRORS):
        return 0


def fitted(dims, size):
    """Return the size dims shrinks to inside size x size, never enlarged, rounded up."""
    width, height = dims
    longest = max(width, height)
    if longest <= size:
        return width, height
    return max(1, -(-width * size // longest)), max(1, -(-height * size // longest))


def _displayable(img):
    if img.mode in ("RGB", "RGBA"):
        return img
    if img.mode.startswith("I;16") or img.mode in ("I", "F"):
        # scale to 8 bits instead of clipping at 255
        return img.convert("I").point(lambda value: value * (1 / 256)).convert("L").convert("RGB")
    if img.mode in ("LA", "PA", "La", "RGBa") or (img.mode == "P" and "transparency" in img.info):
        return img.convert("RGBA")
    return img.convert("RGB")


def _without_opaque_alpha(img):
    # Resizing RGB is much cheaper than RGBA, and many opaque images carry an alpha channel.
    if img.mode == "RGBA" and img.getchannel("A").getextrema() == (255, 255):
        return img.convert("RGB")
    return img


def unidentified(stream):
    """Return the error for bytes Pillow could not identify."""
    stream.seek(0)
    head = stream.read(SNIFF_BYTES)
    try:
        kind = sniff(head)
    except UnsupportedMedia:
        return UnsupportedMedia(f"not an image lenslet can read ({READABLE})")
    if kind == "image/heic" and not heif_readable():
        return Undecodable("a HEIC/HEIF picture: reading it needs pillow-heif (pip install 'lenslet[heif]')")
    return Undecodable("the file starts like an image but cannot be read (truncated or corrupt?)")


READABLE = "JPEG, PNG, WebP, AVIF, GIF, HEIC, or a camera's raw file with its preview"


def sniff(head):
    """Return the image type of a file from its first bytes, or raise UnsupportedMedia."""
    if head[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        size = int.from_bytes(head[:4], "big")
        brands = [head[at:at + 4] for at in range(8, min(size, len(head)) - 3, 4) if at != 12]
        if b"avif" in brands or b"avis" in brands:
            return "image/avif"
        if HEIF_BRANDS.intersection(brands):
            return "image/heic"
    if raw.is_raw(head):
        return RAW
    raise UnsupportedMedia(f"the file is not an image lenslet reads ({READABLE})")


def jpeg_header(stream):
    """Return (width, height, EXIF or None) from a JPEG's markers, or None to ask Pillow."""
    start = stream.tell()
    try:
        if stream.read(2) != b"\xff\xd8":
            return None
        exif = None
        for _ in range(64):
            marker = stream.read(4)
            if len(marker) < 4 or marker[0] != 0xFF:
                return None
            code, length = marker[1], int.from_bytes(marker[2:4], "big")
            if length < 2:
                return None
            if 0xC0 <= code <= 0xCF and code not in (0xC4, 0xC8, 0xCC):
                frame = stream.read(5)
                height, width = int.from_bytes(frame[1:3], "big"), int.from_bytes(frame[3:5], "big")
                return (width, height, exif) if len(frame) == 5 and width and height else None
            if code == 0xE1 and exif is None:
                block = stream.read(length - 2)
                if block.startswith(b"Exif\x00\x00"):
                    exif = block
            else:
                stream.seek(length - 2, 1)
        return None
    finally:
        stream.seek(start)


def exif_orientation(raw):
    """Read the orientation tag from raw EXIF bytes; 1 when absent or unreadable."""
    if not raw:
        return 1
    if raw.startswith(b"Exif\x00\x00"):
        raw = raw[6:]
    order = {b"II": "<", b"MM": ">"}.get(raw[:2])
    try:
        (first,) = struct.unpack_from(order + "I", raw, 4)
        (count,) = struct.unpack_from(order + "H", raw, first)
        for at in range(first + 2, first + 2 + 12 * min(count, 512), 12):
            tag, kind = struct.unpack_from(order + "HH", raw, at)
            if tag == ORIENTATION:
                value = struct.unpack_from(order + ("H" if kind == 3 else "I"), raw, at + 8)[0]
                return value if 1 <= value <= 8 else 1
    except (struct.error, TypeError):
        pass
    return 1


def shot(exif_data):
    """Return the camera, time taken, lens and GPS position a listing keeps, from EXIF (bytes or a summary)."""
    summary = exif_data if isinstance(exif_data, dict) else exif_summary(exif_data)
    found = {"camera": camera_name(summary.get("make"), summary.get("model")), "taken": summary.get("createdAt"),
             "takenOffset": summary.get("createdAt") and summary.get("takenOffset"), "lens": summary.get("lens"),
             "gps": exif.gps(summary.get("latitude"), summary.get("longitude"))}
    return {key: value for key, value in found.items() if value}


def camera_name(make, model):
    """Return the model, led by the maker unless the model already names it."""
    make, model = (make or "").strip(), (model or "").strip()
    if not model:
        return make[:100] or None
    first = make.split(" ")[0].casefold()
    if not first or model.casefold().startswith(first):
        return model[:100]
    return f"{make} {model}"[:100]


ASCII = 2


def exif_summary(raw):
    """Read make, model, time taken, lens and GPS latitude and longitude from raw EXIF bytes; {} when unreadable."""
    if not raw:
        return {}
    if raw.startswith(b"Exif\x00\x00"):
        raw = raw[6:]
    order = {b"II": "<", b"MM": ">"}.get(raw[:2])
    if order is None:
        return {}
    summary, entries = {}, {}
    try:
        (first,) = struct.unpack_from(order + "I", raw, 4)
        entries = _ifd(raw, order, first)
        for key, tag in (("make", MAKE), ("model", MODEL)):
            value = _ascii(raw, order, entries.get(tag))
            if value:
                summary[key] = value
        exif_ifd = entries.get(EXIF_IFD)
        if exif_ifd is not None:
            (at,) = struct.unpack_from(order + "I", raw, exif_ifd + 8)
            extra = _ifd(raw, order, at)
            _note_taken(summary, lambda tag: _ascii(raw, order, extra.get(tag)))
            lens = exif.lens_of({tag: _ascii(raw, order, extra.get(tag)) for tag in (exif.LENS_MAKE, exif.LENS_MODEL)})
            if lens:
                summary["lens"] = lens
    except (struct.error, TypeError):
        pass
    try:
        # Apart: a broken GPS directory loses the position, never the camera or time read above.
        if entries.get(GPS_IFD) is not None:
            summary.update(_position(raw, order, entries[GPS_IFD]))
    except (struct.error, TypeError):
        pass
    return summary


def _note_taken(summary, read):
    """Add createdAt and its takenOffset to summary, from read(tag) of the EXIF IFD; the offset only with a time."""
    taken = exif_time(read(DATE_TIME_ORIGINAL))
    if taken:
        summary["createdAt"] = taken
        offset = exif_offset(read(OFFSET_TIME_ORIGINAL))
        if offset:
            summary["takenOffset"] = offset


def _ifd(raw, order, at):
    """Return {tag: offset of its entry} of one TIFF directory."""
    (count,) = struct.unpack_from(order + "H", raw, at)
    return {struct.unpack_from(order + "H", raw, entry)[0]: entry
            for entry in range(at + 2, at + 2 + 12 * min(count, 512), 12)}


RATIONAL, SRATIONAL = 5, 10


def _position(raw, order, pointer):
    """Return latitude and longitude from the GPS directory a pointer entry names, by exif.position's rules."""
    (at,) = struct.unpack_from(order + "I", raw, pointer + 8)
    entries = _ifd(raw, order, at)
    tags = {tag: _ascii(raw, order, entries.get(tag)) for tag in (exif.GPS_LATITUDE_REF, exif.GPS_LONGITUDE_REF)}
    tags.update((tag, _rationals(raw, order, entries.get(tag))) for tag in (exif.GPS_LATITUDE, exif.GPS_LONGITUDE))
    found = exif.position(tags)
    return {key: found[key] for key in ("latitude", "longitude")} if found else {}


def _rationals(raw, order, entry):
    """Return up to three (numerator, denominator) pairs of a RATIONAL entry, or None."""
    if entry is None:
        return None
    kind, count = struct.unpack_from(order + "HI", raw, entry + 2)
    if kind not in (RATIONAL, SRATIONAL) or not 1 <= count <= 3:
        return None  # degrees, minutes, seconds at most
    (at,) = struct.unpack_from(order + "I", raw, entry + 8)
    values = struct.unpack_from(order + ("i" if kind == SRATIONAL else "I") * 2 * count, raw, at)
    return tuple(zip(values[::2], values[1::2], strict=True))


def _ascii(raw, order, entry):
    if entry is None:
        return None
    kind, count = struct.unpack_from(order + "HI", raw, entry + 2)
    if kind != ASCII or count > 256:
        return None
    at = entry + 8 if count <= 4 else struct.unpack_from(order + "I", raw, entry + 8)[0]
    return exif.clean_text(raw[at:at + count])


def _exif(img):
    # getexif() on a PNG may decode the whole image to find a late eXIf chunk.
    if img.format == "PNG" and "exif" not in img.info:
        return {}
    try:
        tags = img.getexif()
        extra = tags.get_ifd(EXIF_IFD)
    except DECODE_ERRORS:
        return {}
    found = {"make": exif.clean_text(tags.get(MAKE)), "model": exif.clean_text(tags.get(MODEL))}
    summary = {key: value for key, value in found.items() if value}
    _note_taken(summary, extra.get)
    summary.update(exif.shooting(extra))
    # The position as the listing reads it, so both name one place or none; only the altitude from Pillow's.
    position = {key: value for key, value in exif_summary(img.info.get("exif")).items() if key in ("latitude",
                                                                                                 "longitude")}
    if position:
        try:
            position["altitude"] = exif.position(tags.get_ifd(GPS_IFD)).get("altitude")
        except DECODE_ERRORS:
            pass
    summary.update({key: value for key, value in position.items() if value is not None})
    return summary


_EXIF_TIME = re.compile(r"^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$")


def exif_offset(value):
    """Return EXIF's OffsetTimeOriginal ('+02:00'), or None when it is not one."""
    text = exif.clean_text(value) or ""
    return text if _OFFSET.match(text) else None


def exif_time(value):
    """Turn EXIF's '2024:05:01 12:30:00' into ISO-8601, or None when it is not a time."""
    match = _EXIF_TIME.match(exif.clean_text(value) or "")
    if not match:
        return None
    year, month, day, hour, minute, second = map(int, match.groups())
    try:
        return datetime.datetime(year, month, day, hour, minute, second).isoformat()
    except ValueError:
        return None
