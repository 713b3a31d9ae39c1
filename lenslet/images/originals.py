"""The original images, read only: open, probe and hash them; the GPS position a link without details hides."""

import contextlib
import io

from lenslet.errors import LensletError, Undecodable, UnsupportedMedia
from lenslet.formats import embedded, xmp
from lenslet.formats.positions import position_removed
from lenslet.images import pillow
from lenslet.layout import is_shown, kind_of, mime_of, name_of
from lenslet.storage import HEAD_BYTES

FIRST_READ = 64 * 1024
WHOLE_AT_MOST = 64 << 20  # a PNG or WebP read whole for its metadata chunks, up to this size


def refuse_unshown(key):
    """Raise UnsupportedMedia for an item never decoded (a video)."""
    if not is_shown(name_of(key)):
        raise UnsupportedMedia("a video: listed, and its file served, but lenslet shows no picture of it "
                               "(the page draws a placeholder)", kind=kind_of(name_of(key)), placeholder=True)


def content_hash(storage, key):
    try:
        with storage.open(key) as stream:
            return pillow.content_hash_of(stream)
    except LensletError:
        return None


def read_image(storage, key):
    """Read an original whole, once sniffed as an image."""
    refuse_unshown(key)
    stream, stat = storage.open_with_stat(key)
    with stream:
        head = stream.read(pillow.SNIFF_BYTES)
        pillow.sniff(head)  # before the rest of a large file is read
        return head + stream.read(), stat


def open_image(storage, key):
    """Open an original, once sniffed as an image; the caller closes it."""
    refuse_unshown(key)
    stream, stat = storage.open_with_stat(key)
    try:
        pillow.sniff(stream.read(pillow.SNIFF_BYTES))
        stream.seek(0)
    except BaseException:
        stream.close()
        raise
    return stream, stat


def probe(storage, key, with_embedded=False):
    """Read an image's header; a bad file gives {"error": reason}, not a failed listing."""
    if not is_shown(name_of(key)):
        return unread(key)
    try:
        if not with_embedded:
            return probe_image(storage, key)
        head = _head(storage, key)
    except LensletError as ex:
        return {"error": ex.description}
    try:
        found = pillow.probe(io.BytesIO(head))
    except Undecodable:  # metadata longer than the head
        found = probe(storage, key)
    except LensletError as ex:
        found = {"error": ex.description}
    metadata = read_embedded(storage, key, head)
    if metadata != xmp.Metadata():
        found["embedded"] = metadata.to_dict()
    return found


def _head(storage, key):
    # Two reads: a small file gets no HEAD_BYTES buffer.
    with storage.open_head(key) as stream:
        head = stream.read(FIRST_READ)
        return head if len(head) < FIRST_READ else head + stream.read(HEAD_BYTES - FIRST_READ)


def read_embedded(storage, key, head=None):
    """Return the XMP and IPTC an image carries, as xmp.Metadata."""
    if not is_shown(name_of(key)):
        return xmp.Metadata()
    total = []

    def read_at(offset, size):
        # A range past the end is an error on S3, not a short read.
        if not total:
            total.append(storage.stat(key).size)
        size = min(size, total[0] - offset)
        if size <= 0:
            return b""
        with contextlib.closing(storage.open_range(key, offset, size)) as stream:
            return stream.read(size)

    try:
        return embedded.read(_head(storage, key) if head is None else head, read_at)
    except LensletError as ex:
        return xmp.Metadata(problems=(f"the image's own metadata cannot be read: {ex.description}",))


def unread(key, details=False):
    found = {"w": None, "h": None, "type": mime_of(name_of(key)), "orientation": 1}
    return dict(found, exif={}) if details else found


def probe_image(storage, key, details=False, head=None):
    """Read an image's size, type and EXIF from the head of the file (or `head`, already read)."""
    if not is_shown(name_of(key)):
        return unread(key, details)
    with storage.open_head(key) if head is None else io.BytesIO(head) as stream:
        try:
            return pillow.probe(stream, details)
        except Undecodable:
            if storage.folder_mtimes and head is None:
                raise  # local: the head was the whole file
    # metadata longer than the head: read the whole file
    return pillow.probe(io.BytesIO(storage.read(key)), details)


def examine(storage, key, embedded=False):
    """Return what /item shows of an image."""
    head = None
    try:
        if embedded and is_shown(name_of(key)):
            head = _head(storage, key)  # one read of the head for both
        found = probe_image(storage, key, details=True, head=head)
    except LensletError as ex:
        found = {"w": None, "h": None, "type": mime_of(key), "exif": {}, "error": ex.description}
    return found, (read_embedded(storage, key, head).to_dict() if embedded else None)


def position_patches(storage, key, size):
    """Return the patches that take an original's GPS position out ([]: none there), or None when unsure."""
    kind = mime_of(key)
    whole = kind in ("image/png", "image/webp")  # their metadata may follow the picture
    if not (whole or kind == "image/jpeg") or (whole and size > WHOLE_AT_MOST) or size < 2:
        return None
    with contextlib.closing(storage.open_head(key, size if whole else HEAD_BYTES)) as stream:
        head = stream.read(size if whole else HEAD_BYTES)
    with contextlib.closing(storage.open_range(key, size - 2, 2)) as stream:
        tail = stream.read(2)
    return position_removed(head, size, tail)
