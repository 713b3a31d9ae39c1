"""Albums, one file each in the state folder, changed by conditional writes."""

import logging
import time

import orjson

from lenslet.albums import format as albums
from lenslet.errors import (
    BadRequest,
    Forbidden,
    Foreign,
    LensletError,
    NotFound,
    PreconditionFailed,
    TooLarge,
    Unavailable,
)
from lenslet.formats.records import iso
from lenslet.images.pillow import content_hash_of
from lenslet.layout import ALBUMS, TRASH, is_image, join, name_of, parent
from lenslet.recent import Recent
from lenslet.search import rollup
from lenslet.search.searcher import search_id

log = logging.getLogger("lenslet")
CHANGE_TRIES = 20  # tries of a change that loses to a concurrent one
MAX_PAGE = 1000    # images of an album answered at once
KEPT_HASHES = 1024  # hash lookups cached per rollup
KEPT_FINDS = 32     # smart albums' search results cached for share links


def album_key(album_id):
    return join(ALBUMS, album_id + ".json")


def owns(principal, record):
    """Return whether the principal made the album (by user id, else by name)."""
    return principal.is_maker(record.get("ownerId"), record["owner"])


def missing(album_id):
    return NotFound("no such album", id=str(album_id)[:40])


def count_of(record, access):
    """Return how many of a picked album's images the principal sees; None for a smart album."""
    return None if record["smart"] else sum(access.may_see(image["path"]) for image in record["images"])


