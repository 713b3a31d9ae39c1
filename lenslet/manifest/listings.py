"""Folder manifests (every `_index*.json`): served while fresh, rebuilt incrementally when not,
and patched in place when an item's metadata changes. The only module that reads or writes them."""

import contextlib
import datetime
import logging
import os
import threading
import time
from typing import NamedTuple

import blake3
import orjson

from lenslet import jobs, metrics
from lenslet.errors import (
    BadPath,
    BadRequest,
    Forbidden,
    Foreign,
    InsufficientStorage,
    LensletError,
    NotAFolder,
    NotFound,
    Unavailable,
)
from lenslet.formats import covers, manifests, stacks
from lenslet.formats.query import arrange, parse
from lenslet.images import originals
from lenslet.layout import (
    FOLDER_SIDECAR,
    LISTED,
    POINTER_FILE,
    TRASH,
    edit_mark_of,
    first_page_names,
    is_manifest,
    join,
    name_of,
    page_name,
    parent,
    sidecar_of,
)
from lenslet.recent import Recent
from lenslet.sidecar.store import read_sidecar, read_xmp

log = logging.getLogger("lenslet")

NAME_ORDER = parse()  # a view in the stored order, nothing filtered
MAX_ITEMS = 1 << 40


class Memo(NamedTuple):
    """What one web process knows of a folder's manifest."""

    folder_mtime: float  # the folder's mtime at the last full check
    page_count: int
    checked_at: float    # when sizes and times of every file were last compared
    pages: list          # encoded pages when they could not be stored, else None
    pointer: bool        # the folder holds a pointer file
    settle_at: float     # when sidecars too young to be told apart by their times are read again, or None


