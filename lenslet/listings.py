"""Folder manifests: served, rebuilt when stale, patched on edits."""

import bisect
import contextlib
import datetime
import logging
import os
import re
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
    PreconditionFailed,
    Unavailable,
)
from lenslet.formats import covers, listing_pages, stacks
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
    thumb_of,
)
from lenslet.recent import Recent
from lenslet.sidecar.store import read_sidecar, read_xmp
from lenslet.storage import Entry, version_of

log = logging.getLogger("lenslet")

NAME_ORDER = parse()  # stored order, nothing filtered
MAX_ITEMS = 1 << 40
REBUILDS = 3  # builds of a folder that changes while it is built, before the last is stored anyway
ANY = object()  # a first page not read: store() writes over whatever it holds


class Memo(NamedTuple):
    """What one web process knows of a folder's manifest."""

    folder_mtime: float
    page_count: int
    checked_at: float    # when file sizes and times were last compared
    pages: list          # encoded pages kept in memory, else None
    pointer: bool
    settle_at: float     # when young sidecars are read again, or None


class Folders:
    """Answer GET /folders from stored manifests, rebuilt when the folder changed."""

    CACHED_PAGES = 64
    CACHED_ANSWERS = 16
    CACHED_VIEWS = 4
    CACHED_PARSED = 2
    MAX_DEPTH = 64     # deeper folders are not counted
    # Counts are kept until any listing changes (LISTED), or COUNTS_FOR seconds.
    COUNTS_FOR = 30.0
    CACHED_COUNTS = 256
    MARK_BYTES = 8
    NOTICE_EVERY = 1.0  # seconds changes may go unmarked
    LONGEST_WAIT = 6  # rechecks a folder's comparison waits at most while edits land

    def __init__(self, tree, config, clock=time.time):
        self.tree = tree
        self.page_size = config.page_size
        self.recheck = config.recheck
        self.clock = clock
        self.xmp_shown = listing_pages.xmp_shown(config.xmp, config.words)
        self.memo = {}
        self.locals = {}  # (identity, folder) -> (version, when, covers.Local, identity or None)
        self.counts = Recent(self.CACHED_COUNTS)  # (identity, folder) -> (mark, when, summary, subfolders')
        self.cache = Recent(self.CACHED_PAGES)  # (identity, page key) -> (Stat, bytes)
        self.answers = Recent(self.CACHED_ANSWERS)  # (identity, key, path, page) -> (page bytes, own, children, answer)
        self.views = Recent(self.CACHED_VIEWS)  # (browse path, query) -> (pages' bytes, sorted items)
        self.parsed = Recent(self.CACHED_PARSED)  # browse path -> (pages' bytes, pages parsed)
        self.holding = threading.local()  # see batched_notices
        self.checking = set()  # (identity, folder) being checked now
        self.served_stored = threading.local()  # see checked_meanwhile
        self.lock = threading.Lock()
        self.mark_seen = None  # see listed_mark

    def answer(self, path, page):
        """Return (bytes, ETag) of a folder page, cached while nothing changed."""
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
        """Return and clear whether this thread served a page being rechecked."""
        was = getattr(self.served_stored, "now", False)
        self.served_stored.now = False
        return was

    def stored_page(self, path, page):
        """Return a path's stored page (rebased through a pointer) and its place."""
        # On S3 each lookup is a request: look up only the parents first.
        remote = not self.tree.root.folder_mtimes
        place = self.tree.locate(path, is_file=remote and bool(path))
        data = self._page(place.storage, place.key, path, page)
        metrics.manifest_page()
        if remote and path and self.memo[(place.storage.identity, place.key)].pointer:
            place = self.tree.locate(path)
            data = self._page(place.storage, place.key, path, page)
        return (rebase(data, place.prefix) if place.prefix else data), place

    # -- counts and covers --

    @staticmethod
    def _with(data, own, children):
        # Only a page's head line is parsed and encoded again; its items go as stored.
        head = listing_pages.page_head(data)
        page = head if head is not None else orjson.loads(data)
        page.update(own)
        for entry in page["dirs"]:
            if isinstance(entry, dict):
                entry.update(children.get(entry.get("name"), covers.EMPTY))
        if head is None:
            return orjson.dumps(page)
        return listing_pages.with_items_of(head, data)

    def summarize(self, storage, key, path):
        """Return a folder's counts and cover, and its subfolders' by name."""
        mark, memo_key, now = self.listed_mark(), (storage.identity, key), self.clock()
        known = self.counts.get(memo_key)
        if known is not None and mark is not None and known[0] == mark and 0 <= now - known[1] <= self.COUNTS_FOR:
            return known[2], known[3]
        children = {}
        own = self._summary(storage, key, path, 0, set(), children)
        self.counts.put(memo_key, (mark, now, own, children))
        return own, children

    # -- as one principal sees a folder --
    # Counts and signatures cover only what the principal sees: nothing else leaks.

    def shown(self, path, page, access, view=None):
        """Return (bytes, ETag or None, checked meanwhile) of a folder as a principal sees it: a stored page,
        or with view = (query, offset, limit) a sorted or filtered slice."""
        self.checked_meanwhile()  # clear what another request of this thread left
        data, etag = self.page_seen(path, page, access) if view is None else (self.view_seen(path, *view, access), None)
        shown = access.listing_shown(data)
        return shown, (etag if shown is data else None), self.checked_meanwhile()

    def page_seen(self, path, page, access):
        """Return a page's (bytes, ETag) as a principal sees it (ETag None if theirs alone)."""
        data, etag = self.answer(path, page)
        if access.limited and not access.wholly(path):
            if page:
                raise NotFound("no such page", path=path, page=page, pageCount=1)
            shown = self._passable(path, orjson.loads(data), access)
            items = self.seen_items(path, access) if shown["total"] else []
            shown.update(items=items, page=0, pageCount=1, total=len(items), images=len(items),
                         videos=covers.videos_among(items), allImages=len(items) + shown["allImages"],
                         sig=signature_of(items, shown["dirs"]))
            return orjson.dumps(shown), None
        if access.limited:
            shown = self._without_links(path, data, access)
        else:
            shown = data if path else self._without_trash(data, access)
        return shown, (etag if shown is data else None)

    def view_seen(self, path, query, offset, limit, access):
        """Return a sorted or filtered slice as a principal sees it."""
        access.check_filters(query)
        if not access.limited:
            data = self.view(path, query, offset, limit)
            return data if path else self._without_trash(data, access)
        if access.wholly(path):
            return self._without_links(path, self.view(path, query, offset, limit), access)
        view = self._passable(path, orjson.loads(self.view(path, query, 0, MAX_ITEMS)), access)
        items = access.visible(path, view["items"])
        seen = self.seen_items(path, access)
        view.update(items=items[offset:offset + limit], total=len(items), offset=offset, limit=limit,
                    folderTotal=len(seen), sig=signature_of(items, view["dirs"]), images=len(seen),
                    videos=covers.videos_among(seen), allImages=len(seen) + view["allImages"])
        return orjson.dumps(view)

    def whole_seen(self, path, access):
        """Return (key, subfolders, items) of a folder in stored order as a principal sees them (WebDAV's listing);
        key stays equal while the listing is unchanged, None when the answer is this principal's alone."""
        if access.limited:
            view = orjson.loads(self.view_seen(path, NAME_ORDER, 0, MAX_ITEMS, access))
            return None, view["dirs"], view["items"]
        pages, data, _ = self._every_page(path)
        return data, pages[0]["dirs"], [item for page in pages for item in page["items"]]

    def _without_trash(self, data, access):
        """Hide the trash from the root's page if the principal may not see it."""
        if access.trash_shown(TRASH) or TRASH.encode() not in data:
            return data
        page = orjson.loads(data)
        dirs = [d for d in page["dirs"] if not (isinstance(d, dict) and d.get("name") == TRASH)]
        if len(dirs) == len(page["dirs"]):
            return data
        page.update(dirs=dirs, sig=signature_of(page["items"], dirs))
        return orjson.dumps(page)

    def _without_links(self, path, data, access):
        """Drop links and pointer folders leading out of the principal's scope."""
        if b'"link"' not in data and b'"leaf-pointer"' not in data:
            return data
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
        # A cover picked from what was taken out is not shown.
        shown = {item.get("path") or join(path, item.get("name", "")) for item in items} | {
            join(path, d.get("name", "")) for d in dirs}
        cover = page.get("cover")
        if isinstance(cover, str) and not any(cover == place or cover.startswith(place + "/") for place in shown):
            page.update(cover=None, coverPicked=False)
        return orjson.dumps(page)

    def _passable(self, path, page, access):
        """Keep only the subfolders that are, or lead to, the principal's."""
        page["dirs"] = [d for d in page["dirs"] if isinstance(d, dict) and access.shows_folder(path, d.get("name", ""))]
        below = 0
        for entry in page["dirs"]:
            folder = join(path, entry.get("name", ""))
            if access.trash_shown(folder):
                seen = self.seen_items(folder, access)
                entry.update(images=len(seen), videos=covers.videos_among(seen), allImages=len(seen), cover=None,
                             coverPicked=False)
            elif not access.may_see(folder):
                entry.update(self._counts_below(folder, access))
            elif self.tree.root.folder_mtimes:  # stored as when the parent was last listed, for whatever reason
                entry["mtime"] = self._mtime_of(folder)
            below += entry.get("allImages", 0) if not access.trash_shown(folder) else 0
        cover = next((d["cover"] for d in page["dirs"] if d.get("cover") and not access.trash_shown(
            join(path, d.get("name", "")))), None)
        page.update(images=0, videos=0, allImages=below, cover=cover, coverPicked=False)
        return page

    def _mtime_of(self, folder):
        with contextlib.suppress(LensletError):
            place = self.tree.locate(folder)
            return place.storage.stat(place.key).mtime
        return 0.0

    def _counts_below(self, folder, access):
        """Return counts of a folder that only leads to the scope."""
        total, cover, mtime = 0, None, 0.0
        for start in access.scope.folders_under(folder) or []:
            try:
                place = self.tree.locate(start)
                own, _ = self.summarize(place.storage, place.key, start)
                mtime = max(mtime, place.storage.stat(place.key).mtime)
            except NotFound:
                continue
            total += own["allImages"]
            cover = cover or own["cover"]
        return {"images": 0, "videos": 0, "allImages": total, "cover": cover, "coverPicked": False, "mtime": mtime}

    def seen_items(self, path, access):
        return access.visible(path, orjson.loads(self.view(path, NAME_ORDER, 0, MAX_ITEMS))["items"])

    def listed_mark(self):
        """Return LISTED's (bytes, Stat), b"" if absent, or None if unreadable."""
        root = self.tree.root
        seen = self.mark_seen
        if seen is not None and root.folder_mtimes:
            with contextlib.suppress(LensletError):
                if root.stat(LISTED) == seen[0]:
                    return seen[1]
        try:
            data, stat = root.read_with_stat(LISTED)
        except NotFound:
            return b""
        except LensletError:
            return None
        # Of another length it is not lenslet's: ignore it.
        if len(data) != self.MARK_BYTES:
            return None
        self.mark_seen = kept_mark(data, stat, time.time())
        return data, stat

    def listing_changed(self):
        """Tell every process a listing changed by rewriting LISTED."""
        self.counts.clear()
        if getattr(self.holding, "since", None) is not None:
            if self.clock() - self.holding.since < self.NOTICE_EVERY:
                self.holding.unmarked = True
                return
            self.holding.since, self.holding.unmarked = self.clock(), False
        self._mark_listed()

    def _mark_listed(self):
        try:
            self.tree.root.overwrite(LISTED, os.urandom(self.MARK_BYTES))
        except LensletError as ex:
            log.debug("cannot mark a listing changed: %s", ex.description)

    def ask_for_rollup(self):
        """Ask for the search rollup, which is built from listings."""
        if getattr(self.holding, "since", None) is not None:
            if self.clock() - self.holding.asked < self.NOTICE_EVERY:
                self.holding.unasked = True
                return
            self.holding.asked, self.holding.unasked = self.clock(), False
        jobs.ask_for_rollup(self.tree.root, self.clock)

    @contextlib.contextmanager
    def batched_notices(self):
        """Batch this thread's listing changes, noticed at most every NOTICE_EVERY seconds."""
        self.holding.since = self.holding.asked = self.clock()
        self.holding.unmarked = self.holding.unasked = False
        try:
            yield
        finally:
            unmarked, unasked = self.holding.unmarked, self.holding.unasked
            self.holding.since = None
            if unmarked:
                self._mark_listed()
            if unasked:
                jobs.ask_for_rollup(self.tree.root, self.clock)

    def _summary(self, storage, key, path, depth, walked, children=None):
        if depth > self.MAX_DEPTH:
            return covers.EMPTY
        own, ident = self.local(storage, key)
        if own.pointer and depth:
            place = self.tree.locate(path)  # a pointer folder holds its target tree
            storage, key = place.storage, place.key
            own, ident = self.local(storage, key)
        if ident in walked:
            return covers.EMPTY  # reached again through a link: counted once
        walked.add(ident)
        summaries = []
        for name in own.dirs:
            try:
                child = self._summary(storage, join(key, name), join(path, name), depth + 1, walked)
            except LensletError:
                child = covers.EMPTY  # gone, unreadable or a broken pointer
            summaries.append((name, child))
            if children is not None:
                children[name] = child
        return covers.summary(own, path, summaries)

    def local(self, storage, key):
        """Return a folder's covers.Local and identity, relisted only when changed."""
        known = self.locals.get((storage.identity, key))
        if storage.folder_mtimes:
            # Trusted while unchanged, unless listed within RACY of the change.
            version = storage.folder_version(key)
            trusted = known is not None and known[0] == version and known[1] - max(version) > listing_pages.RACY
        else:
            version = None  # a bucket has no folder mtimes
            trusted = known is not None and self.clock() - known[1] <= self.recheck
        if not trusted:
            known = self.remember_local(storage, key, list_folder(storage, key), version, self.clock())
        if known[3] is None:
            known = self.locals[(storage.identity, key)] = known[:3] + (identity_of(storage, key),)
        return known[2], known[3]

    def remember_local(self, storage, key, listing, version, looked_at):
        """Keep what a folder's listing says for its summary."""
        picked = read_cover(storage, key) if listing.folder_sidecar is not None else None
        thumbed = {name for name in listing.thumbs
                   if name in listing.images and listing_pages.has_thumb_in(listing, name)}
        by_name = listing_pages.sort_key
        own = covers.local(sorted(listing.images, key=by_name), sorted(listing.dirs, key=by_name),
                           picked, listing.pointer, thumbed)
        kept = self.locals[(storage.identity, key)] = (version, looked_at, own, None)
        return kept

    def set_cover(self, path, cover):
        """Pick or clear (None) a folder's cover; return its summary."""
        place = self.tree.locate(path)
        if place.readonly:
            raise Forbidden("this folder is read-only (a readonly pointer or LENSLET_READONLY)", path=path)
        storage, key = place.storage, place.key
        if not storage.stat(key).is_dir:
            raise BadRequest("is a file, not a folder", path=path)
        sidecar = join(key, FOLDER_SIDECAR)
        if cover is None:
            with contextlib.suppress(NotFound):
                storage.delete(sidecar)
        else:
            self.tree.locate_image(join(path, cover))  # 404 if not there
            storage.write(sidecar, covers.encode(cover))
        self.locals.pop((storage.identity, key), None)
        self.listing_changed()
        own, _ = self.summarize(storage, key, path)
        return dict(own, ok=True, path=path)

    def view(self, path, query, offset, limit):
        """Return a slice of a folder's items, filtered and sorted by a query."""
        pages, data, place = self._every_page(path)
        memo_key = (path, query)
        known = self.views.get(memo_key)
        if known is not None and known[0] == data:
            kept = known[1]
        else:
            kept = arrange(query, [item for page in pages for item in page["items"] if isinstance(item, dict)])
            self.views.put(memo_key, (data, kept))
        first = pages[0]
        view = orjson.dumps({
            "v": first["v"], "path": first["path"], "generatedAt": first.get("generatedAt"), "sig": first.get("sig"),
            "sort": query.sort or "name", "order": query.order, "offset": offset, "limit": limit,
            "total": len(kept), "folderTotal": sum(len(page["items"]) for page in pages), "dirs": first["dirs"],
            "items": kept[offset:offset + limit]})
        return self._with(view, *self.summarize(place.storage, place.key, path))

    def _every_page(self, path):
        """Return every page of a folder, parsed and as bytes, from one build."""
        for attempt in range(2):
            first, place = self.stored_page(path, 0)
            data, known = [first], self.parsed.get(path)
            if known is None or known[0][0] != first:
                known, pages = None, [orjson.loads(first)]
            else:
                pages = known[1]
            try:
                for number in range(1, pages[0]["pageCount"]):
                    data.append(self.stored_page(path, number)[0])
                    if known is None or known[0][number] != data[-1]:
                        known, pages = None, pages[:number] + [orjson.loads(data[-1])]
                        if pages[-1].get("sig") != pages[0].get("sig"):
                            raise NotFound("the folder was listed again meanwhile", path=path)
            except NotFound:
                if attempt:
                    raise
                continue  # rebuilt between two pages
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
        memo, first = self.memo.get((storage.identity, key)), None
        moved = memo is None or memo.folder_mtime != mtime
        if moved and memo is not None and memo.pages is None and mtime is not None:
            # Moved only by lenslet's own, already patched edits: serve the pages unlisted.
            marked, count = self._edited_only(storage, key, mtime)
            if not count:
                # The last edit may have ended meanwhile: look once more.
                again = storage.stat(key).mtime
                if again != mtime:
                    mtime = again
                    marked, count = self._edited_only(storage, key, mtime)
            if count:
                memo = self.memo[(storage.identity, key)] = memo._replace(
                    page_count=count, folder_mtime=mtime if marked else memo.folder_mtime)
                moved = False
                # Unmarked: other changes may hide here; the answer may be behind.
                if not marked:
                    self.served_stored.now = True
        if not moved and memo.settle_at is not None and self.clock() >= memo.settle_at and mtime is not None:
            # Young sidecars need no reread if only lenslet's patched edits came since.
            mark = edited_to(storage, key)
            if mark == mtime:
                memo = self.memo[(storage.identity, key)] = memo._replace(settle_at=None)
            elif mark is not None and self.clock() - mark < listing_pages.RACY:
                # Edits still landing: reread young sidecars once they stop.
                memo = self.memo[(storage.identity, key)] = memo._replace(settle_at=self.clock() + listing_pages.RACY)
        if moved or self._recheck_due(storage, key, memo, mtime) \
                or (memo.settle_at is not None and self.clock() >= memo.settle_at):
            memo, first = self._check_once(storage, key, mtime, memo)
        if page >= memo.page_count:
            raise NotFound("no such page", path=path, page=page, pageCount=memo.page_count)
        if memo.pages is not None:
            return memo.pages[page]
        if page == 0 and first is not None:
            return first
        try:
            data = self._read_page(storage, join(key, page_name(page, memo.page_count)))
        except NotFound:
            if not retry:
                raise
            # Another process re-paged the folder meanwhile.
            self.memo.pop((storage.identity, key), None)
            return self._page(storage, key, path, page, retry=False)
        if page and not self._one_build(storage, key, memo.page_count, data):
            if not retry:
                raise Unavailable("another process is listing this folder; try again", retry_after=1, path=path)
            # Two processes storing pages at once left one's under the other's first page.
            self.refresh(storage, key, mtime, rebuild=True)
            return self._page(storage, key, path, page, retry=False)
        return data

    def _recheck_due(self, storage, key, memo, mtime):
        """Tell whether to compare every file again: not while lenslet's own edits land, whose patches would refuse
        the build, unless the last comparison is LONGEST_WAIT rechecks old."""
        waited = self.clock() - memo.checked_at
        if waited <= self.recheck or mtime is None or waited > self.recheck * self.LONGEST_WAIT:
            return waited > self.recheck
        mark = edited_to(storage, key)
        return mark is None or not 0 <= self.clock() - mark < listing_pages.RACY  # a mark ahead of now is forged

    def _one_build(self, storage, key, page_count, data):
        """Tell whether a later page was stored by the build that stored the first page."""
        try:
            first = listing_pages.page_head(self._read_page(storage, join(key, page_name(0, page_count))))
        except NotFound:
            return False
        later = listing_pages.page_head(data)
        return first is None or later is None or (first.get("sig"), first.get("builtAt")) == (later.get("sig"),
                                                                                             later.get("builtAt"))

    def _edited_only(self, storage, key, mtime):
        """Return (marked at mtime, stored page count if the pages may serve)."""
        marked = edited_to(storage, key) == mtime
        return marked, (marked or storage.edits_under_way(key)) and self.stored_page_count(storage, key)

    def _check_once(self, storage, key, mtime, memo):
        """Refresh by one thread per folder; others get the stored pages meanwhile."""
        folder = (storage.identity, key)
        with self.lock:
            busy = folder in self.checking
            self.checking.add(folder)
        if busy:
            count = memo is not None and (memo.pages is not None or self.stored_page_count(storage, key))
            if count:
                self.served_stored.now = True
                return (memo if memo.pages is not None else memo._replace(page_count=count)), None
            return self.refresh(storage, key, mtime)  # nothing stored to serve
        try:
            return self.refresh(storage, key, mtime)
        finally:
            with self.lock:
                self.checking.discard(folder)

    def stored_page_count(self, storage, key):
        for name in first_page_names():
            try:
                data = self._read_page(storage, join(key, name))
            except LensletError:
                continue
            head = listing_pages.page_head(data)
            if head is None:
                try:
                    head = orjson.loads(data)  # a page stored on one line
                except orjson.JSONDecodeError:
                    return None
            return head["pageCount"] if listing_pages.usable(head) else None
        return None

    def pages_of(self, storage, key):
        """Return a folder's parsed pages, stored or kept in memory."""
        pages = stored_pages(storage, key)
        if pages or not (self._in_memory(storage, key) or _page_name_held(storage, key)):
            return pages
        try:
            self.refresh(storage, key, None)
        except LensletError:
            return []
        return self._in_memory(storage, key) or stored_pages(storage, key)

    def _in_memory(self, storage, key):
        memo = self.memo.get((storage.identity, key))
        return [orjson.loads(page) for page in memo.pages] if memo is not None and memo.pages else []

    def _read_page(self, storage, name):
        # Others rewrite pages: trust the cache only while the file is unchanged.
        cache_key = (storage.identity, name)
        known = self.cache.get(cache_key)
        version, data = storage.read_fresh(storage.derived_key(name), known)
        if known is None or known[0] != version:
            self.cache.put(cache_key, (version, data))
        return data

    def refresh(self, storage, key, folder_mtime, rebuild=False, known=None):
        """Rebuild a folder's manifest if it no longer matches; return (memo, first page)."""
        for attempt in range(REBUILDS):
            looked_at = self.clock()
            version = storage.folder_version(key) if folder_mtime is not None else None
            listed_at = storage.stat(key).mtime if storage.folder_mtimes else None
            listing = list_folder(storage, key)
            self.remember_local(storage, key, listing, version, looked_at)
            first_bytes, first = self._first_page(storage, key, listing)
            pages = None
            # A change of LENSLET_XMP rebuilds it.
            if not rebuild and current(first, key, listing, self.page_size, self.clock()) \
                    and first.get("xmp", False) == self.xmp_shown:
                page_count, built_at = first["pageCount"], listing_pages.built_at(first)
                break
            metrics.manifest_rebuilt()
            stored = read_pages(storage, key, first) or self._in_memory(storage, key)
            built_at = self.clock()
            pages = build(storage, key, listing, stored, self.page_size, lambda at=built_at: at, self.xmp_shown, known)
            was = first_held(listing, first_bytes, len(pages))
            page_count, first_bytes = len(pages), pages[0]
            # Built again when the folder changed meanwhile, or when another listing or an edit's patch was stored
            # meanwhile, so an older listing never replaces a newer one; the last build is stored though the folder
            # changed, but never over pages stored meanwhile (it serves from memory then).
            last = attempt + 1 == REBUILDS
            if not last and listed_at is not None and storage.stat(key).mtime != listed_at:
                continue
            written = store(storage, key, listing, pages, was)
            if written is not None:
                break
        if pages is not None and written:
            news = news_of(stored, pages)
            pages = None
            folder_mtime = None  # our own writes moved the mtime
            if news.counts:
                self.listing_changed()
            if news.search:
                # A rebuild may hold what another program changed.
                self.ask_for_rollup()
        # Lost every race to be stored: what was stored holds later changes, so the next read looks again.
        checked_at = float("-inf") if pages is not None and written is None else self.clock()
        memo = Memo(folder_mtime, page_count, checked_at, pages, listing.pointer,
                    listing_pages.settle_at(listing, built_at))
        self.memo[(storage.identity, key)] = memo
        return memo, first_bytes

    def add_image(self, storage, key, probed, digest):
        """Put a new image without a sidecar into its folder's stored listing when it fits the one page; return
        whether it did (else the folder is listed again). A listing stale before stays so: its signature still
        misses what it missed."""
        if not storage.folder_mtimes:
            return False  # a bucket lists versions a stat does not give
        folder, name = parent(key), name_of(key)
        new = listing_pages.Listing(images={name: _entry_of(storage, key, name)})
        with contextlib.suppress(NotFound):  # a thumbnail made with the upload
            new.thumbs[name] = _entry_of(storage, storage.derived_key(thumb_of(key)), name)
        stem, added = stacks.split(name)[0], []

        def change(data, version):
            page = read_page_of(data)
            if not self._takes_one_more(page, folder, stem):
                return None  # a stack's partner, or a listing of another kind: listed again
            made = listing_pages.item(folder, name, new, {}, probed, None)
            bisect.insort(page["items"], dict(made, hash=digest), key=lambda item: listing_pages.sort_key(item["name"]))
            page.update(total=page["total"] + 1, sig=listing_pages.signed_with(page["sig"], new))
            added.append(True)
            return listing_pages.encode_page(page)

        with contextlib.suppress(NotFound):
            storage.update(storage.derived_key(join(folder, page_name(0, 1))), change, durable=False)
        if added:  # not marked as an edit: readers compare signatures, so a listing stored over this one shows
            self.listing_changed()
        return bool(added)

    def _takes_one_more(self, page, folder, stem):
        """Tell whether a stored listing is one page of this kind with room, and no name of this stem."""
        return bool(page) and page["pageCount"] == 1 and type(page.get("total")) is int \
            and page["total"] < self.page_size and page.get("path") == folder \
            and page.get("xmp", False) == self.xmp_shown and listing_pages.named_now(page) \
            and re.fullmatch(r"[0-9a-f]+-[0-9a-f]{12}-[0-9a-f]{12}(-p)?", str(page.get("sig"))) is not None \
            and all(isinstance(item, dict) and isinstance(item.get("name"), str)
                    and stacks.split(item["name"])[0] != stem for item in page["items"])

    def _first_page(self, storage, key, listing):
        """Return (bytes, page) of the stored first page: (bytes, None) if torn or foreign, (None, None) if there
        is none, (ANY, None) if it cannot be read."""
        name = first_page_name(listing)
        if name is None:
            return None, None
        cached = self.cache.get((storage.identity, join(key, name)))
        try:
            fresh = cached is not None and same_copy(cached[0], listing.pages[name])
            data = cached[1] if fresh else self._read_page(storage, join(key, name))
        except LensletError:
            return ANY, None
        try:
            page = orjson.loads(data)
        except orjson.JSONDecodeError:
            return data, None  # a torn or foreign manifest is rebuilt, never trusted
        return data, (page if listing_pages.usable(page) else None)


