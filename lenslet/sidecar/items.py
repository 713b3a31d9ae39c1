"""Per-image metadata: read, replace, patch and delete sidecars without losing an update.

Every change to a sidecar (`foo.jpg.json`), the content hash and the trash's note of
where an image came from included, goes through change_sidecar() under the image's
lock; every change is told to the listing and search through changed(). (Moves, trash and
restore carry sidecars along as files, under the same locks: lenslet/files/operations.py.)
"""

import logging
import time

import orjson

from lenslet import jobs
from lenslet.errors import Conflict, Forbidden, Foreign, LensletError, NotFound, PreconditionFailed, Unreadable
from lenslet.images.originals import probe_image
from lenslet.layout import backup_of, join, mime_of, name_of, parent, sidecar_of, xmp_names
from lenslet.manifest import folders, manifests
from lenslet.search.rollup import record_edit
from lenslet.sidecar import sidecars, xmp

log = logging.getLogger("lenslet")

NO_SIDECAR = "none"  # the version (ETag) of an image that has no sidecar yet
UNREADABLE = ("the sidecar is not a JSON object lenslet can read; it is left as it is: fix it by hand, "
              "or PUT with ?overwrite=true to replace it (its bytes are kept beside it as .bad-<time>)")


class Items:
    def __init__(self, tree, clock=time.time, xmp_mode="off"):
        self.tree = tree
        self.clock = clock
        self.reading = xmp_mode != "off"  # other tools' XMP is shown (LENSLET_XMP)
        self.writing = xmp_mode == "write"  # and lenslet's edits are written to the XMP sidecar

    def get(self, path):
        """Return (sidecar merged with what the image says, version); never writes."""
        place, stat = self.tree.locate_image(path)
        key = place.key
        problem = None
        try:
            data, version = place.storage.read_versioned(sidecar_of(key))
        except Foreign as ex:
            data, version, problem = None, None, ex.description
        sidecar = sidecars.parse(data) if data is not None else None
        if data is not None and sidecar is None:
            problem = UNREADABLE
        body = self._answer(path, place, stat, sidecar or sidecars.defaults())
        if problem is not None:
            body.update(unreadable=True, error=problem)  # shown, never merged into
        return body, version or NO_SIDECAR

    def _readings(self, place):
        """What other tools' XMP says of the image ((source, xmp.Metadata), in the order they count)."""
        return manifests.readings(*folders.xmp_of(place.storage, place.key)) if self.reading else []

    def _read_only(self, readings):
        """The readings lenslet does not write: the image's own; the XMP sidecar too unless LENSLET_XMP=write."""
        return [(source, found) for source, found in readings if source == xmp.EMBEDDED or not self.writing]

    def _answer(self, path, place, stat, sidecar, readings=None):
        """The one shape of every /item answer: the sidecar merged with what the image says."""
        try:
            found = probe_image(place.storage, place.key, details=True)
        except LensletError as ex:
            found = {"w": None, "h": None, "type": mime_of(place.key), "exif": {}, "error": ex.description}
        body = dict(sidecar, path=path, size=stat.size, mtime=stat.mtime, type=found["type"] or mime_of(place.key),
                    w=found["w"], h=found["h"], exif={**sidecar["exif"], **found["exif"]})
        if "error" in found:
            body["error"] = found["error"]
        if self.reading:
            view = xmp.shown(sidecar["tags"], sidecar["star"], self._readings(place) if readings is None else readings,
                             xmp.base_of(sidecar))
            body.update({name: view[name] for name in ("tags", "star", "rejected", "label", "title", "description",
                                                       "sources")}, xmpPaths=view["paths"])
            if view["problems"]:
                body["error"] = "; ".join(filter(None, [body.get("error"), *view["problems"]]))
        return sidecars.with_aliases(body)

    def put(self, path, body, who, if_match=None, overwrite=False):
        """Create or replace a sidecar; an edit made on an older copy is merged, not lost.

        overwrite: replace a stored sidecar lenslet cannot read, keeping its bytes beside it.
        """
        incoming = sidecars.check_put(body)
        who = incoming.get("updatedBy") or who
        readings = self._readings(self.tree.locate_image(path)[0])
        kept = self._read_only(readings)
        return self._write(path, if_match, lambda stored: sidecars.merge_put(
            stored, xmp.own_part(incoming, stored or sidecars.defaults(), kept), self.clock(), who),
            overwrite, readings)

    def patch(self, path, body, who, if_match=None):
        """Apply field operations to the current sidecar atomically."""
        ops = sidecars.check_patch(body)
        readings = self._readings(self.tree.locate_image(path)[0])
        held = xmp.held(ops.get("removeTags", ()), self._read_only(readings))
        if held:
            # The original is never changed, and while lenslet only reads XMP, neither is its sidecar.
            raise Conflict("lenslet cannot remove these tags: " + "; ".join(
                f"{tag} is kept in {' and '.join(_said(source) for source in sources)}"
                for tag, sources in held.items()), tags=list(held))
        return self._write(path, if_match, lambda stored: sidecars.apply_patch(stored, ops, self.clock(), who),
                           readings=readings, removed=ops.get("removeTags", ()))

    def delete(self, path, if_match=None):
        """Remove an image's sidecar (never the image)."""
        place, _ = self.tree.locate_image(path, writing=True)
        storage, key = place.storage, place.key
        with storage.lock_images([key]):
            _still_there(storage, key, path)
            if if_match is not None:
                _, version = storage.read_versioned(sidecar_of(key))
                check_version(if_match, version)
                storage.delete_if(sidecar_of(key), version)  # refuses if it changed since
            else:
                try:
                    storage.delete(sidecar_of(key))
                except NotFound:
                    pass
            changed(self.tree.root, storage, key, path, None, None, self.clock, self.reading)

    def _write(self, path, if_match, make, overwrite=False, readings=None, removed=()):
        place, stat = self.tree.locate_image(path, writing=True)
        storage, key = place.storage, place.key

        def unreadable(old):
            # Never merge into what we cannot read: the tags and notes in it would be lost.
            if not overwrite:
                raise Unreadable(UNREADABLE, path=path)
            backup = backup_of(sidecar_of(key), self.clock())
            storage.write(backup, old)
            log.warning("%s: unreadable sidecar replaced on request; old bytes kept as %s", path, backup)
            return True

        def change(stored, version):
            check_version(if_match, version)
            sidecar = sidecars.check_growth(make(stored), stored)
            return write_xmp(storage, key, stored, sidecar, self.clock(), removed) if self.writing else sidecar

        # Under the image's lock, which moves take too: the edit lands on the image where
        # it is now, or the image has gone and the edit is refused (never an orphan sidecar).
        with storage.lock_images([key]):
            _still_there(storage, key, path)
            sidecar, version = change_sidecar(storage, key, change, unreadable)
            changed(self.tree.root, storage, key, path, sidecar, version, self.clock, self.reading)
        return self._answer(path, place, stat, sidecar, None if self.writing else readings), version