class Folders:
    """Answer GET /folders from stored manifests, rebuilding them when the folder changed.

    A web process remembers each folder's mtime from its last full check. While the
    mtime is the same the stored manifest is served (one stat); when it moved (a file
    was added, removed or renamed), and every `recheck` seconds regardless (a file
    rewritten in place leaves the folder's mtime alone), the folder is listed, its
    sizes and times compared with the manifest's signature, and what changed rebuilt.
    """

    CACHED_PAGES = 64  # encoded pages kept per process (about 220 KB per 1,000 items)
    CACHED_ANSWERS = 16  # pages with their counts, as answered, kept per process
    CACHED_VIEWS = 4   # sorted or filtered orders kept per process (lists of the parsed folders' items)
    CACHED_PARSED = 2  # folders kept parsed per process (about 11 MB for 10,000 items)
    MAX_DEPTH = 64     # folders below a listed one summed into its counts: deeper ones are not counted
    # Counts need every folder below a listed one (20,000 stats for the root of a big tree:
    # seconds). They are kept per folder while no listing anywhere changed (LISTED, rewritten
    # by every process that rebuilds a manifest: an API operation, the worker noticing another
    # program) and for at most COUNTS_FOR seconds (a change no listing has seen yet).
    COUNTS_FOR = 30.0
    CACHED_COUNTS = 256
    MARK_BYTES = 8  # LISTED's length: random bytes, new at every rewrite
    TELL_EVERY = 1.0  # seconds: how long a batch of listing changes may go untold (changes_told_once)

    def __init__(self, tree, config, clock=time.time):
        self.tree = tree
        self.page_size = config.page_size
        self.recheck = config.recheck
        self.clock = clock
        self.reading = manifests.xmp_shown(config.xmp, config.words)  # other tools' XMP is shown
        self.memo = {}
        # (identity, folder) -> (its folder_version, when looked at, covers.Local, identity_of or None until a
        # summary asks): what its own listing says for counts and covers, listed again when its version moved (on
        # disk) or past `recheck` seconds.
        self.locals = {}
        # (identity, folder) -> (listed_mark(), when, its summary, its subfolders')
        self.counts = Recent(self.CACHED_COUNTS)
        self.cache = Recent(self.CACHED_PAGES)  # (identity, page key) -> (page file's Stat, bytes)
        # (identity, key, path, page) -> (stored bytes, counts, subfolders', answer)
        self.answers = Recent(self.CACHED_ANSWERS)
        # (browse path, query) -> (the pages' bytes, the items in the query's order)
        self.views = Recent(self.CACHED_VIEWS)
        self.parsed = Recent(self.CACHED_PARSED)  # browse path -> (its pages' bytes, the pages parsed)
        self.holding = threading.local()  # since when this thread holds its listing changes (changes_told_once)
        self.checking = set()  # (identity, folder) a thread of this process is comparing with its listing now
        self.served_stored = threading.local()  # .now: this thread served a folder as stored while another checked it
        self.lock = threading.Lock()  # for checking (each memo above has its own)
        self.mark_seen = None  # (Stat, listed_mark()) of LISTED read last, once its time tells it apart

    def page(self, path, page):
        """Return the encoded manifest page of a browse path, with the counts and covers of now."""
        return self.answer(path, page)[0]

    def answer(self, path, page):
        """(bytes, ETag) of a folder page with the counts and covers of now: made again only when the stored
        page or the counts changed, so a folder read over and over is sent from memory, not decoded and
        encoded for each reader (its 304 is one comparison)."""
        data, place = self.stored_page(path, page)
        own, children = self.summarize(place.storage, place.key, path)
        memo_key = (place.storage.identity, place.key, path, page)
        known = self.answers.get(memo_key)
        if known is not None and known[0] == data and known[1] is own and known[2] is children:
            return known[3]
        answer = self._with(data, own, children)
        made = (answer, '"' + _digest(answer) + '"')
        self.answers.put(memo_key, (data, own, children, made))
        return made

    def checked_meanwhile(self):
        """Whether this thread has served a folder as stored, while another thread of the process looked at it
        again (it changed), since it last asked: that answer may be a moment behind, and the page asks again
        (GET /folders says so). Asking clears it."""
        was = getattr(self.served_stored, "now", False)
        self.served_stored.now = False
        return was

    def stored_page(self, path, page):
        """The manifest page of a browse path as stored (rebased through a pointer), and its place."""
        # On S3 every look for a pointer file is a request; the folder's own one shows
        # in the listing made anyway, so only its parents are looked at up front.
        remote = not self.tree.root.folder_mtimes
        place = self.tree.locate(path, is_file=remote and bool(path))
        data = self._page(place.storage, place.key, path, page)
        metrics.manifest_page()
        if remote and path and self.memo[(place.storage.identity, place.key)].pointer:
            place = self.tree.locate(path)
            data = self._page(place.storage, place.key, path, page)
        return (rebase(data, place.prefix) if place.prefix else data), place

    # -- counts and covers ---------------------------------------------------

    def with_counts(self, data, storage, key, path):
        """A page with the folder's and each subfolder's counts and cover (covers.summary), as they are now."""
        return self._with(data, *self.summarize(storage, key, path))

    @staticmethod
    def _with(data, own, children):
        # A page of lines: only its head (first line) is parsed and encoded again; its items go as stored.
        head = manifests.page_head(data)
        page = head if head is not None else orjson.loads(data)
        page.update(own)
        for entry in page["dirs"]:
            if isinstance(entry, dict):
                entry.update(children.get(entry.get("name"), covers.EMPTY))
        if head is None:
            return orjson.dumps(page)
        return manifests.with_items_of(head, data)

    def summarize(self, storage, key, path):
        """A folder's summary ({images, allImages, cover, coverPicked}) and its subfolders' by name.

        Walked through every folder below, each one's own listing remembered while it is
        unchanged (one stat per folder on disk; on S3 listed again past `recheck` seconds, or
        at once when this process changed it), so counts are as fresh as listings are.
        """
        mark, memo_key, now = self.listed_mark(), (storage.identity, key), self.clock()
        known = self.counts.get(memo_key)
        if known is not None and mark is not None and known[0] == mark and 0 <= now - known[1] <= self.COUNTS_FOR:
            return known[2], known[3]
        children = {}
        own = self._summary(storage, key, path, 0, set(), children)
        self.counts.put(memo_key, (mark, now, own, children))
        return own, children

    def counts_of(self, path):
        """A browse path's counts and cover (covers.summary) as they are now."""
        place = self.tree.locate(path)
        own, _ = self.summarize(place.storage, place.key, path)
        return own

    # -- as one principal sees a folder ----------------------------------------
    # access: the principal's scope (lenslet/people/access.py), a predicate; what it may not see is
    # taken out here, by the listings' owner, and the totals and counts count only what it sees. A
    # folder not wholly theirs is one page of what they see, whatever the folder's own paging, and
    # its signature is of that page: neither tells how much else the folder holds.

    def page_seen(self, path, page, access):
        """A folder page's (bytes, ETag) as a principal sees them (the ETag None when the answer is theirs alone)."""
        data, etag = self.answer(path, page)
        if not access.limited:
            shown = data if path else self._without_trash(data, access)
            return shown, (etag if shown is data else None)
        if access.wholly(path):
            shown = self._without_links(path, data, access)
            return shown, (etag if shown is data else None)
        if page:
            raise NotFound("no such page", path=path, page=page, pageCount=1)
        shown = self._passable(path, orjson.loads(data), access)
        items = access.visible(path, orjson.loads(self.view_all(path))["items"]) if shown["total"] else []
        shown.update(items=items, page=0, pageCount=1, total=len(items), images=len(items),
                     videos=covers.videos_among(items),
                     allImages=len(items) + shown["allImages"], sig=signature_of(items, shown["dirs"]))
        return orjson.dumps(shown), None

    def view_seen(self, path, query, offset, limit, access):
        """One sorted or filtered slice of a folder as a principal sees it: cut from the whole order of
        what they see, its total and counts only theirs."""
        if not access.limited:
            data = self.view(path, query, offset, limit)
            return data if path else self._without_trash(data, access)
        if access.wholly(path):
            return self._without_links(path, self.view(path, query, offset, limit), access)
        view = self._passable(path, orjson.loads(self.view(path, query, 0, MAX_ITEMS)), access)
        items = access.visible(path, view["items"])
        seen = access.visible(path, orjson.loads(self.view_all(path))["items"])
        view.update(items=items[offset:offset + limit], total=len(items), offset=offset, limit=limit,
                    folderTotal=len(seen), sig=signature_of(items, view["dirs"]))
        view.update(images=view["folderTotal"], videos=covers.videos_among(seen),
                    allImages=view["folderTotal"] + view["allImages"])
        return orjson.dumps(view)

    def _without_trash(self, data, access):
        """The root's page (or slice) without the trash for a whole-tree principal who may not see it (a
        viewer, a link of the whole gallery); the root's counts and cover already leave the trash out."""
        if access.trash_shown(TRASH) or TRASH.encode() not in data:
            return data
        page = orjson.loads(data)
        dirs = [d for d in page["dirs"] if not (isinstance(d, dict) and d.get("name") == TRASH)]
        if len(dirs) == len(page["dirs"]):
            return data
        page.update(dirs=dirs, sig=signature_of(page["items"], dirs))
        return orjson.dumps(page)

    def _without_links(self, path, data, access):
        """A page (or slice) of a folder in the scope without the items and subfolders that lead out of it
        (a link or a pointer folder to another place of the tree: the listing marks them, so only those
        are looked at); the bytes as they are when none does."""
        if b'"link"' not in data and b'"leaf-pointer"' not in data:
            return data  # nothing is marked (most folders): no parse
        page = orjson.loads(data)

        def stays(entry):
            if not isinstance(entry, dict):
                return False
            marked = entry.get("link") or entry.get("kind") == "leaf-pointer"
            return not marked or access.may_see(entry.get("path") or join(path, entry.get("name", "")))
        items = [item for item in page["items"] if stays(item)]
        dirs = [d for d in page["dirs"] if stays(d)]
        if len(items) == len(page["items"]) and len(dirs) == len(page["dirs"]):
            return data
        gone = len(page["items"]) - len(items)
        if isinstance(page.get("videos"), int):
            page["videos"] = max(0, page["videos"] - covers.videos_among(page["items"]) + covers.videos_among(items))
        below = sum(d.get("allImages", 0) for d in page["dirs"] if isinstance(d, dict) and d not in dirs
                    and isinstance(d.get("allImages"), int))
        page.update(items=items, dirs=dirs, sig=signature_of(items, dirs))
        for count in ("total", "folderTotal", "images", "allImages"):
            if isinstance(page.get(count), int):
                page[count] = max(0, page[count] - gone - (below if count == "allImages" else 0))
        # A cover is a path of the scope: one picked from what was taken out is not shown.
        shown = {item.get("path") or join(path, item.get("name", "")) for item in items} | {
            join(path, d.get("name", "")) for d in dirs}
        cover = page.get("cover")
        if isinstance(cover, str) and not any(cover == place or cover.startswith(place + "/") for place in shown):
            page.update(cover=None, coverPicked=False)
        return orjson.dumps(page)

    def _passable(self, path, page, access):
        """A page of a folder not wholly the principal's: only the subfolders that are theirs or lead to
        theirs, each counted for what of it is theirs; the folder's own counts, of the folders below."""
        page["dirs"] = [d for d in page["dirs"] if isinstance(d, dict) and access.shows_folder(path, d.get("name", ""))]
        below = 0
        for entry in page["dirs"]:
            folder = join(path, entry.get("name", ""))
            if access.trash_shown(folder):
                seen = access.visible(folder, orjson.loads(self.view_all(folder))["items"])
                entry.update(images=len(seen), videos=covers.videos_among(seen), allImages=len(seen), cover=None,
                             coverPicked=False)
            elif not access.may_see(folder):
                entry.update(self._counts_below(folder, access))
            below += entry.get("allImages", 0) if not access.trash_shown(folder) else 0
        cover = next((d["cover"] for d in page["dirs"] if d.get("cover") and not access.trash_shown(
            join(path, d.get("name", "")))), None)
        page.update(images=0, videos=0, allImages=below, cover=cover, coverPicked=False)
        return page

    def _counts_below(self, folder, access):
        """Counts, cover and time of a folder that only leads to the scope: what its scope folders hold, so
        that nothing of the rest of it shows (nor changes its listing's signature)."""
        total, cover, mtime = 0, None, 0.0
        for start in access.scope.folders_under(folder) or []:
            try:
                own = self.counts_of(start)
                place = self.tree.locate(start)
                mtime = max(mtime, place.storage.stat(place.key).mtime)
            except NotFound:
                continue  # a scope folder that is not (or no longer) there holds nothing
            total += own["allImages"]
            cover = cover or own["cover"]
        return {"images": 0, "videos": 0, "allImages": total, "cover": cover, "coverPicked": False, "mtime": mtime}

    def view_all(self, path):
        """Every item of a folder in its stored order, as a view (a principal's share is cut from it)."""
        return self.view(path, NAME_ORDER, 0, MAX_ITEMS)

    def listed_mark(self):
        """LISTED now: its bytes and Stat (old bytes put back are a new file: a new ctime on disk), b""
        while there is none (the next rebuild anywhere makes one), None when it cannot be read or is
        not of its shape (a folder, a FIFO or a link in its place, which no process rewrites: counts
        kept under it would never hear of a change, so they are worked out for every answer).

        Asked by every listing read. On a disk, one stat tells the mark read last is still the mark: its
        six calls to open and read it were 40% of a steady read's time, each one handing the GIL to
        another thread and waiting to take it back (docs/performance.md). Only a mark read once its
        time was past telling writes apart is trusted so (kept_mark)."""
        root = self.tree.root
        seen = self.mark_seen
        if seen is not None and root.folder_mtimes:
            try:
                if root.stat(LISTED) == seen[0]:
                    return seen[1]
            except LensletError:
                pass  # read below, which says what it is
        try:
            data, stat = root.read_with_stat(LISTED)
        except NotFound:
            return b""
        except LensletError:
            return None
        # Of another length it is not lenslet's (torn, or another program's, maybe megabytes, which kept
        # with each of CACHED_COUNTS folders' counts would be gigabytes): unread until a rebuild replaces it.
        if len(data) != self.MARK_BYTES:
            return None
        self.mark_seen = kept_mark(data, stat, time.time())
        return data, stat

    def listing_changed(self):
        """Tell every process's kept counts that a listing changed: LISTED's bytes changed in place
        (never durable: losing it only means counts worked out again; a new file renamed over it at
        every rebuild made a big first index half as fast again, see Storage.overwrite). Within
        changes_told_once, told at most once a TELL_EVERY seconds and once at its end."""
        self.counts.clear()
        held = getattr(self.holding, "since", None)
        if held is not None and self.clock() - held < self.TELL_EVERY:
            self.holding.untold = True
            return
        if held is not None:
            self.holding.since, self.holding.untold = self.clock(), False
        self._tell()

    def _tell(self):
        try:
            self.tree.root.overwrite(LISTED, os.urandom(self.MARK_BYTES))
        except LensletError as ex:
            log.debug("cannot mark a listing changed: %s", ex.description)

    def search_changed(self):
        """Ask for the rollup: search is built from listings. Within changes_told_once, asked at most once a
        TELL_EVERY seconds and once at its end: each ask looks for the queued job in the tree, and an index
        job of 64 new folders asked 64 times for one rollup that waits for the job's burst to settle anyway
        (runner.due), 5% of a first index of 20,000 folders."""
        if getattr(self.holding, "since", None) is not None:
            if self.clock() - self.holding.asked < self.TELL_EVERY:
                self.holding.unasked = True
                return
            self.holding.asked, self.holding.unasked = self.clock(), False
        jobs.ask_for_rollup(self.tree.root, self.clock)

    @contextlib.contextmanager
    def changes_told_once(self):
        """Listing changes made by this thread within are told to other processes together: the worker's
        index job of 64 new folders rewrote LISTED 64 times, each one worthless to the others (their
        counts are worked out again at the first, and the job is not done), and asked for the rollup 64
        times (search_changed). Still told once a TELL_EVERY seconds, so a long job leaves other
        processes' counts and search that much behind at most."""
        self.holding.since = self.holding.asked = self.clock()
        self.holding.untold = self.holding.unasked = False
        try:
            yield
        finally:
            untold, unasked = self.holding.untold, self.holding.unasked
            self.holding.since = None
            if untold:
                self._tell()
            if unasked:
                jobs.ask_for_rollup(self.tree.root, self.clock)

    def _summary(self, storage, key, path, depth, walked, children=None):
        if depth > self.MAX_DEPTH:
            return covers.EMPTY
        own, ident = self.local(storage, key)
        if own.pointer and depth:
            place = self.tree.locate(path)  # a pointer folder: its target tree is what it holds
            storage, key = place.storage, place.key
            own, ident = self.local(storage, key)
        if ident in walked:
            return covers.EMPTY  # a folder reached again through a link is counted once
        walked.add(ident)
        summaries = []
        for name in own.dirs:
            try:
                child = self._summary(storage, join(key, name), join(path, name), depth + 1, walked)
            except LensletError:
                child = covers.EMPTY  # gone meanwhile, unreadable, a broken pointer: nothing counted
            summaries.append((name, child))
            if children is not None:
                children[name] = child
        return covers.summary(own, path, summaries)

    def local(self, storage, key):
        """What a folder's own listing says for its summary (covers.Local), looked at again only when it
        changed, and the folder's identity (identity_of, found the first time a summary asks)."""
        known = self.locals.get((storage.identity, key))
        if storage.folder_mtimes:
            # A name added, removed or renamed moves the folder's mtime, a cover picked its sidecar's
            # (folder_version): unchanged, it is trusted, unless it was listed within one step of a
            # coarse clock after that time (see manifests.RACY).
            version = storage.folder_version(key)
            trusted = known is not None and known[0] == version and known[1] - max(version) > manifests.RACY
        else:
            version = None  # a bucket has no folder mtimes: listed again past `recheck` seconds
            trusted = known is not None and self.clock() - known[1] <= self.recheck
        if not trusted:
            known = self.remember_local(storage, key, list_folder(storage, key), version, self.clock())
        if known[3] is None:
            known = self.locals[(storage.identity, key)] = known[:3] + (identity_of(storage, key),)
        return known[2], known[3]

    def remember_local(self, storage, key, listing, version, looked_at):
        """Keep what a folder's listing, made at looked_at (its folder_version then, or None), says for its summary;
        its identity is left to the first summary that needs it (local): an index job's rebuilds never
        do, and a third look at each folder's identity (with the scanner's and the rollup's) was 2% of a
        first index of 20,000 folders."""
        picked = read_cover(storage, key) if listing.folder_sidecar is not None else None
        thumbed = {name for name in listing.thumbs if name in listing.images and manifests.has_thumb_in(listing, name)}
        own = covers.local(sorted(listing.images, key=manifests.sort_key), sorted(listing.dirs, key=manifests.sort_key),
                           picked, listing.pointer, thumbed)
        kept = self.locals[(storage.identity, key)] = (version, looked_at, own, None)
        return kept

    def set_cover(self, path, cover):
        """Pick a folder's cover (a name of an image in it) or clear the pick (None); its summary after."""
        place = self.tree.locate(path)
        if place.readonly:
            raise Forbidden("this folder is read-only (a readonly pointer or LENSLET_READONLY)", path=path)
        storage, key = place.storage, place.key
        if not storage.stat(key).is_dir:
            raise BadRequest("is a file, not a folder", path=path)
        sidecar = join(key, FOLDER_SIDECAR)
        if cover is None:
            try:
                storage.delete(sidecar)
            except NotFound:
                pass
        else:
            self.tree.locate_image(join(path, cover))  # there now (404 if not); trashed later, it is passed over
            storage.write(sidecar, covers.encode(cover))
        self.locals.pop((storage.identity, key), None)
        self.listing_changed()
        own, _ = self.summarize(storage, key, path)
        return dict(own, ok=True, path=path)

    def view(self, path, query, offset, limit):
        """Return one encoded slice of a folder's items as a query (search/query.py) filters and sorts them.

        Every page of the manifest is read, so offset and limit page over one order of the
        whole folder. The last few answers' orders are kept while the pages are the same bytes:
        paging through a big folder sorts it once.
        """
        pages, data, place = self._every_page(path)
        memo_key = (path, query)
        known = self.views.get(memo_key)
        if known is not None and known[0] == data:
            kept = known[1]
        else:
            items = [item for page in pages for item in page["items"] if isinstance(item, dict)]
            kept = arrange(query, items)
            self.views.put(memo_key, (data, kept))
        first = pages[0]
        view = orjson.dumps({
            "v": first["v"], "path": first["path"], "generatedAt": first.get("generatedAt"), "sig": first.get("sig"),
            "sort": query.sort or "name", "order": query.order, "offset": offset, "limit": limit,
            "total": len(kept), "folderTotal": sum(len(page["items"]) for page in pages), "dirs": first["dirs"],
            "items": kept[offset:offset + limit]})
        return self.with_counts(view, place.storage, place.key, path)

    def _every_page(self, path):
        """Every page of a folder's manifest, parsed and as bytes, all from one build; parsed
        again only when the bytes differ from the last time."""
        for attempt in range(2):
            first, place = self.stored_page(path, 0)
            data = [first]
            known = self.parsed.get(path)
            if known is None or known[0][0] != data[0]:
                known = None
                pages = [orjson.loads(data[0])]
            else:
                pages = known[1]
            try:
                for number in range(1, pages[0]["pageCount"]):
                    data.append(self.stored_page(path, number)[0])
                    if known is None or known[0][number] != data[-1]:
                        known = None
                        pages = pages[:number] + [orjson.loads(data[-1])]
                        if pages[-1].get("sig") != pages[0].get("sig"):
                            raise NotFound("the folder was listed again meanwhile", path=path)
            except NotFound:
                if attempt:
                    raise
                continue  # rebuilt between two pages: read them again
            data = tuple(data)
            self.parsed.put(path, (data, pages))
            return pages, data, place

    def _page(self, storage, key, path, page, retry=True):
        mtime = None
        if storage.folder_mtimes:
            folder = storage.stat(key)
            if not folder.is_dir:
                raise BadRequest("is a file, not a folder", path=path)
            mtime = folder.mtime
        # (A bucket has no folder mtimes: there the listing is looked at every
        # `recheck` seconds, and a missing folder is found by its empty listing.)
        memo, first = self.memo.get((storage.identity, key)), None
        moved = memo is None or memo.folder_mtime != mtime
        if moved and memo is not None and memo.pages is None and mtime is not None:
            # Moved by lenslet's own edits, whose entries the stored pages hold (to the mtime the last one
            # marked), or an edit's sidecar has landed and its entry and mark are on their way: the stored
            # pages are served as they are, paged as they are now (another process may have built them
            # again meanwhile), and the folder is not listed again (nor is any edit waited for).
            marked, count = self._edited_only(storage, key, mtime)
            if not count:
                # The last edit may have ended between the looks at the folder and at its lock, its listing
                # line and mark written meanwhile: looked at once more if the folder moved since.
                again = storage.stat(key).mtime
                if again != mtime:
                    mtime = again
                    marked, count = self._edited_only(storage, key, mtime)
            if count:
                memo = memo._replace(page_count=count, folder_mtime=mtime if marked else memo.folder_mtime)
                self.memo[(storage.identity, key)] = memo
                moved = False
                # Unmarked, the folder may also have moved by another change (a folder made in it, a file
                # copied in) that only a listing shows: the answer says it may be a moment behind.
                if not marked:
                    self.served_stored.now = True
        if not moved and memo.settle_at is not None and self.clock() >= memo.settle_at and mtime is not None:
            # Sidecars too young to be told apart by their times when it was built: edits since, each one
            # patched in as it was written, and nothing else (the mark), leave nothing to read again. (Else,
            # while people tag in a folder, every process would build it again every RACY seconds.)
            mark = edited_to(storage, key)
            if mark == mtime:
                memo = self.memo[(storage.identity, key)] = memo._replace(settle_at=None)
            elif mark is not None and self.clock() - mark < manifests.RACY:
                # Edits still landing (one marked in the last RACY seconds), the mark a step behind the folder:
                # the young sidecars are read again once they stop, or at the recheck. (While 8 people tagged,
                # each process built the listing again every 1 to 2 s: 0.25 s of CPU for 1,000 images.)
                memo = self.memo[(storage.identity, key)] = memo._replace(settle_at=self.clock() + manifests.RACY)
        if moved or self.clock() - memo.checked_at > self.recheck \
                or (memo.settle_at is not None and self.clock() >= memo.settle_at):
            memo, first = self._check_once(storage, key, mtime, memo)
        if page >= memo.page_count:
            raise NotFound("no such page", path=path, page=page, pageCount=memo.page_count)
        if memo.pages is not None:
            return memo.pages[page]
        if page == 0 and first is not None:
            return first  # just built, or just checked against the listing
        try:
            return self._read_page(storage, join(key, page_name(page, memo.page_count)))
        except NotFound:
            if not retry:
                raise
            # Another process re-paged the folder since we looked: look again.
            self.memo.pop((storage.identity, key), None)
            return self._page(storage, key, path, page, retry=False)

    def _edited_only(self, storage, key, mtime):
        """(marked, stored page count or a false value): whether lenslet's last edit marked the folder at mtime,
        and the stored pages' count if it did or an edit is under way (the pages then serve as they are)."""
        marked = edited_to(storage, key) == mtime
        return marked, (marked or storage.edits_under_way(key)) and self.stored_page_count(storage, key)

    def _check_once(self, storage, key, mtime, memo):
        """refresh, by one thread of this process at a time for a folder: the others reading it meanwhile are
        served its stored pages as they are, the last complete ones, neither waiting for the check nor making
        it too (while people tag, each of a process's 16 threads built the folder's listing again at once:
        0.2 s of CPU each, every reader of the process stalled 1 to 2 s). Returns (memo, first page or None)."""
        folder = (storage.identity, key)
        with self.lock:
            busy = folder in self.checking
            self.checking.add(folder)
        if busy:
            count = memo is not None and (memo.pages is not None or self.stored_page_count(storage, key))
            if count:
                self.served_stored.now = True
                return (memo if memo.pages is not None else memo._replace(page_count=count)), None
            return self.refresh(storage, key, mtime)  # nothing stored to serve (or no memo yet): alongside
        try:
            return self.refresh(storage, key, mtime)
        finally:
            with self.lock:
                self.checking.discard(folder)

    def stored_page_count(self, storage, key):
        """How many pages a folder's stored listing has now (its first page's head), or None when it has none
        usable: read through the pages this process keeps (one stat while unchanged)."""
        for name in first_page_names():
            try:
                data = self._read_page(storage, join(key, name))
            except LensletError:
                continue
            head = manifests.page_head(data)
            if head is None:
                try:
                    head = orjson.loads(data)  # one an older lenslet stored on one line
                except orjson.JSONDecodeError:
                    return None
            return head["pageCount"] if manifests.usable(head) else None
        return None

    def pages_of(self, storage, key):
        """A folder's manifest pages, parsed: the stored ones, or where the tree refuses them (something holds a
        page's name: store, _page_name_held) those this process keeps in memory, built again first (an edit there
        updates no stored entry: its sidecar is read again), and built now by a process that never did; [] when
        neither. What the worker's rollup and thumbnails are made from, so the photos of a folder whose listing
        is never stored are searched as any."""
        pages = stored_pages(storage, key)
        if pages or not (self._in_memory(storage, key) or _page_name_held(storage, key)):
            return pages
        try:
            self.refresh(storage, key, None)
        except LensletError:
            return []  # gone meanwhile, or cannot be listed now: as a folder with no listing
        return self._in_memory(storage, key) or stored_pages(storage, key)  # (a torn page is stored again)

    def _in_memory(self, storage, key):
        """The parsed pages of a folder's manifest this process keeps in memory only, or []."""
        memo = self.memo.get((storage.identity, key))
        return [orjson.loads(page) for page in memo.pages] if memo is not None and memo.pages else []

    def _read_page(self, storage, name):
        # Pages are rewritten by other processes too (an edited item updates its entry),
        # so cached bytes count only while the file is unchanged (a stat on disk, a
        # conditional GET on S3).
        cache_key = (storage.identity, name)
        known = self.cache.get(cache_key)
        version, data = storage.read_fresh(storage.derived_key(name), known)
        if known is not None and known[0] == version:
            return data
        self.cache.put(cache_key, (version, data))
        return data

    def refresh(self, storage, key, folder_mtime, rebuild=False, known=None):
        """Compare the folder with its manifest; rebuild the manifest if they differ (or always, with
        rebuild: a subfolder's kind changed where the listing cannot show it, see the worker's scanner).
        known: what the caller has just read of some images (see build), not read again.

        Returns the memo and the encoded first page it built or checked.
        """
        looked_at = self.clock()
        version = storage.folder_version(key) if folder_mtime is not None else None
        listing = list_folder(storage, key)
        # The same listing serves counts and covers (a folder changed here is looked at again at once).
        self.remember_local(storage, key, listing, version, looked_at)
        first_bytes, first = self._first_page(storage, key, listing)
        pages = None
        # A manifest made with XMP shown, or without: a change of LENSLET_XMP rebuilds it.
        if not rebuild and current(first, key, listing, self.page_size, self.clock()) \
                and first.get("xmp", False) == self.reading:
            page_count, built_at = first["pageCount"], manifests.built_at(first)
        else:
            metrics.manifest_rebuilt()
            # (What this process keeps in memory only where the tree refused the manifest is as good a base.)
            stored = read_pages(storage, key, first) or self._in_memory(storage, key)
            built_at = self.clock()
            pages = build(storage, key, listing, stored, self.page_size, lambda: built_at, self.reading, known)
            page_count, first_bytes = len(pages), pages[0]
            news = news_of(stored, pages)
            if store(storage, key, listing, pages):
                pages = None
                folder_mtime = None  # our own writes moved the mtime: check once more next time
                if news.counts:
                    self.listing_changed()
                if news.search:
                    # Search is built from listings, and a rebuild may hold what another program changed.
                    self.search_changed()
        memo = Memo(folder_mtime, page_count, self.clock(), pages, listing.pointer,
                    manifests.settle_at(listing, built_at))
        self.memo[(storage.identity, key)] = memo
        return memo, first_bytes

    def _first_page(self, storage, key, listing):
        """The stored first page, as (bytes, parsed) or (None, None); no read when the
        listing shows it is the very copy this process holds."""
        name = first_page_name(listing)
        if name is None:
            return None, None
        entry = listing.pages[name]
        cached = self.cache.get((storage.identity, join(key, name)))
        try:
            if cached is not None and same_copy(cached[0], entry):
                data = cached[1]
            else:
                data = self._read_page(storage, join(key, name))
            page = orjson.loads(data)
        except (orjson.JSONDecodeError, LensletError):
            return None, None  # a torn or foreign manifest is rebuilt, never trusted
        return (data, page) if manifests.usable(page) else (None, None)


