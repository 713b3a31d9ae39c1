"""Sidecars as stored: the one read-change-write of a sidecar (`foo.jpg.json`), and the reading
of the XMP other photo tools keep for an image.

Every change to a sidecar (an edit, the content hash, the trash's note of where an image came from)
goes through change_sidecar() under the image's lock. What follows a change (the listing entry,
search, jobs) is the catalog's to send (lenslet/catalog.py); this module tells nobody.
"""

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
from lenslet.formats import manifests, sidecars, xmp
from lenslet.images import originals
from lenslet.layout import join, name_of, parent, sidecar_of, xmp_names

log = logging.getLogger("lenslet")

MIRROR_TRIES = 8  # times a mirrored change is made again when lenslet's sidecar changed meanwhile
XMP_TRIES = 8     # times an edit is merged again into an XMP sidecar that another program changed meanwhile


def change_sidecar(storage, image, change, unreadable=None, durable=True, mirror=None, lenslets_only=False):
    """Read, change and write back an image's sidecar: the one way lenslet changes a sidecar.

    change(stored, version) is given the parsed sidecar (None when there is none) and
    its version, and returns the new sidecar or None to leave it. What cannot be parsed
    is never merged into: unreadable(old_bytes) may raise, or return True to have it
    replaced as if there were none; without it such a sidecar is left as it is.
    The caller holds the image's lock (storage.lock_images). Returns (the sidecar
    now stored, or None when there is none or it is unreadable; its version). durable=False:
    the caller syncs it (storage.sync) before it counts on it. lenslets_only: a file lenslet did not
    write (sidecars.written_by_lenslet) is left as it is, as one that cannot be parsed.

    mirror(stored, sidecar) writes the change to another file first (the XMP sidecar: see
    mirror_to_xmp) and returns the sidecar to store. Then this sidecar is stored only if
    unchanged since it was read, and all is done again on a change: no file's lock is held
    while the other file is written, as two held at once could wait on each other.
    """
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
    for _ in range(MIRROR_TRIES):
        old, version = storage.read_versioned(sidecar_of(image))
        stored, new = changed(old, version)
        if new is None:
            return stored, version
        new = mirror(stored, new)
        try:
            return new, storage.replace_if(sidecar_of(image), orjson.dumps(new), version)
        except (PreconditionFailed, NotFound):
            continue  # another program changed lenslet's sidecar meanwhile: the change is made on its bytes
    raise Unavailable("the sidecar kept changing while lenslet changed it (another program writing it); "
                      "nothing was changed: try again", retry_after=1, path=image)


def record_hash(storage, image, digest):
    """Store an original's content hash in its sidecar (not an edit: updatedAt stays as it was).

    Returns (the sidecar stored, its version); (None, None) when the image has no sidecar (nobody described
    it: the hash lives in its listing entry only), its sidecar cannot be read (left as it is), or the tree
    keeps no sidecars (read-only). Another program's file at the sidecar's name is never written: indexing
    changes only what lenslet wrote."""
    try:
        with storage.lock_images([image]):
            if not storage.exists(image):
                # Moved or deleted since its bytes were read: a new sidecar here would be an
                # orphan taking the name (a restore from the trash would find it taken).
                raise NotFound("moved or deleted meanwhile", path=image)
            return change_sidecar(storage, image, lambda stored, version: _hashed(stored, digest),
                                  lenslets_only=True)
    except Forbidden:
        return None, None


def _hashed(stored, digest):
    # An image nobody described gets no sidecar for its hash alone: the hash lives in its listing entry
    # (and goes into the sidecar once somebody writes one: Items' first description hashes the original).
    if stored is None or stored.get("hash") == digest:
        return None
    return dict(stored, hash=digest)


# -- file management: sidecars that travel with their image -----------------

def sidecar_fields(storage, key):
    """An image's sidecar as stored, or the defaults when it has none or it cannot be read."""
    try:
        return sidecars.parse(storage.read(sidecar_of(key))) or sidecars.defaults()
    except NotFound:
        return sidecars.defaults()


def set_origin(storage, key, origin, now, durable=True):
    """Note in an image's sidecar where it was before it went to the trash, and when (not an edit)."""
    change_sidecar(storage, key, lambda stored, version: dict(stored or sidecars.defaults(), originalPosition=origin,
                                                              trashedAt=sidecars.format_time(now)),
                   durable=durable)


