"""Per-image metadata: read, replace, patch and delete sidecars without losing an update.

The only module that writes sidecars (`foo.jpg.json`), the content hash included.
"""

import logging
import time

import orjson

from . import folders, sidecars
from .errors import Forbidden, Foreign, LensletError, NotFound, PreconditionFailed, Unreadable
from .layout import backup_of, join, mime_of, name_of, parent, sidecar_of
from .originals import probe_image
from .rollup import record_edit
from .worker import queue

log = logging.getLogger("lenslet")

NO_SIDECAR = "none"  # the version (ETag) of an image that has no sidecar yet
UNREADABLE = ("the sidecar is not a JSON object lenslet can read; it is left as it is: fix it by hand, "
              "or PUT with ?overwrite=true to replace it (its bytes are kept beside it as .bad-<time>)")


class Items:
    def __init__(self, tree, clock=time.time):
        self.tree = tree
        self.clock = clock

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

    def _answer(self, path, place, stat, sidecar):
        """The one shape of every /item answer: the sidecar merged with what the image says."""
        try:
            found = probe_image(place.storage, place.key, details=True)
        except LensletError as ex:
            found = {"w": None, "h": None, "type": mime_of(place.key), "exif": {}, "error": ex.description}
        body = dict(sidecar, path=path, size=stat.size, mtime=stat.mtime, type=found["type"],
                    w=found["w"], h=found["h"], exif={**sidecar["exif"], **found["exif"]})
        if "error" in found:
            body["error"] = found["error"]
        return sidecars.with_aliases(body)

    def put(self, path, body, who, if_match=None, overwrite=False):
        """Create or replace a sidecar; an edit made on an older copy is merged, not lost.

        overwrite: replace a stored sidecar lenslet cannot read, keeping its bytes beside it.
        """
        incoming = sidecars.check_put(body)
        who = incoming.get("updatedBy") or who
        return self._write(path, if_match, lambda stored: sidecars.merge_put(stored, incoming, self.clock(), who),
                           overwrite)

    def patch(self, path, body, who, if_match=None):
        """Apply field operations to the current sidecar atomically."""
        ops = sidecars.check_patch(body)
        return self._write(path, if_match, lambda stored: sidecars.apply_patch(stored, ops, self.clock(), who))

    def delete(self, path, if_match=None):
        """Remove an image's sidecar (never the image)."""
        place, _ = self.tree.locate_image(path, writing=True)
        key = place.key
        sidecar_key = sidecar_of(key)
        if if_match is not None:
            _, version = place.storage.read_versioned(sidecar_key)
            check_version(if_match, version)
            place.storage.delete_if(sidecar_key, version)  # refuses if it changed since
        else:
            try:
                place.storage.delete(sidecar_key)
            except NotFound:
                pass
        self._update_listing(path, place.storage, key, None)

    def _write(self, path, if_match, make, overwrite=False):
        place, stat = self.tree.locate_image(path, writing=True)
        key = place.key
        written = []

        def change(old, version):
            check_version(if_match, version)
            stored = sidecars.parse(old) if old is not None else None
            if old is not None and stored is None:
                # Never merge into what we cannot read: the tags and notes in it would be lost.
                if not overwrite:
                    raise Unreadable(UNREADABLE, path=path)
                backup = backup_of(sidecar_of(key), self.clock())
                place.storage.write(backup, old)
                log.warning("%s: unreadable sidecar replaced on request; old bytes kept as %s", path, backup)
            written.append(sidecars.check_growth(make(stored), stored))
            return orjson.dumps(written[-1])

        _, version = place.storage.update(sidecar_of(key), change)
        self._update_listing(path, place.storage, key, written[-1])
        return self._answer(path, place, stat, written[-1]), version

    def _update_listing(self, path, storage, key, sidecar):
        """Bring the image's manifest entry up to date, tell search, and queue a new rollup."""
        folder, name = parent(key), name_of(key)
        try:
            meta_mtime = storage.stat(sidecar_of(key)).mtime if sidecar is not None else None
        except NotFound:
            meta_mtime = None
        # Without its sidecar the image has no recorded hash either, in the listing as in GET /item
        # (the next thumbnail made records it again).
        fields = {"tags": [], "notes": "", "star": None, "hasMeta": False, "metaMtime": None, "hash": None}
        if sidecar is not None:
            fields = {"tags": sidecar["tags"], "notes": sidecar["notes"], "star": sidecar["star"],
                      "hasMeta": True, "metaMtime": meta_mtime}
        folders.update_entries_quietly(storage, folder, {name: fields})
        try:
            record_edit(self.tree.root, path, fields, self.clock)
            queue.enqueue(self.tree.root, "rollup", "", self.clock)
        except LensletError as ex:
            log.warning("%s: search will see this edit with the next rollup only: %s", path, ex.description)


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