MARK_SETTLED = 1.0  # seconds after LISTED's last change (its ctime) past which no rewrite can leave its Stat as it was


def kept_mark(data, stat, now):
    """(Stat, mark) for listed_mark to trust while LISTED's Stat stays this one, or None. A rewrite within one
    tick of the file system's clock leaves the times, and the size, as they were: a mark read within
    MARK_SETTLED of its change may be rewritten so, unseen, and is read again every time instead. Read
    later, any rewrite since gets a later time. (A file system's clock ahead of this one's: read every time;
    one behind by more than that: such a rewrite goes unseen by counts until they expire, COUNTS_FOR.)"""
    return (stat, (data, stat)) if now - stat.changed > MARK_SETTLED else None


class News(NamedTuple):
    """What a rebuilt listing tells others: counts or covers may have changed (every process's kept counts
    are checked again), search may have something no edit told it (the rollup is asked for)."""

    counts: bool
    search: bool


# Fields of an item a rebuild fills in that no one else reads: their change alone is no news.
UNTOLD = ("metaMtime",)


def news_of(stored, built):
    """What a rebuild changed, from the pages before (parsed; [] when there were none) and after (bytes).
    A rebuild after lenslet's own edits (whose entries were patched, and search told, as they were made)
    holds the same items but the sidecars' times: it tells nobody, so a folder being tagged does not
    send every process to work its counts out again, nor the worker to build the rollup again."""
    if not stored:
        return News(True, True)
    after = [page for data in built for page in [orjson.loads(data)]]

    def folders(pages):  # a subfolder's mtime moves with every edit in it: no news for the folder above
        return [{k: v for k, v in d.items() if k != "mtime"} if isinstance(d, dict) else d
                for page in pages[:1] for d in page["dirs"]]
    if folders(stored) != folders(after):
        return News(True, True)

    def told(pages):
        return [{k: v for k, v in item.items() if k not in UNTOLD} if isinstance(item, dict) else item
                for page in pages for item in page["items"]]
    before, now = told(stored), told(after)
    if [i.get("name") if isinstance(i, dict) else i for i in before] != [i.get("name") for i in now]:
        return News(True, True)
    return News(False, before != now)