def clear_origin(storage, key, durable=True):
    """Forget where an image was before the trash (and when it went there), once it is out of it."""
    def change(stored, version):
        if stored is None or not {"originalPosition", "trashedAt"} & set(stored):
            return None
        return {name: value for name, value in stored.items() if name not in ("originalPosition", "trashedAt")}
    try:
        change_sidecar(storage, key, change, durable=durable)
    except LensletError as ex:
        log.warning("%s: originalPosition not cleared: %s", key, ex.description)


# -- other tools' XMP ----------------------------------------------------------

def mirror_to_xmp(storage, key, now, removed=()):
    """The mirror of change_sidecar for LENSLET_XMP=write: an edit written to the image's XMP sidecar.

    mirror(stored, sidecar) merges the edited sidecar three ways with the existing foo.jpg.xmp,
    else foo.xmp, else a new foo.jpg.xmp (only when there is something to say), and returns the
    sidecar to store. The XMP sidecar is written first: a crash between the two leaves lenslet's
    sidecar behind the XMP, which the next merge takes as the other tool's change, never as a
    removal. It is replaced only if unchanged since it was read; on a change the merge is done
    again on the new bytes, XMP_TRIES times, then Unavailable (503) and nothing is stored.
    """
    def mirror(stored, sidecar):
        for attempt in range(XMP_TRIES):
            try:
                return _merged_into_xmp(storage, key, stored, sidecar, now, removed)
            except PreconditionFailed:  # another program wrote it since it was read: merged again with that
                time.sleep(random.uniform(0, min(0.2, 0.005 * 2 ** attempt)))  # racing writers spread out
        raise Unavailable("the image's XMP sidecar kept changing while lenslet merged this edit into it (another "
                          "program writing it); nothing was changed: try again", retry_after=1, path=key)
    return mirror


def _xmp_to_write(storage, folder, name, key, besides=""):
    """(what find_xmp found, the name to write) of the image's XMP sidecar, refusing one lenslet must never
    write: a link, a FIFO or a folder in its place (Foreign), or one larger than lenslet reads (Unreadable)."""
    found = find_xmp(storage, folder, name)
    if found is not None and found.problem is not None:
        raise Foreign(f"{found.name}: {found.problem}. The edit is refused and nothing was changed: "
                      f"replace it with a regular file or remove it{besides}", path=key)
    target = found.name if found is not None else xmp_names(name)[0]
    if found is not None and found.stat.size > xmp.MAX_XMP:
        raise Unreadable(f"the XMP sidecar {target} is larger than lenslet reads; it is left as it is, "
                         "and nothing was changed", path=key)
    return found, target


def _merged_into_xmp(storage, key, stored, sidecar, now, removed):
    """Merge an edit into the image's XMP sidecar once, and write it only if unchanged since it was read
    (else PreconditionFailed); return the sidecar to store. An XMP sidecar lenslet cannot read is never
    overwritten (Unreadable), nor one whose name a link, a FIFO or a folder holds (Foreign)."""
    folder, name = parent(key), name_of(key)
    found, target = _xmp_to_write(storage, folder, name, key, " (or set LENSLET_XMP=read)")
    data, version = storage.read_versioned(join(folder, target))  # (None, None): none, or gone since
    theirs = xmp.parse(data) if data is not None else None
    theirs_time = found.stat.mtime if found is not None and data is not None else None
    # A base written to another file (foo.jpg.xmp deleted, foo.xmp read now) is no base for this one.
    result, changes = xmp.written(sidecar, stored, xmp.base_of(stored, target), theirs, theirs_time, now, removed,
                                  target)
    if changes is None:
        return result
    try:
        storage.replace_if(join(folder, target), xmp.update(data, changes, now), version)
    except Unreadable as ex:
        raise Unreadable(f"{target}: {ex.description}; it is left as it is, and so is the edit", path=key) from None
    except NotFound:  # removed since it was read (a bucket answers so to If-Match)
        raise PreconditionFailed("the XMP sidecar went away since it was read", path=key) from None
    return result