def write_xmp(storage, key, stored, sidecar, now, removed=()):
    """Write an edit to the image's XMP sidecar, merged three ways; return the sidecar to store.

    The existing foo.jpg.xmp, else foo.xmp, else a new foo.jpg.xmp (only when there is
    something to say). Called under the image's lock, before the sidecar is stored: a crash
    between the two leaves lenslet's sidecar behind the XMP, which the next merge takes as
    the other tool's change, never as a removal. A sidecar lenslet cannot read is never
    overwritten (Unreadable, and nothing is stored).
    """
    folder, name = parent(key), name_of(key)
    found = folders.find_xmp(storage, folder, name)
    data = theirs = theirs_time = None
    target = found[0] if found is not None else xmp_names(name)[0]
    if found is not None:
        if found[1].size > xmp.MAX_XMP:
            raise Unreadable(f"the XMP sidecar {target} is larger than lenslet reads; it is left as it is", path=key)
        data, stat = storage.read_with_stat(join(folder, target))
        theirs, theirs_time = xmp.parse(data), stat.mtime
    # A base written to another file (foo.jpg.xmp deleted, foo.xmp read now) is no base for this one.
    result, changes = xmp.written(sidecar, xmp.base_of(stored, target), theirs, theirs_time, now, removed, target)
    if changes is not None:
        try:
            storage.write(join(folder, target), xmp.update(data, changes, now))
        except Unreadable as ex:
            raise Unreadable(f"{target}: {ex.description}; it is left as it is, and so is the edit", path=key) \
                from None
    return result