def signature_of(items, dirs):
    """The signature of a listing as one principal sees it: it changes with what they see only."""
    return "seen:" + _digest(orjson.dumps([items, dirs]))


def _digest(data):
    """A digest of an answer for its ETag or signature: blake3, as it is made again for nearly every read of a
    folder people are tagging in (0.08 ms for 1,000 items' 340 KB against blake2b's 0.6 ms here)."""
    return blake3.blake3(data).hexdigest(length=12)


def current(first, key, listing, page_size, now):
    """Whether a stored first page is the manifest of the listing as it is now (first: parsed, or None).

    Not while sidecars too young to be told apart by their times wait to be read
    again (manifests.settle_at): those are read once they have settled.
    """
    if first is None or first["sig"] != listing.signature or first.get("path") != key \
            or first["pageCount"] != manifests.page_count(len(listing.images), page_size):
        return False
    settle = manifests.settle_at(listing, manifests.built_at(first))
    return settle is None or now < settle


def same_copy(known, entry):
    """Whether a cached copy's version (a Stat, or an S3 Version) is the file a listing Entry shows."""
    etag = getattr(known, "etag", None)
    if etag is not None and entry.version is not None:
        return etag == entry.version  # a bucket's times are whole seconds: the ETag tells
    return (known.size, known.mtime) == (entry.size, entry.mtime)


