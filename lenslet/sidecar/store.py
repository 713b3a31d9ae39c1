"""Every change to a sidecar, and the reading of other tools' XMP sidecars."""

import logging
import random
import time
from typing import NamedTuple

import orjson

from lenslet.errors import (
    Forbidden,
    Foreign,
    LensletError,
    NotFound,
    PreconditionFailed,
    TooLarge,
    Unavailable,
    Unreadable,
)
from lenslet.formats import listing_pages, sidecars, xmp
from lenslet.images import originals
from lenslet.layout import join, name_of, parent, sidecar_of, xmp_names

log = logging.getLogger("lenslet")

MIRROR_TRIES = 8
XMP_TRIES = 8


def change_sidecar(storage, image, change, unreadable=None, durable=True, mirror=None, lenslets_only=False):
    """Read, change and write back an image's sidecar; change(stored, version) returns the new one or None.
    The caller holds the image's lock; an unparsable sidecar is left alone unless unreadable(old_bytes) is true."""
    def changed(old, version):
        stored = sidecars.parse(old) if old is not None else None
        if old is not None and stored is None and not (unreadable and unreadable(old)):
            return stored, None
        if lenslets_only and old is not None and not sidecars.written_by_lenslet(old):
            return stored, None
        return stored, change(stored, version)

    if mirror is None:
        def apply(old, version):
            new = changed(old, version)[1]
            return orjson.dumps(new) if new is not None else None

        data, version = storage.update(sidecar_of(image), apply, durable)
        return (sidecars.parse(data) if data is not None else None), version
    # No lock is held while mirror() writes: two held at once could deadlock.
    for _ in range(MIRROR_TRIES):
        old, version = storage.read_versioned(sidecar_of(image))
        stored, new = changed(old, version)
        if new is None:
            return stored, version
        new = mirror(stored, new)
        try:
            return new, storage.replace_if(sidecar_of(image), orjson.dumps(new), version)
        except (PreconditionFailed, NotFound):
            continue
    raise Unavailable("the sidecar kept changing while lenslet changed it (another program writing it); "
                      "nothing was changed: try again", retry_after=1, path=image)


def record_hash(storage, image, digest, opened=None):
    """Store an original's content hash in its sidecar, not as an edit; unless the original is no longer at the
    Stat `opened` it was hashed at."""
    def hashed(stored, version):
        # An image nobody described gets no sidecar for its hash alone.
        return None if stored is None or stored.get("hash") == digest else dict(stored, hash=digest)

    try:
        with storage.lock_images([image]):
            now = storage.stat(image)  # NotFound when moved or deleted meanwhile: a sidecar would be an orphan
            if opened is not None and now != opened:
                raise NotFound("replaced meanwhile: the replacing upload records its own", path=image)
            return change_sidecar(storage, image, hashed, lenslets_only=True)
    except Forbidden:
        return None, None


def sidecar_fields(storage, key):
    """An image's sidecar as stored, else the defaults."""
    try:
        return sidecars.parse(storage.read(sidecar_of(key))) or sidecars.defaults()
    except NotFound:
        return sidecars.defaults()


def set_origin(storage, key, origin, now, durable=True):
    """Note in an image's sidecar where it was before the trash, and when."""
    change_sidecar(storage, key, lambda stored, version: dict(stored or sidecars.defaults(), originalPosition=origin,
                                                              trashedAt=sidecars.format_time(now)), durable=durable)


def clear_origin(storage, key, durable=True):
    def change(stored, version):
        if stored is None or not {"originalPosition", "trashedAt"} & set(stored):
            return None
        return {name: value for name, value in stored.items() if name not in ("originalPosition", "trashedAt")}
    try:
        change_sidecar(storage, key, change, durable=durable)
    except LensletError as ex:
        log.warning("%s: originalPosition not cleared: %s", key, ex.description)


def mirror_to_xmp(storage, key, now, removed=(), camera=None, people=None):
    """A mirror for change_sidecar that merges an edit into the image's XMP sidecar (LENSLET_XMP=write);
    with the camera's orientation, a turn is written as tiff:Orientation.
    The XMP is written first: after a crash the next merge takes it as the other tool's change, never a removal."""
    def mirror(stored, sidecar):
        for attempt in range(XMP_TRIES):
            try:
                return _merged_into_xmp(storage, key, stored, sidecar, now, removed, camera, people)
            except PreconditionFailed:
                time.sleep(random.uniform(0, min(0.2, 0.005 * 2 ** attempt)))  # racing writers spread out
        raise Unavailable("the image's XMP sidecar kept changing while lenslet merged this edit into it (another "
                          "program writing it); nothing was changed: try again", retry_after=1, path=key)
    return mirror


def _xmp_to_write(storage, folder, name, key, besides=""):
    """Return (find_xmp's result, the name to write), refusing what lenslet must not write."""
    found = find_xmp(storage, folder, name)
    if found is not None and found.problem is not None:
        raise Foreign(f"{found.name}: {found.problem}. The edit is refused and nothing was changed: "
                      f"replace it with a regular file or remove it{besides}", path=key)
    target = found.name if found is not None else xmp_names(name)[0]
    if found is not None and found.stat.size > xmp.MAX_XMP:
        raise Unreadable(f"the XMP sidecar {target} is larger than lenslet reads; it is left as it is, "
                         "and nothing was changed", path=key)
    return found, target


