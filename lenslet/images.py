"""Pillow work: bytes or a stream in, plain data out. No storage, no HTTP."""

import datetime
import struct

from PIL import Image, UnidentifiedImageError

from .errors import Undecodable, UnsupportedMedia

# Formats lenslet opens; Pillow tries no other plugin on a client's bytes.
MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "AVIF": "image/avif", "GIF": "image/gif"}
OPEN_FORMATS = tuple(MIME)
EXTENSIONS = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
              ".avif": "image/avif", ".gif": "image/gif"}

ORIENTATION, MAKE, MODEL, EXIF_IFD, DATE_TIME_ORIGINAL = 0x0112, 0x010F, 0x0110, 0x8769, 0x9003
# Orientations 5-8 turn the picture a quarter: the displayed width is the stored height.
QUARTER_TURNS = {5, 6, 7, 8}
DECODE_ERRORS = (OSError, SyntaxError, ValueError, struct.error, EOFError, Image.DecompressionBombError)


def mime_of(name):
    """Return the image type a file name announces, or None when it is not an image name."""
    dot = name.rfind(".")
    return EXTENSIONS.get(name[dot:].lower()) if dot > 0 else None


def probe(stream):
    """Read display size, type and EXIF summary from the header, without decoding pixels."""
    try:
        with Image.open(stream, formats=OPEN_FORMATS) as img:
            width, height = img.size
            kind = MIME[img.format]
            exif = _exif(img)
    except UnidentifiedImageError:
        raise UnsupportedMedia("not an image lenslet can read (JPEG, PNG, WebP, AVIF, GIF)") from None
    except DECODE_ERRORS as ex:
        raise Undecodable(f"cannot read the image header: {ex}") from None
    orientation = exif.get("orientation") or 1
    if orientation in QUARTER_TURNS:
        width, height = height, width
    exif.update(width=width, height=height)
    return {"w": width, "h": height, "type": kind, "exif": exif}


def _exif(img):
    # getexif() on a PNG may decode the whole image to find a late eXIf chunk;
    # only formats that keep EXIF in the header are asked.
    if img.format == "PNG" and "exif" not in img.info:
        return {"orientation": 1}
    try:
        tags = img.getexif()
        extra = tags.get_ifd(EXIF_IFD)
    except DECODE_ERRORS:
        return {"orientation": 1}
    orientation = tags.get(ORIENTATION, 1)
    summary = {"orientation": orientation if orientation in range(1, 9) else 1}
    for key, tag in (("make", MAKE), ("model", MODEL)):
        value = _text(tags.get(tag))
        if value:
            summary[key] = value
    taken = _exif_time(extra.get(DATE_TIME_ORIGINAL))
    if taken:
        summary["createdAt"] = taken
    return summary


def _text(value):
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value.strip("\x00 ") if isinstance(value, str) else None


def _exif_time(value):
    """Turn EXIF's '2024:05:01 12:30:00' into ISO-8601, or None when it is not a time."""
    value = _text(value)
    try:
        return datetime.datetime.strptime(value, "%Y:%m:%d %H:%M:%S").isoformat() if value else None
    except ValueError:
        return None