def list_folder(storage, key):
    """List a folder and sort its entries into a Listing (with its derived files when kept apart)."""
    entries = storage.list_folder(key)
    derived = None
    if storage.derived_key(key) != key:
        try:
            derived = storage.list_folder(storage.derived_key(key))
        except NotFound:
            derived = []
    return manifests.classify(entries, derived)


def identity_of(storage, key):
    """A folder's identity (device and inode on disk; its key in a bucket), so walks skip a folder
    reached again through a link (`2024/self -> .`). For a folder that is gone, its key: no other key
    reaches it (a key is a str, never equal to a storage's identity). Any other error is raised: a
    folder that cannot be looked at has no identity to guess."""
    try:
        return storage.identity_of(key)
    except NotFound:
        return key


def first_page_name(listing):
    """The name of a folder's stored first manifest page, or None when it has none."""
    return next((name for name in first_page_names() if name in listing.pages), None)


def read_page(storage, key):
    """Read and parse one stored page; None when missing, torn or of another format."""
    try:
        page = orjson.loads(storage.read(storage.derived_key(key)))
    except (orjson.JSONDecodeError, LensletError):
        return None  # a torn or foreign manifest is rebuilt, never trusted
    return page if manifests.usable(page) else None


def read_first_page(storage, key, listing=None):
    """Return a folder's stored first page (looked for in the listing when given), or None."""
    names = first_page_names() if listing is None else filter(None, [first_page_name(listing)])
    for name in names:
        page = read_page(storage, join(key, name))
        if page is not None:
            return page
    return None