def _merged_into_xmp(storage, key, stored, sidecar, now, removed, camera=None, people=None):
    """Merge an edit into the XMP sidecar, written only if unchanged; return the sidecar to store."""
    folder, name = parent(key), name_of(key)
    found, target = _xmp_to_write(storage, folder, name, key, " (or set LENSLET_XMP=read)")
    data, version = storage.read_versioned(join(folder, target))
    theirs = xmp.parse(data) if data is not None else None
    theirs_time = found.stat.mtime if found is not None and data is not None else None
    # A base written to another XMP file is no base for this one.
    result, changes = xmp.written(sidecar, stored, xmp.base_of(stored, target), theirs, theirs_time, now, removed,
                                  target, people)
    if camera is not None and sidecar.get("turn") != (stored or {}).get("turn"):
        changes = dict(changes or {}, orientation=sidecars.then(camera, sidecar.get("turn", 1)))
    if changes is None:
        return result
    try:
        storage.replace_if(join(folder, target), xmp.update(data, changes, now), version)
    except Unreadable as ex:
        raise Unreadable(f"{target}: {ex.description}; it is left as it is, and so is the edit", path=key) from None
    except NotFound:  # a bucket answers so to If-Match
        raise PreconditionFailed("the XMP sidecar went away since it was read", path=key) from None
    return result


def change_xmp_words(storage, key, change, now, embedded):
    """Read-change-write a person's words kept only in the image's XMP sidecar (LENSLET_WORDS=xmp).
    Return (the words as a sidecar, the XMP's version, its fresh reading as xmp_of gives it)."""
    folder, name = parent(key), name_of(key)
    for attempt in range(XMP_TRIES):
        found, target = _xmp_to_write(storage, folder, name, key)
        try:  # a link, FIFO or folder swapped in meanwhile is never read
            data, version = storage.read_small(join(folder, target), xmp.MAX_XMP)
        except TooLarge:
            raise Unreadable(f"the XMP sidecar {target} is larger than lenslet reads; it is left as it is, "
                             "and nothing was changed", path=key) from None
        except Foreign as ex:
            raise Foreign(f"{target}: {ex.description}. The edit is refused and nothing was changed", path=key) \
                from None
        if data is not None and found is None:
            continue
        reading = None if data is None else {"name": target, "size": len(data), "mtime": found.stat.mtime,
                                             "found": xmp.parse(data).to_dict()}
        stored = words_in(reading)
        new = change(stored, version)
        changes = sidecars.words_changed(stored, new) if new is not None else None
        if not changes:
            return stored, version, (reading, embedded)
        try:
            written = xmp.update(data, changes, now)
        except Unreadable as ex:
            raise Unreadable(f"{target}: {ex.description}; it is left as it is, and so is the edit", path=key) from None
        try:
            version = storage.replace_if(join(folder, target), written, version)
        except (PreconditionFailed, NotFound):
            time.sleep(random.uniform(0, min(0.2, 0.005 * 2 ** attempt)))
            continue
        found = xmp_of(storage, key, embedded)
        return words_in(found[0]), version, found
    raise Unavailable("the image's XMP sidecar kept changing while lenslet wrote this edit into it (another "
                      "program writing it); nothing was changed: try again", retry_after=1, path=key)


def words_in(reading, sidecar=None):
    """A person's words as an XMP reading holds them, dated by the file's time."""
    words = listing_pages.own_words(sidecar or sidecars.defaults(), reading)
    words.update(updatedAt=sidecars.format_time(reading["mtime"]) if reading is not None else None, updatedBy=None)
    return words


def read_sidecar(storage, key):
    """Return (fields or {}, version or None) of a sidecar."""
    data, version = storage.read_versioned(key)
    return (sidecars.parse(data) or {}) if data is not None else {}, version


class XmpFile(NamedTuple):
    """An image's XMP sidecar: its name, and its Stat or why it cannot be read."""

    name: str
    stat: object = None
    problem: str = None


def find_xmp(storage, folder, name):
    """The XmpFile another tool keeps for an image, or None; a link, FIFO or folder there is never opened."""
    found = storage.first_file(folder, xmp_names(name))
    if found is None:
        return None
    candidate, stat = found
    return XmpFile(candidate, problem=stat.description) if isinstance(stat, Foreign) else XmpFile(candidate, stat)


def read_xmp(storage, folder, name, stat):
    """Read another tool's XMP sidecar into a manifest reading, with its version."""
    version = None
    if stat.size > xmp.MAX_XMP:
        metadata = xmp.Metadata(problems=(f"the XMP is larger than {xmp.MAX_XMP // (1024 * 1024)} MB",))
    else:
        try:
            data, version = storage.read_versioned(join(folder, name))
            metadata = xmp.parse(data) if data is not None else xmp.Metadata(problems=("gone since it was listed",))
        except LensletError as ex:
            metadata = xmp.Metadata(problems=(ex.description,))
    return {"name": name, "size": stat.size, "mtime": stat.mtime, "found": metadata.to_dict(), "version": version}


def xmp_of(storage, key, embedded=None):
    """Fresh readings of an image's XMP: (its sidecar's reading or None, the image's own)."""
    folder, name = parent(key), name_of(key)
    found = find_xmp(storage, folder, name)
    if embedded is None:
        embedded = originals.read_embedded(storage, key).to_dict()
    if found is None:
        return None, embedded
    if found.problem is not None:
        return {"name": found.name, "size": 0, "mtime": 0.0,
                "found": xmp.Metadata(problems=(found.problem,)).to_dict()}, embedded
    return read_xmp(storage, folder, found.name, found.stat), embedded
