"""Albums kept in the state folder, one file each (`.lenslet/albums/<id>.json`), so every web process and
every host on one bucket agree. A change is a read-change-write replaced only if the file is unchanged
since read (retried on a change), so two edits at once both land. An image is found again by its
content hash when its path no longer holds it (moved or renamed, by lenslet or another program): looked
up in the search rollup, and the album's file set right (conditionally) for the next reader.

A share link of an album opens what the album holds now: its images picked by hand, or what its saved
search finds now, run as the album's maker (their scope, decided on what storage opens), never more."""

import logging
import threading
import time
from datetime import datetime, timezone

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
from lenslet.images.decode import content_hash_of
from lenslet.layout import ALBUMS, TRASH, is_image, join, name_of, parent
from lenslet.search import rollup
from lenslet.search.searcher import search_id

log = logging.getLogger("lenslet")
CHANGE_TRIES = 20  # a change retried on another's, at most this often
MAX_PAGE = 1000    # images of an album answered at once
KEPT_HASHES = 1024  # hashes looked up in one rollup, kept
KEPT_FINDS = 32     # smart albums' shared finds kept (each request of a share link asks for its album's)


def album_key(album_id):
    return join(ALBUMS, album_id + ".json")


def iso(seconds):
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def owns(principal, record):
    """Whether an album is the principal's (by its maker's id; one without, the last release's, by name)."""
    return principal.is_maker(record.get("ownerId"), record["owner"])


def missing(album_id):
    return NotFound("no such album", id=str(album_id)[:40])