def read_pages(storage, key, first):
    """Return all stored pages after the first, or [] when any is missing or from another build."""
    if first is None:
        return []
    pages = [first]
    for number in range(1, first["pageCount"]):
        page = read_page(storage, join(key, page_name(number, first["pageCount"])))
        if page is None or page.get("sig") != first.get("sig"):
            return []
        pages.append(page)
    return pages


def _page_name_held(storage, key):
    """Whether something holds a listing page's name in a folder with no usable stored listing (a subfolder
    `_index.json/` or `_index_1.json/`, a link, a folder the state root keeps there, a torn page): its listing is
    then kept in memory only, by the process that built it, or stored again once built (a torn page)."""
    for name in first_page_names():
        try:
            storage.stat(storage.derived_key(join(key, name)))
        except NotFound:
            continue
        except LensletError:
            return True  # (a link or a special file, never read)
        return True
    try:
        return any(entry.is_dir and is_manifest(entry.name) for entry in storage.list_folder(key))
    except LensletError:
        return False  # gone meanwhile, or cannot be listed now: as a folder with no listing


def stored_pages(storage, folder):
    """Read a folder's stored manifest pages as they are ([] when there is none usable)."""
    return read_pages(storage, folder, read_first_page(storage, folder))


def listed_hash(storage, key):
    """The content hash an image's stored listing entry holds (an image nobody described keeps it
    there only), or None. The pages are read as bytes, and only the image's own line parsed."""
    folder, name = parent(key), name_of(key)
    pages = None
    for number in range(64):  # pages are at most a few dozen: never a loop on a forged pageCount
        names = first_page_names() if number == 0 else [page_name(number, pages)]
        for page_key in names:
            try:
                data = storage.read(storage.derived_key(join(folder, page_key)))
            except LensletError:
                continue
            head = manifests.page_head(data) or {}
            pages = head.get("pageCount") if pages is None else pages
            entry = manifests.entry_in_page(data, name)
            if entry is not None:
                digest = entry.get("hash")
                return digest if isinstance(digest, str) else None
            break
        if type(pages) is not int or number + 1 >= pages:
            return None
    return None