MARK_SETTLED = 1.0  # seconds after LISTED's ctime past which rewrites change its Stat


def kept_mark(data, stat, now):
    """Return (Stat, mark) to trust while LISTED's Stat holds, or None if too fresh."""
    return (stat, (data, stat)) if now - stat.changed > MARK_SETTLED else None


class News(NamedTuple):
    counts: bool
    search: bool


# Item fields no one else reads: their change alone is no news.
NOT_NEWS = ("metaMtime",)


def news_of(stored, built):
    """Return what a rebuild changed, from the pages before and after."""
    if not stored:
        return News(True, True)
    after = [orjson.loads(data) for data in built]

    def folders(pages):  # a subfolder's mtime moves with every edit in it: no news
        return [{k: v for k, v in d.items() if k != "mtime"} if isinstance(d, dict) else d
                for page in pages[:1] for d in page["dirs"]]
    if folders(stored) != folders(after):
        return News(True, True)

    def names(pages):  # compared first: an upload changes them, and the whole items cost more
        return [item.get("name") if isinstance(item, dict) else item for page in pages for item in page["items"]]
    if names(stored) != names(after):
        return News(True, True)

    def shown_items(pages):
        return [{k: v for k, v in item.items() if k not in NOT_NEWS} if isinstance(item, dict) else item
                for page in pages for item in page["items"]]
    return News(False, shown_items(stored) != shown_items(after))