def record_hash(storage, key, digest):
    """Store an original's content hash in its sidecar and manifest entry."""
    record_hashes(storage, parent(key), {name_of(key): digest})


def record_hashes(storage, folder, digests):
    """Store originals' hashes (name -> digest) in their sidecars, then in one pass over the manifest.

    Not an edit: updatedAt stays as it was.
    """
    def change(image, digest):
        def hashed(old, version):
            if old is None and not storage.exists(image):
                # Moved or deleted since its bytes were read: a new sidecar here would be
                # an orphan taking the name (a restore from the trash would find it taken).
                return None
            sidecar = sidecars.parse(old) if old is not None else sidecars.defaults()
            if sidecar is None or sidecar.get("hash") == digest:
                return None  # never replace a sidecar we cannot read just to add a hash
            sidecar["hash"] = digest
            return orjson.dumps(sidecar)
        return hashed

    entries = {}
    for name, digest in digests.items():
        image = join(folder, name)
        key = sidecar_of(image)
        try:
            storage.update(key, change(image, digest))
            meta_mtime = storage.stat(key).mtime
        except NotFound:
            continue  # the image went away meanwhile
        except Forbidden:
            meta_mtime = None  # a read-only tree keeps no sidecars; the hash lives in the listing only
        except LensletError as ex:
            log.warning("%s: hash not recorded: %s", key, ex.description)
            continue
        entries[name] = {"hash": digest, "hasThumb": True}
        if meta_mtime is not None:
            entries[name].update(hasMeta=True, metaMtime=meta_mtime)
    folders.update_entries_quietly(storage, folder, entries)


# -- file management: sidecars that travel with their image -----------------

def sidecar_fields(storage, key):
    """An image's sidecar as stored, or the defaults when it has none or it cannot be read."""
    try:
        return sidecars.parse(storage.read(sidecar_of(key))) or sidecars.defaults()
    except NotFound:
        return sidecars.defaults()


def set_origin(storage, key, origin):
    """Note in an image's sidecar where it was before it went to the trash (not an edit)."""
    def change(old, version):
        sidecar = sidecars.parse(old) if old is not None else sidecars.defaults()
        if sidecar is None:
            return None  # never replace a sidecar we cannot read
        sidecar["originalPosition"] = origin
        return orjson.dumps(sidecar)
    storage.update(sidecar_of(key), change)


def clear_origin(storage, key):
    """Forget where an image was before the trash, once it is out of it."""
    def change(old, version):
        sidecar = sidecars.parse(old) if old is not None else None
        if sidecar is None or "originalPosition" not in sidecar:
            return None
        del sidecar["originalPosition"]
        return orjson.dumps(sidecar)
    try:
        storage.update(sidecar_of(key), change)
    except LensletError as ex:
        log.warning("%s: originalPosition not cleared: %s", key, ex.description)


def described(sidecar):
    """Whether someone described an image (tags, notes, a star, or any edit at all)."""
    return bool(sidecar.get("updatedAt") or sidecar["tags"] or sidecar["notes"] or sidecar["star"] is not None)


def adopt_sidecar(root, storage, source, image, keep, clock=time.time):
    """Give image the metadata of source's sidecar (moved, or copied when keep); False if image has its own.

    The image's sidecar is replaced only while nobody has described it (a
    sidecar holding just the hash, as the worker makes one), at the version read.
    """
    data, version = storage.read_versioned(sidecar_of(source))
    adopted = sidecars.parse(data) if data is not None else None
    if adopted is None:
        return False
    taken = []

    def change(old, version):
        current = sidecars.parse(old) if old is not None else sidecars.defaults()
        if current is None or described(current):
            taken.append(True)
            return None
        return orjson.dumps(dict(adopted, hash=current.get("hash") or adopted.get("hash")))

    storage.update(sidecar_of(image), change)
    if taken:
        return False
    if not keep:
        try:
            storage.delete_if(sidecar_of(source), version)
        except (NotFound, PreconditionFailed):
            pass  # changed or removed meanwhile: it stays an orphan, reported as one
    fields = {"tags": adopted["tags"], "notes": adopted["notes"], "star": adopted["star"], "hasMeta": True,
              "metaMtime": storage.stat(sidecar_of(image)).mtime}
    folders.update_entries_quietly(storage, parent(image), {name_of(image): fields})
    try:
        record_edit(root, image, fields, clock)
        if not keep:
            record_edit(root, source, {"gone": True}, clock)  # search forgets the old path at once
        queue.enqueue(root, "rollup", "", clock)
    except LensletError as ex:
        log.warning("%s: search sees this with the next rollup only: %s", image, ex.description)
    return True