def stored_items(storage, folder):
    """The items of a folder's stored manifest."""
    return [item for page in stored_pages(storage, folder) for item in page["items"] if isinstance(item, dict)]


def build(storage, key, listing, stored, page_size, clock=time.time, reading=False, known=None):
    """Build a folder's manifest pages, re-reading only what changed since `stored`.

    reading: other tools' XMP is shown (merged into tags and star; its readings kept in the entries).
    known: name -> (originals.probe of the image, (its sidecar, version)) as the caller has just read
    them (an upload): used instead of reading them again, a sidecar only while the listing shows that
    very version (a bucket's listing tells; on a disk a sidecar this young is read again once settled).
    """
    known = known or {}
    built_at = clock()  # before any sidecar is read (see manifests.derived_from)
    # Paths come from the folder the manifest is read for: one moved with `mv` lists right at once.
    previous_items = {item["name"]: dict(item, path=join(key, item["name"]))
                      for page in stored for item in page["items"]
                      if isinstance(item, dict) and isinstance(item.get("name"), str)}
    previous_dirs = {d.get("name"): d for d in (stored[0]["dirs"] if stored else []) if isinstance(d, dict)}
    was_reading = stored[0].get("xmp", False) if stored else False
    plan = manifests.plan(listing, previous_items, previous_dirs, manifests.built_at(stored[0]) if stored else 0.0,
                          reading, was_reading, storage.folder_mtimes)
    metas = {name: known[name][1] if name in known and listing.sidecars[name].version in (None, known[name][1][1])
             else read_sidecar(storage, sidecar_of(join(key, name))) for name in plan.sidecars}
    # A sidecar read again holding other bytes than its entry was made from: its entry is made afresh from all
    # it merges, the image's own XMP and its XMP sidecar read again too (an edit's own, the same bytes: not).
    redone = [name for name in plan.unless_same
              if metas[name][1] is None or metas[name][1] != previous_items[name].get("metaVersion")]
    probed = {name: known[name][0] if name in known else originals.probe(storage, join(key, name), reading)
              for name in plan.probe + redone}
    xmps = {}
    for name in plan.xmps + redone:
        chosen = manifests.xmp_sidecar(name, listing.xmps)
        if chosen is not None:
            xmps[name] = read_xmp(storage, key, chosen, listing.xmps[chosen])
    items = [manifests.item(key, name, listing, previous_items.get(name, {}), probed.get(name), metas.get(name),
                            xmps.get(name), reading)
             for name in sorted(listing.images, key=manifests.sort_key)]
    dirs = []
    for name in sorted(listing.dirs, key=manifests.sort_key):
        entry = listing.dirs[name]
        kind = dir_kind(storage, join(key, name)) if name in plan.dirs else previous_dirs[name]["kind"]
        dirs.append({"name": name, "kind": kind, "mtime": entry.mtime, **({"link": True} if entry.link else {})})
    generated = datetime.datetime.fromtimestamp(built_at, datetime.timezone.utc).isoformat()
    stacks.marked(items)  # what pairs depends on the folder's other names: found again at every build
    pages = manifests.paginate(key, items, dirs, listing.signature, page_size, generated, built_at)
    for page in pages:
        page["xmp"] = reading  # a manifest made with XMP shown, or without: a change of setting rebuilds it
    return [manifests.encode_page(page) for page in pages]


def store(storage, key, listing, pages):
    """Write manifest pages and drop pages left from an older paging; False if the tree refuses.

    (An edit's entry patched into a page between this build's read of its sidecar and this write is
    written over: the folder's signature no longer matches, so the next full look, within `recheck`
    seconds, builds it again from that sidecar and asks for the rollup. A store that declined instead
    would, while people tag, decline at every look and build the folder at every read.)"""
    names = [page_name(number, len(pages)) for number in range(len(pages))]
    try:
        for name, data in zip(names, pages, strict=True):
            # Without fsync: a manifest can be made again, and a torn one is never trusted.
            storage.write(storage.derived_key(join(key, name)), data, durable=False)
        for name in set(listing.pages) - set(names):
            try:
                storage.delete(storage.derived_key(join(key, name)))
            except NotFound:
                pass
    except (BadPath, Forbidden, Foreign, NotAFolder, InsufficientStorage) as ex:
        # Someone else's file or folder holds a manifest's name, a link or file holds its folder's place in the
        # state root (or the path is too long there), or the disk is full: a listing is still answered, from memory.
        if not isinstance(ex, Forbidden):
            log.warning("%s: manifest kept in memory: %s", key or "/", ex.description)
            _drop_pages(storage, key, set(names) | set(listing.pages))
        return False  # a tree we may not write: serve the manifest from memory
    return True


def _drop_pages(storage, key, names):
    """Remove what is stored of a listing kept in memory: pages this build wrote before one was refused (a folder
    `_index_1.json/` holds a name), or left from before (a folder `_index.json/` came since), would be taken for
    it by the next look and by the rollup, whole or not."""
    for name in names:
        try:
            storage.delete(storage.derived_key(join(key, name)))
        except LensletError:
            pass  # none there, or what holds the name is no page of lenslet's: never removed


def read_cover(storage, folder):
    """The cover a folder's sidecar picks (covers.parse), or None; never more than covers.MAX_SIDECAR + 1 bytes read."""
    try:
        with storage.open_head(join(folder, FOLDER_SIDECAR), covers.MAX_SIDECAR + 1) as stream:
            return covers.parse(stream.read(covers.MAX_SIDECAR + 1))
    except LensletError:
        return None  # gone meanwhile, a folder of that name, unreadable: no pick


def dir_kind(storage, key):
    """A subfolder's kind, or manifests.UNKNOWN when it cannot be looked at now (never a guess stored as a fact)."""
    try:
        return manifests.dir_kind(storage.exists(join(key, POINTER_FILE)), storage.has_subfolders(key))
    except Unavailable:
        raise  # the whole tree is out of reach: no manifest is built from that
    except LensletError as ex:
        log.warning("%s: cannot tell what kind of folder it is: %s", key, ex.description)
        return manifests.UNKNOWN


def rebase(data, prefix):
    """Re-root a page from a pointer's target tree under the pointer folder's browse path."""
    page = orjson.loads(data)
    page["path"] = join(prefix, page["path"]) if page["path"] else prefix
    for item in page["items"]:
        item["path"] = join(prefix, item["path"])
    return orjson.dumps(page)