def signature_of(items, dirs):
    """Return a listing's signature as one principal sees it."""
    # A folder's time moves with lenslet's own files written in it (its listing) whoever browses: left out.
    dirs = [{key: value for key, value in d.items() if key != "mtime"} if isinstance(d, dict) else d for d in dirs]
    return "seen:" + _digest(orjson.dumps([items, dirs]))


def _digest(data):
    return blake3.blake3(data).hexdigest(length=12)


def current(first, key, listing, page_size, now):
    """Return whether a stored first page matches the listing now."""
    if first is None or first["sig"] != listing.signature or first.get("path") != key \
            or first["pageCount"] != listing_pages.page_count(len(listing.images), page_size):
        return False
    settle = listing_pages.settle_at(listing, listing_pages.built_at(first))
    return settle is None or now < settle


def same_copy(known, entry):
    """Return whether a cached Stat or S3 Version is the listed file."""
    etag = getattr(known, "etag", None)
    if etag is not None and entry.version is not None:
        return etag == entry.version  # a bucket's times are whole seconds
    return (known.size, known.mtime) == (entry.size, entry.mtime)


def list_folder(storage, key):
    entries = storage.list_folder(key)
    derived = None
    if storage.derived_key(key) != key:
        try:
            derived = storage.list_folder(storage.derived_key(key))
        except NotFound:
            derived = []
    return listing_pages.classify(entries, derived)


