"""Per-image metadata, as GET/PUT/PATCH/DELETE /item ask for it: read, replace, patch and delete
sidecars without losing an update.

Each change is one read-change-write of the sidecar (lenslet/sidecar/store.py) under the image's
lock, then one word to the catalog, which tells the listing and search.
"""

import logging

from lenslet.errors import Conflict, Foreign, LensletError, NotFound, Unreadable
from lenslet.formats import manifests, sidecars, xmp
from lenslet.images.originals import probe_image
from lenslet.layout import backup_of, mime_of, sidecar_of
from lenslet.sidecar import store
from lenslet.sidecar.store import NO_SIDECAR, change_sidecar, check_version, write_xmp

log = logging.getLogger("lenslet")

UNREADABLE = ("the sidecar is not a JSON object lenslet can read; it is left as it is: fix it by hand, "
              "or PUT with ?overwrite=true to replace it (its bytes are kept beside it as .bad-<time>)")


class Items:
    def __init__(self, tree, catalog, config):
        self.tree = tree
        self.catalog = catalog  # told of every change
        self.clock = catalog.clock
        self.reading = catalog.reading  # other tools' XMP is shown (LENSLET_XMP)
        self.writing = config.xmp == "write"  # and lenslet's edits are written to the XMP sidecar

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
        return manifests.readings(*store.xmp_of(place.storage, place.key)) if self.reading else []

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
            self.catalog.changed(storage, key, path, None, None)

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
            self.catalog.changed(storage, key, path, sidecar, version)
        return self._answer(path, place, stat, sidecar, None if self.writing else readings), version


def _said(source):
    if source == xmp.EMBEDDED:
        return "the image itself (never modified)"
    return f"the XMP sidecar {source} (LENSLET_XMP=read: lenslet does not write it)"


def _still_there(storage, key, path):
    """Refuse a change to an image that moved or went away since it was found."""
    if not storage.exists(key):
        raise NotFound("no such image (moved or deleted meanwhile)", path=path)