def change_xmp_words(storage, key, change, now, embedded):
    """The read-change-write of a person's words where they are kept in the image's XMP sidecar only
    (LENSLET_WORDS=xmp): no sidecar of lenslet's holds them, so there is one copy and no base to merge from.

    change(stored, version) is given the words the XMP sidecar holds now (manifests.own_words over the
    defaults, dated by the file's time) and its version (None: there is none), and returns the new sidecar
    or None to leave it. What changed (tags added and removed, the star, the notes) is written into the
    bytes read, every other byte kept, only if the file is unchanged since it was read; on a change
    another program made meanwhile, it is read and the edit made again on its words, XMP_TRIES times,
    then Unavailable (503) and nothing is written. A new foo.jpg.xmp is made only when there is something
    to say. Returns (the words now stored, as a sidecar; the XMP sidecar's version; its fresh reading as
    xmp_of gives it). The caller holds the image's lock (lenslet's own writers queue on it).
    """
    folder, name = parent(key), name_of(key)
    for attempt in range(XMP_TRIES):
        found, target = _xmp_to_write(storage, folder, name, key)
        try:  # (None, None): none, or gone since; a link, a FIFO or a folder swapped in since is never read
            data, version = storage.read_small(join(folder, target), xmp.MAX_XMP)
        except TooLarge:
            raise Unreadable(f"the XMP sidecar {target} is larger than lenslet reads; it is left as it is, "
                             "and nothing was changed", path=key) from None
        except Foreign as ex:
            raise Foreign(f"{target}: {ex.description}. The edit is refused and nothing was changed", path=key) \
                from None
        if data is not None and found is None:
            continue  # another program made it since it was looked for: looked at afresh (a link? a folder?)
        reading = None
        if data is not None:
            reading = {"name": target, "size": len(data), "mtime": found.stat.mtime,
                       "found": xmp.parse(data).to_dict()}
        stored = words_in(reading)
        new = change(stored, version)
        changes = sidecars.words_changed(stored, new) if new is not None else None
        if not changes:
            return stored, version, (reading, embedded)
        try:
            written = xmp.update(data, changes, now)
        except Unreadable as ex:
            raise Unreadable(f"{target}: {ex.description}; it is left as it is, and so is the edit", path=key) \
                from None
        try:
            version = storage.replace_if(join(folder, target), written, version)
        except (PreconditionFailed, NotFound):  # another program wrote it since it was read (or removed it)
            time.sleep(random.uniform(0, min(0.2, 0.005 * 2 ** attempt)))  # racing writers spread out
            continue
        found = xmp_of(storage, key, embedded)
        return words_in(found[0]), version, found
    raise Unavailable("the image's XMP sidecar kept changing while lenslet wrote this edit into it (another "
                      "program writing it); nothing was changed: try again", retry_after=1, path=key)


def words_in(reading, sidecar=None):
    """A person's words as an XMP sidecar's reading (xmp_of's first; None: there is none) holds them, over
    sidecar's other fields (default: none), dated by the file's time (so a PUT made on an older copy is
    merged, as on a sidecar: sidecars.merge_put); who wrote them the XMP does not say."""
    words = manifests.own_words(sidecar or sidecars.defaults(), reading)
    words.update(updatedAt=sidecars.format_time(reading["mtime"]) if reading is not None else None, updatedBy=None)
    return words


def read_sidecar(storage, key):
    """Read a sidecar for a manifest entry: (its fields, {} when there are none or they cannot be
    parsed; its version, None when it went away)."""
    data, version = storage.read_versioned(key)
    return (sidecars.parse(data) or {}) if data is not None else {}, version


class XmpFile(NamedTuple):
    """The XMP sidecar of an image: its name, and its Stat, or the problem that keeps lenslet from reading it."""

    name: str
    stat: object = None
    problem: str = None


def find_xmp(storage, folder, name):
    """The XMP sidecar another tool keeps for an image (an XmpFile), or None: a stat per name.

    The first name that anything holds is the one: a link there is never followed (in or out of the
    root: what it leads to may be a folder its reader may not see), and a FIFO or a folder is never
    opened; each is the XMP sidecar with a problem, so it is said, and nothing is written in its place."""
    for candidate in xmp_names(name):
        try:
            return XmpFile(candidate, storage.stat_file(join(folder, candidate)))
        except NotFound:
            continue
        except Foreign as ex:
            return XmpFile(candidate, problem=ex.description)
    return None


def read_xmp(storage, folder, name, stat):
    """Read another tool's XMP sidecar: the reading a manifest entry keeps ({name, size, mtime, found}), and
    the version of the bytes read ("version"; None when they could not be read), which an edit of the words
    it keeps (LENSLET_WORDS=xmp) must find unchanged."""
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
    """Fresh readings of what XMP says of an image: (its XMP sidecar's reading or None, its own as a dict).

    embedded: what the image itself carries, when the caller read it already (originals.examine)."""
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