def _entry_of(storage, key, name):
    stat = storage.stat(key)
    return Entry(name, False, stat.size, stat.mtime)


def identity_of(storage, key):
    """Return a folder's identity, or its key if gone."""
    try:
        return storage.identity_of(key)
    except NotFound:
        return key


def first_page_name(listing):
    return next((name for name in first_page_names() if name in listing.pages), None)


def read_page(storage, key):
    try:
        return read_page_of(storage.read(storage.derived_key(key)))
    except LensletError:
        return None


def read_page_of(data):
    try:
        page = orjson.loads(data or b"")
    except orjson.JSONDecodeError:
        return None  # a torn or foreign manifest is rebuilt, never trusted
    return page if listing_pages.usable(page) else None


def read_first_page(storage, key, listing=None):
    names = first_page_names() if listing is None else filter(None, [first_page_name(listing)])
    return next(filter(None, (read_page(storage, join(key, name)) for name in names)), None)


def read_pages(storage, key, first):
    """Return all stored pages from the first, or [] if any is missing or stale."""
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
    """Return whether something other than a usable page holds a page's name."""
    for name in first_page_names():
        try:
            storage.stat(storage.derived_key(join(key, name)))
        except NotFound:
            continue
        except LensletError:
            return True  # a link or a special file
        return True
    try:
        return any(entry.is_dir and is_manifest(entry.name) for entry in storage.list_folder(key))
    except LensletError:
        return False