def _said(source):
    if source == xmp.EMBEDDED:
        return "the image itself (never modified)"
    return f"the XMP sidecar {source} (LENSLET_XMP=read: lenslet does not write it)"


def _still_there(storage, key, path):
    """Refuse a change to an image that moved or went away since it was found."""
    if not storage.exists(key):
        raise NotFound("no such image (moved or deleted meanwhile)", path=path)


def change_sidecar(storage, image, change, unreadable=None, durable=True):
    """Read, change and write back an image's sidecar: the one way lenslet changes a sidecar.

    change(stored, version) is given the parsed sidecar (None when there is none) and
    its version, and returns the new sidecar or None to leave it. What cannot be parsed
    is never merged into: unreadable(old_bytes) may raise, or return True to have it
    replaced as if there were none; without it such a sidecar is left as it is.
    The caller holds the image's lock (storage.lock_images). Returns (the sidecar
    now stored, or None when there is none or it is unreadable; its version). durable=False:
    the caller syncs it (storage.sync) before it counts on it.
    """
    def apply(old, version):
        stored = sidecars.parse(old) if old is not None else None
        if old is not None and stored is None and not (unreadable and unreadable(old)):
            return None
        new = change(stored, version)
        return orjson.dumps(new) if new is not None else None

    data, version = storage.update(sidecar_of(image), apply, durable)
    return (sidecars.parse(data) if data is not None else None), version


def changed(root, storage, key, path, sidecar, version, clock=time.time, reading=False):
    """Tell the image's listing entry and search that its sidecar is now `sidecar` at `version`
    (None: it has none).

    The caller holds the image's lock, so entries follow the order of the writes; one
    another program makes meanwhile shows in the listing by its version (see
    manifests.derived_from). reading: other tools' XMP is shown, merged into the tags
    and star of both.
    """
    listed, searched = shown_fields(storage, key, sidecar, version, reading)
    folders.update_entries_quietly(storage, parent(key), {name_of(key): listed})
    tell_search(root, {path: searched}, clock)


def shown_fields(storage, key, sidecar, version=None, reading=False):
    """An image's listing fields and searched fields from its sidecar (None: it has none) at
    version, with what XMP says merged in when reading."""
    listed, searched = sidecars.listed(sidecar, version), sidecars.searched(sidecar)
    if reading:
        listed = manifests.with_xmp(listed, *folders.xmp_of(storage, key), xmp.base_of(sidecar))
        searched.update(tags=listed["tags"], star=listed["star"], xmpPaths=listed["xmpPaths"] or [])
    return listed, searched


def tell_search(root, notes, clock=time.time):
    """Note changed images (path -> searched fields, or {"gone": True}) for search, and queue a rollup."""
    try:
        for path, fields in notes.items():
            record_edit(root, path, fields, clock)
        if notes:
            jobs.enqueue(root, "rollup", "", clock)
    except LensletError as ex:
        log.warning("search sees %d change(s) with the next rollup only: %s", len(notes), ex.description)


def listing_rebuilt(root, clock=time.time):
    """Ask for a rollup after a web process rebuilt a listing: search is built from listings, and the
    rebuild may hold what another program changed, which no edit told search."""
    try:
        jobs.enqueue(root, "rollup", "", clock)
    except LensletError as ex:
        log.warning("search sees a rebuilt listing with the next rollup only: %s", ex.description)


def check_version(if_match, version):
    """Refuse a write whose If-Match does not name the sidecar's current version."""
    if if_match is None:
        return
    current = version or NO_SIDECAR
    tags = [tag.strip().removeprefix("W/").strip('"') for tag in if_match.split(",")]
    if "*" in tags and version is not None:
        return
    if current not in tags:
        raise PreconditionFailed("the sidecar changed since it was read; read it again", etag=f'"{current}"')


