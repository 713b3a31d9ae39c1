"""Per-image metadata: read, replace, patch and delete sidecars without losing an update."""

import logging
import time

import orjson

from . import images, jobs, manifests, sidecars
from .errors import BadRequest, Forbidden, LensletError, NotFound, PreconditionFailed, UnsupportedMedia
from .folders import probe_image
from .searcher import record_edit
from .storage import join, parent

log = logging.getLogger("lenslet")

NO_SIDECAR = "none"  # the version (ETag) of an image that has no sidecar yet


class Items:
    def __init__(self, tree, clock=time.time):
        self.tree = tree
        self.clock = clock

    def get(self, path):
        """Return (sidecar merged with what the image says, version); never writes."""
        place, key, stat = self._image(path)
        data, version = place.storage.read_versioned(key + manifests.SIDECAR)
        sidecar = (sidecars.parse(data) if data is not None else None) or sidecars.defaults()
        try:
            found = probe_image(place.storage, key, details=True)
        except LensletError as ex:
            found = {"w": None, "h": None, "type": images.mime_of(key), "exif": {}, "error": ex.description}
        body = dict(sidecar, path=path, size=stat.size, mtime=stat.mtime, type=found["type"],
                    w=found["w"], h=found["h"], exif={**sidecar["exif"], **found["exif"]})
        if "error" in found:
            body["error"] = found["error"]
        return sidecars.with_aliases(body), version or NO_SIDECAR

    def put(self, path, body, who, if_match=None):
        """Create or replace a sidecar; an edit made on an older copy is merged, not lost."""
        incoming = sidecars.check_put(body)
        who = incoming.get("updatedBy") or who
        return self._write(path, if_match, lambda stored: sidecars.merge_put(stored, incoming, self.clock(), who))

    def patch(self, path, body, who, if_match=None):
        """Apply field operations to the current sidecar atomically."""
        ops = sidecars.check_patch(body)
        return self._write(path, if_match, lambda stored: sidecars.apply_patch(stored, ops, self.clock(), who))

    def delete(self, path, if_match=None):
        """Remove an image's sidecar (never the image)."""
        place, key, _ = self._image(path, writing=True)
        sidecar_key = key + manifests.SIDECAR
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

    def _write(self, path, if_match, make):
        place, key, _ = self._image(path, writing=True)
        written = []

        def change(old, version):
            check_version(if_match, version)
            stored = sidecars.parse(old) if old is not None else None
            if old is not None and stored is None:
                log.warning("%s: stored sidecar is not valid JSON; replacing it", key + manifests.SIDECAR)
            written.append(make(stored))
            return orjson.dumps(written[-1])

        _, version = place.storage.update(key + manifests.SIDECAR, change)
        self._update_listing(path, place.storage, key, written[-1])
        return sidecars.with_aliases(written[-1]), version

    def _image(self, path, writing=False):
        name = path.rpartition("/")[2]
        if not path or not manifests.is_image(name):
            raise UnsupportedMedia("not an image path (JPEG, PNG, WebP, AVIF or GIF)", path=path)
        place = self.tree.locate(path, is_file=True)
        if writing and place.readonly:
            raise Forbidden("this folder is read-only (a readonly pointer or LENSLET_READONLY)", path=path)
        stat = place.storage.stat(place.key)
        if stat.is_dir:
            raise BadRequest("is a folder, not an image", path=path)
        return place, place.key, stat

    def _update_listing(self, path, storage, key, sidecar):
        """Bring the image's manifest entry up to date, tell search, and queue a new rollup."""
        folder, name = parent(key), key.rpartition("/")[2]
        try:
            meta_mtime = storage.stat(key + manifests.SIDECAR).mtime if sidecar is not None else None
        except NotFound:
            meta_mtime = None
        fields = {"tags": [], "notes": "", "star": None, "hasMeta": False, "metaMtime": None}
        if sidecar is not None:
            fields = {"tags": sidecar["tags"], "notes": sidecar["notes"], "star": sidecar["star"],
                      "hasMeta": True, "metaMtime": meta_mtime}
        try:
            update_manifest_entries(storage, folder, {name: fields})
        except LensletError as ex:  # the sidecar is safe; the listing catches up when rebuilt
            log.warning("%s: manifest entry not updated: %s", key, ex.description)
        try:
            record_edit(self.tree.root, path, fields, self.clock)
            jobs.enqueue(self.tree.root, "rollup", "", self.clock)
        except LensletError as ex:
            log.warning("%s: search will see this edit with the next rollup only: %s", path, ex.description)


def update_manifest_entries(storage, folder, changes):
    """Change items' fields (name -> fields) in the stored manifest pages, one locked rewrite per page."""
    left = dict(changes)
    for first in (manifests.INDEX, "_index_0.json"):
        if left and storage.exists(storage.derived_key(join(folder, first))):
            break
    else:
        return  # no manifest yet: it is built, with the sidecars, on the next listing
    page, count = 0, 1
    while left and page < count:
        name_of_page = manifests.INDEX if first == manifests.INDEX else f"_index_{page}.json"
        seen = []

        def change(old, version):
            manifest = orjson.loads(old) if old else None
            if not manifests.usable(manifest):
                return None
            seen.append(manifest["pageCount"])
            touched = False
            for entry in manifest["items"]:
                fields = left.pop(entry.get("name"), None) if isinstance(entry, dict) else None
                if fields is not None:
                    entry.update(fields)
                    touched = True
            return orjson.dumps(manifest) if touched else None

        try:
            storage.update(storage.derived_key(join(folder, name_of_page)), change)
        except (orjson.JSONDecodeError, NotFound):
            return
        if not seen:
            return
        count = seen[0]
        page += 1


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