def unplaced(first):
    """Tell whether a stored first page was written before lenslet kept photos' positions."""
    return listing_pages.PLACES not in first


def stored_pages(storage, folder):
    return read_pages(storage, folder, read_first_page(storage, folder))


def listed_hash(storage, key):
    """Return the content hash in an image's stored listing entry, or None."""
    folder, name = parent(key), name_of(key)
    pages = None
    for number in range(64):  # bounded: pageCount may be forged
        names = first_page_names() if number == 0 else [page_name(number, pages)]
        for page_key in names:
            try:
                data = storage.read(storage.derived_key(join(folder, page_key)))
            except LensletError:
                continue
            head = listing_pages.page_head(data) or {}
            pages = head.get("pageCount") if pages is None else pages
            entry = listing_pages.entry_in_page(data, name)
            if entry is not None:
                digest = entry.get("hash")
                return digest if isinstance(digest, str) else None
            break
        if type(pages) is not int or number + 1 >= pages:
            return None
    return None


def stored_items(storage, folder):
    return [item for page in stored_pages(storage, folder) for item in page["items"] if isinstance(item, dict)]


def build(storage, key, listing, stored, page_size, clock=time.time, reading=False, known=None):
    """Build a folder's manifest pages, re-reading only what changed since `stored`."""
    known = known or {}
    built_at = clock()  # before any sidecar is read (see listing_pages.derived_from)
    # Paths come from where the folder is now: it may have been moved.
    previous_items = {item["name"]: dict(item, path=join(key, item["name"]))
                      for page in stored for item in page["items"]
                      if isinstance(item, dict) and isinstance(item.get("name"), str)}
    previous_items = listing_pages.placed_again(previous_items, stored[0] if stored else None)
    previous_dirs = {d.get("name"): d for d in (stored[0]["dirs"] if stored else []) if isinstance(d, dict)}
    was_reading = stored[0].get("xmp", False) if stored else False
    stored_at = listing_pages.built_at(stored[0]) if stored else 0.0
    plan = listing_pages.plan(listing, previous_items, previous_dirs, stored_at, reading, was_reading,
                              storage.folder_mtimes, unplaced=bool(stored) and unplaced(stored[0]))
    metas = {name: known[name][1] if name in known and known[name][1][0] is not None
             and listing.sidecars[name].version in (None, known[name][1][1])
             else read_sidecar(storage, sidecar_of(join(key, name))) for name in plan.sidecars}
    # A sidecar whose bytes changed: remake its entry from all it merges.
    redone = [name for name in plan.unless_same
              if metas[name][1] is None or metas[name][1] != previous_items[name].get("metaVersion")]
    probed = {name: known[name][0] if name in known else originals.probe(storage, join(key, name), reading)
              for name in plan.probe + redone}
    chosen = {name: listing_pages.xmp_sidecar(name, listing.xmps) for name in plan.xmps + redone}
    xmps = {name: read_xmp(storage, key, xmp, listing.xmps[xmp]) for name, xmp in chosen.items() if xmp is not None}
    items = [listing_pages.item(key, name, listing, previous_items.get(name, {}), probed.get(name), metas.get(name),
                            xmps.get(name), reading)
             for name in sorted(listing.images, key=listing_pages.sort_key)]
    dirs = []
    for name in sorted(listing.dirs, key=listing_pages.sort_key):
        entry = listing.dirs[name]
        kind = dir_kind(storage, join(key, name)) if name in plan.dirs else previous_dirs[name]["kind"]
        dirs.append({"name": name, "kind": kind, "mtime": entry.mtime, **({"link": True} if entry.link else {})})
    generated = datetime.datetime.fromtimestamp(built_at, datetime.timezone.utc).isoformat()
    stacks.marked(items)  # pairs depend on the folder's other names
    pages = listing_pages.paginate(key, items, dirs, listing.signature, page_size, generated, built_at)
    # A change of LENSLET_XMP rebuilds it.
    return [listing_pages.encode_page(dict(page, xmp=reading)) for page in pages]