def record_hash(storage, key, digest, reading=False):
    """Store an original's content hash in its sidecar and manifest entry."""
    record_hashes(storage, parent(key), {name_of(key): digest}, reading)


def record_hashes(storage, folder, digests, reading=False):
    """Store originals' hashes (name -> digest) in their sidecars, then in one pass over the manifest.

    Not an edit: updatedAt stays as it was. reading: the entries show other tools' XMP merged in.
    """
    entries = {}
    for name, digest in digests.items():
        image = join(folder, name)
        try:
            with storage.lock_images([image]):
                if not storage.exists(image):
                    # Moved or deleted since its bytes were read: a new sidecar here would be
                    # an orphan taking the name (a restore from the trash would find it taken).
                    continue
                sidecar, version = change_sidecar(
                    storage, image, lambda stored, version, digest=digest: _hashed(stored, digest))
        except NotFound:
            continue  # the image went away meanwhile
        except Forbidden:
            sidecar = None  # a read-only tree keeps no sidecars; the hash lives in the listing only
        except LensletError as ex:
            log.warning("%s: hash not recorded: %s", image, ex.description)
            continue
        entries[name] = {"hash": digest, "hasThumb": True}
        if sidecar is not None:  # (an unreadable one is left as it is, and so is its entry)
            # The entry's fields all from the version stored, never a version beside older fields.
            entries[name].update(shown_fields(storage, image, sidecar, version, reading)[0], hash=digest)
    folders.update_entries_quietly(storage, folder, entries)


def _hashed(stored, digest):
    sidecar = stored or sidecars.defaults()
    if sidecar.get("hash") == digest:
        return None
    return dict(sidecar, hash=digest)


# -- file management: sidecars that travel with their image -----------------

def sidecar_fields(storage, key):
    """An image's sidecar as stored, or the defaults when it has none or it cannot be read."""
    try:
        return sidecars.parse(storage.read(sidecar_of(key))) or sidecars.defaults()
    except NotFound:
        return sidecars.defaults()


def set_origin(storage, key, origin, durable=True):
    """Note in an image's sidecar where it was before it went to the trash (not an edit)."""
    change_sidecar(storage, key, lambda stored, version: dict(stored or sidecars.defaults(), originalPosition=origin),
                   durable=durable)


def clear_origin(storage, key, durable=True):
    """Forget where an image was before the trash, once it is out of it."""
    def change(stored, version):
        if stored is None or "originalPosition" not in stored:
            return None
        return {name: value for name, value in stored.items() if name != "originalPosition"}
    try:
        change_sidecar(storage, key, change, durable=durable)
    except LensletError as ex:
        log.warning("%s: originalPosition not cleared: %s", key, ex.description)


def adopt_sidecar(root, storage, source, image, clock=time.time, reading=False):
    """Give a moved image the sidecar left at its old name (source); False when it has one of its own.

    Re-attachment only fills an empty place: the image's sidecar is replaced only
    while it holds nothing but what lenslet made (the hash), never a description,
    another program's keys, or where a trashed image came from.
    """
    with storage.lock_images([source, image]):
        data, source_version = storage.read_versioned(sidecar_of(source))
        adopted = sidecars.parse(data) if data is not None else None
        if adopted is None or storage.exists(source) or not storage.exists(image):
            return False  # nothing to give, or the image came back, or the moved one left again
        taken = []

        def change(stored, version):
            if stored is not None and not sidecars.blank(stored):
                taken.append(True)
                return None
            return dict(adopted, hash=(stored or {}).get("hash") or adopted.get("hash"))

        def unreadable(old):
            taken.append(True)  # what cannot be read is never replaced
            return False

        sidecar, version = change_sidecar(storage, image, change, unreadable)
        if taken:
            return False
        try:
            storage.delete_if(sidecar_of(source), source_version)
        except (NotFound, PreconditionFailed):
            pass  # changed or removed meanwhile: it stays an orphan, reported as one
        changed(root, storage, image, image, sidecar, version, clock, reading)
        tell_search(root, {source: {"gone": True}}, clock)  # search forgets the old path at once
    return True