class Albums:
    """Make, read, change and remove albums; what one holds now."""

    def __init__(self, storage, searcher, listings, tree, clock=time.time):
        self.storage = storage
        self.searcher = searcher
        self.listings = listings  # the folders' listings (manifest.listings.Folders): where an album's images are
        self.tree = tree  # the browse tree (tree.Tree): an image looked at where its folder's listing is not read
        self.clock = clock
        self.found_by_hash = {}  # (rollup stat, hash) -> the paths the rollup holds it at, the trash's left out
        self.shared_finds = {}  # what a smart album's search found for its maker: see found_for_share
        self.finds_lock = threading.Lock()

    # -- the files -----------------------------------------------------------------

    def read(self, album_id):
        """(record, version), or (None, None) when there is none or its file is not an album's (a FIFO, a link or
        a folder in its place is never opened; a torn, huge or forged file opens nothing and is logged)."""
        if not albums.ID.match(album_id or ""):
            return None, None
        try:
            data, version = self.storage.read_small(album_key(album_id), albums.MAX_FILE)
        except (Foreign, TooLarge) as ex:
            log.error("%s is not an album lenslet made (%s): it opens nothing", album_key(album_id), ex.description)
            return None, None
        if data is None:
            return None, None
        try:
            return albums.loads(data, album_id), version
        except albums.BadAlbum as ex:
            log.error("%s is not an album lenslet made (%s): it opens nothing", album_key(album_id), ex)
            return None, None

    def owned(self, principal, album_id):
        """(record, version) of an album the principal made (an admin: any); as missing else."""
        record, version = self.read(album_id)
        if record is None or not (owns(principal, record) or principal.admin):
            raise missing(album_id)
        return record, version

    def shareable(self, principal, album_id):
        """The id of an album the principal may share: their own (picked or smart); another's, an admin's too, is
        refused, as its link would open only what the album's maker shares (nothing)."""
        record, _ = self.owned(principal, str(album_id))
        if not owns(principal, record):
            raise Forbidden("an album is shared by its maker", field="album")
        return record["id"]

    def readable(self, principal, album_id):
        """The record of an album the principal may open: their own, or the one their share link names."""
        share = principal.share
        if share is not None:
            record, _ = self.read(album_id)
            if record is None or share.get("kind") != "album" or share.get("album") != album_id:
                raise missing(album_id)
            return record
        return self.owned(principal, album_id)[0]

    # -- answers -----------------------------------------------------------------------

    def listed(self, principal, access):
        """The principal's albums (an admin's own too, not everyone's), newest change first."""
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
                count = None if record["smart"] else sum(access.may_see(image["path"]) for image in record["images"])
                found.append(albums.shown(record, count))
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
        """One change (albums.change), made on the album as it is now, whoever changed it meanwhile."""
        for _ in range(CHANGE_TRIES):
            record, version = self.owned(principal, album_id)
            changed = albums.change(record, body, iso(self.clock()), lambda paths: self.identified(access, paths))
            try:
                self.storage.replace_if(album_key(album_id), albums.dumps(changed), version)
            except PreconditionFailed:
                continue  # another change landed meanwhile: made again on it
            return albums.shown(changed, None if changed["smart"] else
                                sum(access.may_see(image["path"]) for image in changed["images"]))
        raise Unavailable("the album keeps changing: try again", retry_after=1)

    def remove(self, principal, album_id):
        """Remove an album (never its images)."""
        record, version = self.owned(principal, album_id)
        try:
            self.storage.delete_if(album_key(album_id), version)
        except (NotFound, PreconditionFailed):
            raise missing(album_id) from None  # removed meanwhile, or changed: read it again
        log.info("album %s removed by %s", album_id, principal.name)
        return {"ok": True, "id": album_id}

    def view(self, principal, access, album_id, offset, limit):
        """An album and one page of what it holds now, as the principal may see it."""
        record = self.readable(principal, album_id)
        if record["smart"] is not None and principal.share is not None:
            # What the link's request found the search finds for the maker (images_now): one answer per request,
            # whatever the album's maker changes meanwhile.
            seen = [path for path in principal.share.get("images", ()) if access.may_see(path)]
            items = [self.rollup_item(path) or {"path": path, "name": name_of(path)}
                     for path in seen[offset:offset + limit]]
            total = len(seen)
        elif record["smart"] is not None:
            total, items = self.searched(record["smart"], access, offset, limit)
        else:
            shown = self.shown_now(album_id, record["images"], access)
            items, total = shown[offset:offset + limit], len(shown)
        return {**albums.shown(record, total), "offset": offset, "limit": limit, "total": total, "items": items}

    def shown_now(self, album_id, images, access):
        """The listing entries of a picked album's images the principal sees now, in the album's order, each
        image once: offsets and the total count these, so no page repeats or skips one hidden meanwhile
        (trashed, gone, moved where it is not found yet or out of the scope)."""
        seen = [image for image in images if access.in_scope(image["path"])]  # placed() checks their content
        items, moved, shown = [], {}, set()
        for image, (path, item) in zip(seen, self.placed(seen), strict=True):
            if path is not None and path != image["path"]:
                moved[image["path"]] = path  # set right for everyone, whoever found it
            # Decided on where the image is now: moved out of a scope, it is out of it (a share link
            # opens it at its new path from the next request on, once the album names it there).
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
            return 0, []  # its folder gone, or not the principal's: nothing found

    def images_now(self, album_id, maker):
        """(paths, {path: content hash}) a share of the album opens now, in the album's order (None: the album is
        gone, or is not the share maker's). maker: the Access of the share's maker as they are now. Picked images:
        as last set right, each opened only while its path holds its content (is_image_at); a smart album: what
        its search finds for the maker now, without the trash, at most albums.MAX_IMAGES (no hashes)."""
        record, version = self.read(album_id)
        if record is None or not owns(maker.principal, record):
            return None
        if record["smart"] is None:
            return [image["path"] for image in record["images"]], {
                image["path"]: image["hash"] for image in record["images"] if image["hash"] is not None}
        return self.found_for_share(album_id, version, record["smart"], maker), {}

    def is_image_at(self, path, digest):
        """Whether the image at path is the one of this content hash (a link opens it, never another photo given
        its name since): one look at that path."""
        return self.holds(path, self.listed_in({path}), digest)

    def found_for_share(self, album_id, version, smart, maker):
        """What a smart album's search finds for its maker (see images_now). Every request of its share link asks
        (each thumbnail): kept while the album's file, the rollup, the edits since and the maker's scope are
        the same. A link changed meanwhile is still decided on each request, by the share's own Access."""
        loaded, edits = self.searcher.fresh()
        scope = maker.principal.scope
        key = (album_id, version, loaded.stat, tuple(sorted(entry.get("note", "") for entry in edits.values())),
               maker.principal.name, maker.principal.role, scope.everything, scope.folders, scope.images)
        found = self.shared_finds.get(key)
        if found is None:
            _, items = self.searched(smart, maker, 0, albums.MAX_IMAGES)
            found = [item["path"] for item in items if item["path"].split("/", 1)[0] != TRASH]  # never shared
            with self.finds_lock:
                self.shared_finds[key] = found
                while len(self.shared_finds) > KEPT_FINDS:
                    self.shared_finds.pop(next(iter(self.shared_finds)))
        return found

    # -- images by identity -------------------------------------------------------------

    def identified(self, access, paths):
        """[{"path", "hash"}] of images the principal may see; as missing for any other."""
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
        """The content hash of the image at path, read from it (one the rollup does not know yet)."""
        if not is_image(name_of(path)):
            raise BadRequest("an album holds images only", path=path)
        stream = self.storage.open(path)  # NotFound for a path that is not there, as for anyone
        with stream:
            return content_hash_of(stream)

    def rollup_item(self, path):
        """What search's rollup (with the edits since) says of the image at path, or None."""
        loaded, edits = self.searcher.fresh()
        entry = edits.get(path)
        if entry is not None and entry.get("gone"):
            return None
        at = search_id(loaded, loaded.index, path)
        if isinstance(at, int):
            return self.searcher.merged(loaded, {path: at}, entry) if entry else loaded.item(at)
        return self.searcher.merged(loaded, {}, entry) if entry else None

    def placed(self, images):
        """[(path, item)] of an album's images now, each at its path or found again by its hash ((None, None): gone).

        Told by the listings of the folders they are in, each folder's read once (a page at a time, through the
        listings store, which lists a folder again when it changed, as GET /folders does), not by a look at each
        image: on S3 a page of 100 images in 4 folders costs 4 listing reads, where it cost 100 HEADs. A folder
        holding one image of the page has that image looked at instead (see listed_in), so a page costs at most
        about a request an image. An image not where the album says (moved or renamed, by lenslet or by
        another program) is looked for by its hash in the search rollup, and taken where it is found with it."""
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
        """{path: its listing entry} of the paths that hold an image now (a path of a folder that is gone, or is no
        folder, is not there). A folder holding two or more of them has its listing read (on S3 a conditional
        GET of each page, and every LENSLET_RECHECK seconds a LIST of the folder); one holding a single one has
        that image looked at (one HEAD) and what search knows of it taken: a listing would cost as much or more."""
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
        """The image at path as a listing entry would tell of it (None when none is there): its size and time
        looked at, the rest what search knows of that very file (its hash only then)."""
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
        """Whether the listing entry at path is the album's image of this hash (the album knowing none: any image
        there). An entry not hashed yet counts by what search knew of the very file (its size and time), else by
        the image's own hash (a file new since the rollup was built, before the worker hashed it: read)."""
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
        """The paths the rollup holds an image of this content hash at (the trash's left out: an image trashed
        has left the album), kept per rollup; a listing tells which of them holds it now."""
        loaded, _ = self.searcher.fresh()
        key = (loaded.stat, digest)
        if key in self.found_by_hash:
            return self.found_by_hash[key]
        needle, found = b'"hash":"' + digest.encode() + b'"', []
        # The rollup search has loaded, which holds() asks what it knew of each file found: the stored file, newer
        # while this process loads it, named images search did not know yet, each then read whole to be hashed.
        # The stored file only while none is loaded (a process just started).
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
        with self.finds_lock:
            self.found_by_hash[key] = found
            while len(self.found_by_hash) > KEPT_HASHES:
                self.found_by_hash.pop(next(iter(self.found_by_hash)))
        return found

    def follow(self, album_id, moved):
        """Set an album's paths right after its images moved (only if unchanged since read: else the next reader
        does); two images found at one path keep the first."""
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