def store(storage, key, listing, pages, was=ANY):
    """Write manifest pages and drop pages left from an older paging: True, or False if the tree refuses; None,
    writing nothing, if the first page is no longer at version `was` (None: absent)."""
    names = [page_name(number, len(pages)) for number in range(len(pages))]
    try:
        if not _first_stored(storage, storage.derived_key(join(key, names[0])), pages[0], was):
            return None
        for name, data in zip(names[1:], pages[1:], strict=True):
            # Without fsync: a torn manifest is never trusted, only rebuilt.
            storage.write(storage.derived_key(join(key, name)), data, durable=False)
        for name in set(listing.pages) - set(names):
            with contextlib.suppress(NotFound):
                storage.delete(storage.derived_key(join(key, name)))
    except (BadPath, Forbidden, Foreign, NotAFolder, InsufficientStorage) as ex:
        # The name is taken or the disk is full: answer from memory.
        if not isinstance(ex, Forbidden):
            log.warning("%s: manifest kept in memory: %s", key or "/", ex.description)
            for name in set(names) | set(listing.pages):
                with contextlib.suppress(LensletError):  # what holds the name is not lenslet's: never removed
                    storage.delete(storage.derived_key(join(key, name)))
        return False
    if was is None and not listing.pages and key and not storage.folder_mtimes:
        _not_made_again(storage, key, names)
    return True


