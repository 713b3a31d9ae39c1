"""The images themselves, as stored: read a header, hash the bytes. lenslet never writes them here."""

import io

from lenslet.errors import LensletError, Undecodable, UnsupportedMedia
from lenslet.formats import embedded, xmp
from lenslet.images import decode
from lenslet.layout import is_shown, kind_of, mime_of, name_of
from lenslet.storage import HEAD_BYTES

FIRST_READ = 64 * 1024  # an image's head is read this much first: most headers fit (see _head)


def refuse_unshown(key):
    """UnsupportedMedia (415, `kind` video) for an item lenslet lists but never decodes: the one
    place that says so, before any byte of it is read (thumbnails, previews, uploads' checks)."""
    if not is_shown(name_of(key)):
        raise UnsupportedMedia("a video: listed, and its file served, but lenslet shows no picture of it "
                               "(the page draws a placeholder)", kind=kind_of(name_of(key)), placeholder=True)


def content_hash(storage, key):
    """An original's content hash (decode.content_hash), read a chunk at a time; None when it cannot be read."""
    try:
        with storage.open(key) as stream:
            return decode.content_hash_of(stream)
    except LensletError:
        return None


def read_image(storage, key):
    """Read an original whole, with its Stat, once its first bytes show it is an image:
    a large file that only claims to be one by its name costs a few KB, then a 415."""
    refuse_unshown(key)
    with storage.open_head(key, decode.SNIFF_BYTES) as stream:
        decode.sniff(stream.read(decode.SNIFF_BYTES))
    return storage.read_with_stat(key)


def open_image(storage, key):
    """Open an original, with its Stat, once its first bytes show it is an image: (stream, Stat), the
    caller closes it. A local file is decoded and hashed where it lies, never held whole in memory
    (a 4K PNG of 15 MB was that much more of a web process's peak); an S3 object is read whole."""
    refuse_unshown(key)
    stream, stat = storage.open_with_stat(key)
    try:
        decode.sniff(stream.read(decode.SNIFF_BYTES))
        stream.seek(0)
    except BaseException:
        stream.close()
        raise
    return stream, stat


def probe(storage, key, with_embedded=False):
    """Read an image's header; a bad file becomes {"error": reason}, not a failed listing.

    with_embedded: also the XMP and IPTC it carries, as xmp.Metadata.to_dict() under "embedded"
    (when any), read from the same head. A video is not read at all.
    """
    if not is_shown(name_of(key)):
        return unread(key)
    if not with_embedded:
        try:
            return probe_image(storage, key)
        except LensletError as ex:
            return {"error": ex.description}
    try:
        head = _head(storage, key)
    except LensletError as ex:
        return {"error": ex.description}
    try:
        found = decode.probe(io.BytesIO(head))
    except Undecodable:
        found = None  # metadata longer than the head: read as probe_image does
    except LensletError as ex:
        found = {"error": ex.description}
    if found is None:
        try:
            found = probe_image(storage, key)
        except LensletError as ex:
            found = {"error": ex.description}
    metadata = read_embedded(storage, key, head)
    if metadata != xmp.Metadata():  # most images carry none: their entries say nothing of it
        found["embedded"] = metadata.to_dict()
    return found


def _head(storage, key):
    """An image's first HEAD_BYTES bytes, or all of a shorter one. Read in two steps: one read of
    HEAD_BYTES asks for a buffer of that size even for a 2 KB file, which glibc may map and unmap each
    time (22.6 against 7.4 µs a read of a small file)."""
    with storage.open_head(key) as stream:
        head = stream.read(FIRST_READ)
        if len(head) < FIRST_READ:  # the whole file
            return head
        return head + stream.read(HEAD_BYTES - FIRST_READ)


def read_embedded(storage, key, head=None):
    """The XMP and IPTC an image carries inside itself (an xmp.Metadata); what cannot be read is a problem.

    head: its first HEAD_BYTES bytes, when already read. A video's are not read (it is never opened).
    """
    if not is_shown(name_of(key)):
        return xmp.Metadata()
    total = []

    def read_at(offset, size):
        # Within the file: a range past its end is an error on S3 (416), not a short read.
        if not total:
            total.append(storage.stat(key).size)
        size = min(size, total[0] - offset)
        if size <= 0:
            return b""
        stream = storage.open_range(key, offset, size)
        try:
            return stream.read(size)
        finally:
            stream.close()

    try:
        return embedded.read(_head(storage, key) if head is None else head, read_at)
    except LensletError as ex:
        return xmp.Metadata(problems=(f"the image's own metadata cannot be read: {ex.description}",))


def unread(key, details=False):
    """What probe_image says of an item it does not read (a video): its type by name, no size."""
    found = {"w": None, "h": None, "type": mime_of(name_of(key)), "orientation": 1}
    return dict(found, exif={}) if details else found


def probe_image(storage, key, details=False):
    """Read an image's size, type (and with details, EXIF) from the head of the file; a video's by its name."""
    if not is_shown(name_of(key)):
        return unread(key, details)
    with storage.open_head(key) as stream:
        try:
            return decode.probe(stream, details)
        except Undecodable:
            if storage.folder_mtimes:
                raise  # local: the "head" was the whole file
    # Metadata longer than the head that was fetched (one ranged GET on S3): read it all once.
    return decode.probe(io.BytesIO(storage.read(key)), details)


def examine(storage, key, embedded=False):
    """What /item shows of an image, read once: (its size, type and EXIF, with "error" when it cannot be
    read; with embedded, the XMP and IPTC it carries as a dict, else None)."""
    try:
        found = probe_image(storage, key, details=True)
    except LensletError as ex:
        found = {"w": None, "h": None, "type": mime_of(key), "exif": {}, "error": ex.description}
    return found, (read_embedded(storage, key).to_dict() if embedded else None)