class _Batch:
    """The entry changes of one folder waiting in this process. One thread at a time writes them; an edit
    that finds one writing leaves its change to it and returns at once (a group commit where nobody waits:
    a thread held waiting is a thread readers cannot have), and the writer writes what arrived meanwhile
    before it leaves. While it writes it holds its own edit's locks, so readers see an edit under way."""

    def __init__(self):
        self.guard = threading.Lock()   # held only to add or take changes
        self.writer = threading.Lock()  # held by the thread writing the folder's pages, never waited for
        self.changes = {}               # name -> fields, the latest for each name (each edit under its image's lock)
        self.then = []                  # what each change's caller asked done once its entry is written


_batches = {}  # (storage identity, folder) -> _Batch
_batches_guard = threading.Lock()
MAX_BATCHES = 4096  # folders whose batch a process keeps (small objects: forgotten all at once past it)


def update_entries(storage, folder, changes, then=None):
    """Change items' fields (name -> fields) in a folder's stored pages: only the lines of those items are
    rewritten (manifests.patch_page), one locked read-splice-write per page that holds any, never parsing
    the folder's other items; then the folder is marked as listed as it is now (mark_edited). Changes to
    one folder from several threads at once are written together (_Batch): one that finds another thread
    writing returns at once, its change left to that thread. then(): called once the entries are written
    (or could not be), by whichever thread wrote them: search's journal is told after the listing holds
    the change, so a rollup that takes the journal's word reads a listing that has it."""
    with _batches_guard:
        if len(_batches) > MAX_BATCHES:
            _batches.clear()  # safe: a thread holding a batch dropped here writes it; the pages' lock orders all
        batch = _batches.setdefault((storage.identity, folder), _Batch())
    with batch.guard:
        batch.changes.update(changes)
        batch.then += [then] if then is not None else []
    while batch.writer.acquire(blocking=False):
        try:
            while True:
                with batch.guard:
                    (taking, batch.changes), (after, batch.then) = (batch.changes, {}), (batch.then, [])
                if not taking and not after:
                    break
                try:
                    _write_entries(storage, folder, taking)
                except BaseException:
                    with batch.guard:  # not written: left for the next writer (and this caller hears why)
                        batch.changes = {**taking, **batch.changes}
                    raise
                finally:
                    for told in after:  # written, or not (the listing is built again later): told either way
                        _quietly(told)
        finally:
            batch.writer.release()
        with batch.guard:
            if not batch.changes and not batch.then:
                return  # nothing arrived after the last take: whoever adds next writes
        # A change arrived while the lock was being given up, its thread gone: write it too.


def _quietly(told):
    try:
        told()
    except LensletError as ex:
        log.warning("after an entry was written: %s", ex.description)


def _write_entries(storage, folder, changes):
    left = dict(changes)
    first = next((name for name in first_page_names() if storage.exists(storage.derived_key(join(folder, name)))),
                 None)
    if first is None:
        return  # no manifest yet: it is built, with the sidecars, on the next listing
    number, count, wrote = 0, 1, False
    while left and number < count:
        seen = []

        def change(old, version, seen=seen):  # called before the loop goes on: seen is this page's
            patched = manifests.patch_page(old, left) if old else None
            if patched is None:
                return None  # torn or another program's: rebuilt when it is next listed
            new, held, page_count = patched
            seen.append((held, page_count))
            return new

        name = first if number == 0 else page_name(number, count)
        try:
            # Without fsync, as every manifest write: a torn one is rebuilt, never trusted.
            storage.update(storage.derived_key(join(folder, name)), change, durable=False)
        except NotFound:
            break
        if not seen:
            break
        held, count = seen[0]
        for done in held:
            left.pop(done, None)
        wrote = wrote or bool(held)
        number += 1
    if wrote:
        mark_edited(storage, folder)


EDIT_MARK = 32  # bytes at most of an edit mark: a float's repr


def mark_edited(storage, folder):
    """Note for every process that the folder's mtime now is lenslet's own edits, whose entries the stored
    pages already hold: a web process that finds the folder moved to exactly this mtime serves the pages
    without listing the folder again (a listing of 1,000 images after every tag edit is what made readers
    of a folder wait behind its editors). Written until the folder's mtime stays what it says, so of two
    processes marking at once the last one marks the latest; an edit whose sidecar lands after it holds
    its folder's lock of edits under way until it has marked too (storage.edits_under_way). A change
    another program makes moves the mtime past the mark; one within the instant between an edit and its
    mark is found at the next `recheck`, as a file rewritten in place always is. Disk only (a bucket has
    no folder mtimes); written in place, never durable (a mark torn or lost only costs one listing)."""
    if not storage.folder_mtimes:
        return
    try:
        for _ in range(3):
            mtime = storage.stat(folder).mtime
            storage.overwrite(edit_mark_of(folder), repr(mtime).encode().ljust(EDIT_MARK))
            if storage.stat(folder).mtime == mtime:
                return
    except LensletError as ex:
        log.debug("%s: edit not marked: %s", folder or "/", ex.description)


def edited_to(storage, folder):
    """The folder mtime lenslet's last edit in it marked (mark_edited), or None: none, or not a mark (a
    state file is input: torn, forged, a FIFO, a link or a folder in its place is no mark)."""
    try:
        data, _ = storage.read_small(edit_mark_of(folder), EDIT_MARK)
        return float(data) if data else None
    except (LensletError, ValueError):
        return None


def update_entries_quietly(storage, folder, changes, then=None):
    """update_entries, for a change whose source (sidecar, thumbnail) is already safe."""
    try:
        update_entries(storage, folder, changes, then)
    except LensletError as ex:  # the listing catches up when it is rebuilt
        log.warning("%s: manifest entries not updated: %s", folder or "/", ex.description)


def repath(storage, folder):
    """Rewrite the paths in the stored manifests of a moved folder and its subfolders to where they are now."""
    stack = [folder]
    while stack:
        key = stack.pop()
        pages = stored_pages(storage, key)
        for number, page in enumerate(pages):
            page["path"] = key
            for item in page["items"]:
                if isinstance(item, dict) and isinstance(item.get("name"), str):
                    item["path"] = join(key, item["name"])
            # Without fsync, as every manifest write: a torn one is rebuilt, never trusted.
            storage.write(storage.derived_key(join(key, page_name(number, len(pages)))),
                          manifests.encode_page(page), durable=False)
        if pages:
            stack.extend(join(key, d["name"]) for d in pages[0]["dirs"]
                         if isinstance(d, dict) and isinstance(d.get("name"), str) and d.get("kind") != "leaf-pointer")