def _not_made_again(storage, key, names):
    """A bucket's folder is there while a key is below it: a folder's first listing, stored after the folder was
    removed (its last files trashed as it was listed), would make it again. Remove it, and say the folder is gone."""
    written = {storage.derived_key(join(key, name)) for name in names}
    if any(storage.derived_key(join(key, entry.name)) not in written for entry in storage.list_folder(key)):
        return
    for name in written:
        with contextlib.suppress(NotFound):
            storage.delete(name)
    raise NotFound("the folder was removed meanwhile", path=key)


def _first_stored(storage, key, data, was):
    """Write a first page, unless it is no longer at version `was`; return whether it was written."""
    if was is ANY:
        storage.write(key, data, durable=False)
        return True
    try:
        storage.replace_if(key, data, was, durable=False)
    except PreconditionFailed:
        return False
    return True


def first_held(listing, read, page_count):
    """Return the version the first page of a new paging is at as far as the listing knows (None: absent), or
    ANY; read is the first page's bytes as read."""
    name = page_name(0, page_count)
    if name != first_page_name(listing):
        return None if name not in listing.pages else ANY
    if read is ANY:  # listed, then not read: removed meanwhile, most likely, and not to be made again
        return listing.pages[name].version or ANY
    return listing.pages[name].version or version_of(read)  # a bucket's ETag, else the bytes' hash