class Albums:
    """Make, read, change and remove albums; what one holds now."""

    def __init__(self, storage, searcher, listings, tree, clock=time.time):
        self.storage, self.searcher, self.listings, self.tree, self.clock = storage, searcher, listings, tree, clock
        self.found_by_hash = Recent(KEPT_HASHES)  # (rollup stat, hash) -> paths
        self.shared_finds = Recent(KEPT_FINDS)  # see found_for_share

    def read(self, album_id):
        """Return (record, version), or (None, None) when there is no valid album file."""
        if not albums.ID.match(album_id or ""):
            return None, None
        try:
            data, version = self.storage.read_small(album_key(album_id), albums.MAX_FILE)
            return (None, None) if data is None else (albums.loads(data, album_id), version)
        except (Foreign, TooLarge, albums.BadAlbum) as ex:
            log.error("%s is not an album lenslet made (%s): it opens nothing", album_key(album_id),
                      getattr(ex, "description", ex))
            return None, None

    def owned(self, principal, album_id):
        """Return (record, version) of an album the principal made (an admin: any), or raise NotFound."""
        record, version = self.read(album_id)
        if record is None or not (owns(principal, record) or principal.admin):
            raise missing(album_id)
        return record, version

    def shareable(self, principal, album_id, takes_uploads=False):
        """Return the id of an album the principal made; a link to another's would open nothing."""
        record, _ = self.owned(principal, str(album_id))
        if not owns(principal, record):
            raise Forbidden("an album is shared by its maker", field="album")
        if takes_uploads and record["smart"] is not None:
            raise BadRequest("a smart album holds what its search finds: guests add to an album of picked images",
                             field="allowUpload")
        return record["id"]

    def readable(self, principal, album_id):
        """Return an album the principal made, or the one their share link names."""
        share = principal.share
        if share is not None:
            record, _ = self.read(album_id)
            if record is None or share.get("kind") != "album" or share.get("album") != album_id:
                raise missing(album_id)
            return record
        return self.owned(principal, album_id)[0]

    def listed(self, principal, access):
        """Return the principal's own albums, newest change first."""
        try:
            names = self.storage.list_names(ALBUMS)
        except NotFound:
            return []
        found = []
        for name in names:
            if not name.endswith(".json"):
                continue
            record, _ = self.read(name[:-5])
            if record is not None and owns(principal, record):
                found.append(albums.shown(record, count_of(record, access)))
        return sorted(found, key=lambda album: (album["updatedAt"], album["id"]), reverse=True)

    def create(self, principal, access, body):
        if not isinstance(body, dict) or set(body) - {"name", "images", "smart"} or "name" not in body:
            raise BadRequest('the body is {"name", "images": [image paths]} or {"name", "smart": {"q", ...}}')
        if "images" in body and "smart" in body:
            raise BadRequest("an album holds images picked by hand or what a search finds, not both", field="smart")
        record = albums.new(body["name"], principal.name, iso(self.clock()), body.get("smart"), principal.user_id)
        if body.get("images"):
            record["images"] = self.identified(access, albums.checked_paths(body["images"], "images"))
        self.storage.create(album_key(record["id"]), albums.dumps(record))
        log.info("album %s made by %s", record["id"], principal.name)
        return albums.shown(record, len(record["images"]) if not record["smart"] else None)

    def change(self, principal, access, album_id, body):
        """Apply one change to the album as it is now, retrying if another lands meanwhile."""
        changed = self._changed(album_id, lambda: self.owned(principal, album_id), body,
                                lambda paths: self.identified(access, paths))
        return albums.shown(changed, count_of(changed, access))

    def add_upload(self, album_id, path):
        """Add what a guest uploaded through the album's link to the album."""
        try:  # moved meanwhile, or the album full or gone: the photo stays where it landed
            image = {"path": path, "hash": self.hash_of(path)}
            self._changed(album_id, lambda: self.read(album_id), {"add": [path]}, lambda paths: [image])
        except LensletError as ex:
            log.warning("album %s: %s not added (%s)", album_id, path, ex.description)

    def _changed(self, album_id, read, body, found):
        for _ in range(CHANGE_TRIES):
            record, version = read()
            if record is None:
                raise missing(album_id)
            changed = albums.change(record, body, iso(self.clock()), found)
            try:
                self.storage.replace_if(album_key(album_id), albums.dumps(changed), version)
            except PreconditionFailed:
                continue
            return changed
        raise Unavailable("the album keeps changing: try again", retry_after=1)

    def remove(self, principal, album_id):
        """Remove an album, never its images."""
        record, version = self.owned(principal, album_id)
        try:
            self.storage.delete_if(album_key(album_id), version)
        except (NotFound, PreconditionFailed):
            raise missing(album_id) from None  # removed or changed meanwhile
        log.info("album %s removed by %s", album_id, principal.name)
        return {"ok": True, "id": album_id}

    def view(self, principal, access, album_id, offset, limit):
        """Return an album and one page of what the principal may see of it now."""
        record = self.readable(principal, album_id)
        if record["smart"] is not None and principal.share is not None:
            # What images_now found for the maker when this request began.
            seen = [path for path in principal.share.get("images", ()) if access.may_see(path)]
            items = [self.rollup_item(path) or {"path": path, "name": name_of(path)}
                     for path in seen[offset:offset + limit]]
            total = len(seen)
        elif record["smart"] is not None:
            total, items = self.searched(record["smart"], access, offset, limit)
        else:
            shown = self.shown_now(album_id, record["images"], access)
            items, total = shown[offset:offset + limit], len(shown)
        shown = albums.shown(record, total)
        if record["smart"] is not None and principal.share is not None:
            shown["smart"] = {}  # a link shows what the search finds, never what it looks for
        return {**shown, "offset": offset, "limit": limit, "total": total, "items": items}

    def shown_now(self, album_id, images, access):
        """Return the listing entries of the picked images the principal sees now, each once."""
        seen = [image for image in images if access.in_scope(image["path"])]  # placed() checks their content
        items, moved, shown = [], {}, set()
        for image, (path, item) in zip(seen, self.placed(seen), strict=True):
            if path is not None and path != image["path"]:
                moved[image["path"]] = path
            # Moved out of a scope, an image is out of it.
            if path is not None and path not in shown and access.in_scope(path):
                shown.add(path)
                items.append(item)
        if moved:
            self.follow(album_id, moved)
        return items

    def searched(self, smart, access, offset, limit):
        asked, folder = albums.asked_of(smart), smart.get("path", "")
        try:
            folders = access.search_folders(folder)
            return access.found(folder, *self.searcher.search_in(asked.text, folder, folders, offset, limit, asked))
        except NotFound:
            return 0, []  # its folder gone, or not the principal's

    def images_now(self, album_id, maker):
        """Return (paths, {path: hash}) a share opens now, or None if the album is gone or not the maker's."""
        record, version = self.read(album_id)
        if record is None or not owns(maker.principal, record):
            return None
        if record["smart"] is None:
            return [image["path"] for image in record["images"]], {
                image["path"]: image["hash"] for image in record["images"] if image["hash"] is not None}
        return self.found_for_share(album_id, version, record["smart"], maker), {}

    def is_image_at(self, path, digest):
        """Return whether path still holds this image, so a link never opens another photo."""
        return self.holds(path, self.listed_in({path}), digest)

    def found_for_share(self, album_id, version, smart, maker):
        """Return what a smart album's search finds for its maker; cached while nothing changes."""
        loaded, edits = self.searcher.fresh()
        scope = maker.principal.scope
        key = (album_id, version, loaded.stat, tuple(sorted(entry.get("note", "") for entry in edits.values())),
               maker.principal.name, maker.principal.role, scope.everything, scope.folders, scope.images)
        found = self.shared_finds.get(key)
        if found is None:
            _, items = self.searched(smart, maker, 0, albums.MAX_IMAGES)
            found = [item["path"] for item in items if item["path"].split("/", 1)[0] != TRASH]  # never shared
            self.shared_finds.put(key, found)
        return found

    def identified(self, access, paths):
        """Return [{"path", "hash"}] of images the principal may see; NotFound for any other."""
        found = []
        for path in paths:
            access.see(path)
            item = self.rollup_item(path)
            digest = item.get("hash") if item is not None else None
            if digest is None or not albums.HASH.match(str(digest)):
                digest = self.hash_of(path)
            found.append({"path": path, "hash": digest})
        return found

    def hash_of(self, path):
        if not is_image(name_of(path)):
            raise BadRequest("an album holds images only", path=path)
        stream = self.storage.open(path)
        with stream:
            return content_hash_of(stream)

    def rollup_item(self, path):
        """Return what the rollup, with the edits since, says of the image at path."""
        loaded, edits = self.searcher.fresh()
        entry = edits.get(path)
        if entry is not None and entry.get("gone"):
            return None
        at = search_id(loaded, loaded.index, path)
        if isinstance(at, int):
            return self.searcher.merged(loaded, {path: at}, entry) if entry else loaded.item(at)
        return self.searcher.merged(loaded, {}, entry) if entry else None

    def placed(self, images):
        """Return (path, item) of each image, at its path or found by hash; (None, None) if gone."""
        listed = self.listed_in({image["path"] for image in images})
        here = [self.holds(image["path"], listed, image["hash"]) for image in images]
        elsewhere = {image["path"]: self.by_hash(image["hash"]) for image, held in zip(images, here, strict=True)
                     if not held and image["hash"] is not None}
        listed.update(self.listed_in({path for paths in elsewhere.values() for path in paths} - set(listed)))
        placed = []
        for image, held in zip(images, here, strict=True):
            path, digest = image["path"], image["hash"]
            if not held:
                path = next((found for found in elsewhere.get(path, ()) if self.holds(found, listed, digest)), None)
            placed.append((None, None) if path is None else (path, listed[path]))
        return placed

    def listed_in(self, paths):
        """Return {path: listing entry} of the paths that hold an image now."""
        by_folder = {}
        for path in paths:
            by_folder.setdefault(parent(path), set()).add(name_of(path))
        listed = {}
        for folder, names in by_folder.items():
            if len(names) == 1:
                path = join(folder, next(iter(names)))
                entry = self.looked_at(path)
                if entry is not None:
                    listed[path] = entry
                continue
            page, count, wanted = 0, 1, set(names)
            while page < count and wanted:
                try:
                    data, _ = self.listings.stored_page(folder, page)
                    stored = orjson.loads(data)
                    count = stored["pageCount"]
                except (LensletError, orjson.JSONDecodeError, KeyError, TypeError) as ex:
                    log.info("albums: no listing of %s: %s", folder or "/", getattr(ex, "description", ex))
                    break
                for item in stored.get("items", ()):
                    if isinstance(item, dict) and item.get("name") in wanted:
                        wanted.discard(item["name"])
                        listed[join(folder, item["name"])] = dict(item, path=join(folder, item["name"]))
                page += 1
        return listed

    def looked_at(self, path):
        """Return the image at path as a listing entry would show it, or None."""
        try:
            _, stat = self.tree.locate_image(path)
        except LensletError:
            return None
        entry = {"path": path, "name": name_of(path), "size": stat.size, "mtime": stat.mtime, "hash": None}
        item = self.rollup_item(path)
        if item is not None and (item.get("size"), item.get("mtime")) == (stat.size, stat.mtime):
            return dict(item, path=path)
        return entry

    def holds(self, path, listed, digest):
        """Return whether the entry at path is the album's image of this hash (any, if it is None)."""
        entry = listed.get(path)
        if entry is None:
            return False
        if digest is None or entry.get("hash") == digest:
            return True
        if entry.get("hash") is not None:
            return False  # another picture given the name
        item = self.rollup_item(path)
        if item is not None and (item.get("size"), item.get("mtime")) == (entry.get("size"), entry.get("mtime")):
            return item.get("hash") in (None, digest)  # the file search knew
        try:
            return self.hash_of(path) == digest
        except LensletError:
            return False

    def by_hash(self, digest):
        """Return the rollup's paths of the image of this hash, outside the trash; cached."""
        loaded, _ = self.searcher.fresh()
        key = (loaded.stat, digest)
        cached = self.found_by_hash.get(key)
        if cached is not None:
            return cached
        needle, found = b'"hash":"' + digest.encode() + b'"', []
        # Scan the loaded rollup, as holds() compares with it; the stored file until one loads.
        snapshot = loaded.loaded
        bodies = (body for _, body in snapshot.lines(0, len(snapshot))) if len(snapshot) \
            else rollup.raw_items(self.storage)
        try:
            for body in bodies:
                if needle in body:
                    path = rollup.item_of(body).get("path")
                    if isinstance(path, str) and path.split("/", 1)[0] != TRASH:
                        found.append(path)
        except (LensletError, ValueError) as ex:  # no rollup yet, or one of another shape
            log.info("albums: cannot look up an image by its hash: %s", getattr(ex, "description", ex))
        self.found_by_hash.put(key, found)
        return found

    def follow(self, album_id, moved):
        """Rewrite the paths of an album's moved images, if it is unchanged since read."""
        record, version = self.read(album_id)
        if record is None:
            return
        held = {image["path"] for image in record["images"]}
        images = []
        for image in record["images"]:
            now = moved.get(image["path"])
            if now is not None and now not in held:
                held.add(now)
                image = dict(image, path=now)
            images.append(image)
        cover = moved.get(record["cover"], record["cover"])
        try:
            self.storage.replace_if(album_key(album_id), albums.dumps(dict(record, images=images, cover=cover)),
                                    version)
        except LensletError as ex:
            log.info("album %s: its moved images not set right yet (%s)", album_id, ex.description)