def read_cover(storage, folder):
    try:
        with storage.open_head(join(folder, FOLDER_SIDECAR), covers.MAX_SIDECAR + 1) as stream:
            return covers.parse(stream.read(covers.MAX_SIDECAR + 1))
    except LensletError:
        return None


def dir_kind(storage, key):
    """Return a subfolder's kind, or UNKNOWN when it cannot be looked at now."""
    try:
        return listing_pages.dir_kind(storage.exists(join(key, POINTER_FILE)), storage.has_subfolders(key))
    except Unavailable:
        raise  # the whole tree is out of reach: build no manifest
    except LensletError as ex:
        log.warning("%s: cannot tell what kind of folder it is: %s", key, ex.description)
        return listing_pages.UNKNOWN


def rebase(data, prefix):
    """Re-root a page from a pointer's target under the pointer folder's path."""
    page = orjson.loads(data)
    page["path"] = join(prefix, page["path"]) if page["path"] else prefix
    for item in page["items"]:
        item["path"] = join(prefix, item["path"])
    return orjson.dumps(page)


class _Batch:
    """A folder's pending entry changes, written by one thread at a time."""

    def __init__(self):
        self.guard = threading.Lock()   # held only to add or take changes
        self.writer = threading.Lock()  # waited for: a change answered is in the listing
        self.changes = {}               # name -> latest fields
        self.then = []                  # callbacks once the entries are written


_batches = {}  # (storage identity, folder) -> _Batch
_batches_guard = threading.Lock()
MAX_BATCHES = 4096  # forgotten all at once past this


def update_entries(storage, folder, changes, then=None):
    """Patch items' fields into a folder's stored pages, or wait while another thread writes them with its own;
    then() runs either way."""
    with _batches_guard:
        if len(_batches) > MAX_BATCHES:
            _batches.clear()  # safe: a thread holding a dropped batch still writes it
        batch = _batches.setdefault((storage.identity, folder), _Batch())
    with batch.guard:
        batch.changes.update(changes)
        batch.then += [then] if then is not None else []
    with batch.writer:  # then ours is written: by this thread, or by the one before in its loop
        while True:
            with batch.guard:
                (taking, batch.changes), (after, batch.then) = (batch.changes, {}), (batch.then, [])
            if not taking and not after:
                return
            try:
                _write_entries(storage, folder, taking)
            except BaseException:
                with batch.guard:  # not written: left for the next writer
                    batch.changes = {**taking, **batch.changes}
                raise
            finally:
                for callback in after:  # run either way: the listing is rebuilt later
                    try:
                        callback()
                    except LensletError as ex:
                        log.warning("after an entry was written: %s", ex.description)


def _write_entries(storage, folder, changes):
    left, firsts = dict(changes), list(first_page_names())
    number, count, wrote = 0, 1, False
    while left and number < count:
        seen = []

        def change(old, version, seen=seen):
            patched = listing_pages.patch_page(old, left) if old else None
            if patched is None:
                return None  # torn or foreign: rebuilt when next listed
            new, held, page_count = patched
            seen.append((held, page_count))
            return new

        name = firsts.pop(0) if number == 0 else page_name(number, count)
        try:
            found, _ = storage.update(storage.derived_key(join(folder, name)), change, durable=False)
        except NotFound:
            break
        if found is None and number == 0 and firsts:
            continue  # none of that name: the first page may have its other name (none at all: no manifest yet)
        if not seen:
            break
        held, count = seen[0]
        for done in held:
            left.pop(done, None)
        wrote = wrote or bool(held)
        number += 1
    if wrote:
        mark_edited(storage, folder)


EDIT_MARK = 32  # bytes: a float's repr


def mark_edited(storage, folder):
    """Record that the folder's mtime is from lenslet's own edits, to skip relisting."""
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
    try:
        data, _ = storage.read_small(edit_mark_of(folder), EDIT_MARK)
        return float(data) if data else None
    except (LensletError, ValueError):
        return None


def try_update_entries(storage, folder, changes, then=None):
    """Run update_entries, logging failures."""
    try:
        update_entries(storage, folder, changes, then)
    except LensletError as ex:  # the listing catches up when rebuilt
        log.warning("%s: manifest entries not updated: %s", folder or "/", ex.description)


def repath(storage, folder):
    """Rewrite stored paths of a moved folder and its subfolders."""
    stack = [folder]
    while stack:
        key = stack.pop()
        pages = stored_pages(storage, key)
        for number, page in enumerate(pages):
            page["path"] = key
            for item in page["items"]:
                if isinstance(item, dict) and isinstance(item.get("name"), str):
                    item["path"] = join(key, item["name"])
            storage.write(storage.derived_key(join(key, page_name(number, len(pages)))),
                          listing_pages.encode_page(page), durable=False)
        if pages:
            stack.extend(join(key, d["name"]) for d in pages[0]["dirs"]
                         if isinstance(d, dict) and isinstance(d.get("name"), str) and d.get("kind") != "leaf-pointer")
