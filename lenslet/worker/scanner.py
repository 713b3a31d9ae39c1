"""The scanner: walks the tree and queues index jobs for folders that changed."""

import dataclasses
import functools
import logging
import threading
import time
from typing import NamedTuple

from lenslet import jobs
from lenslet.errors import BrokenPointer, Forbidden, LensletError, PointerLoop, Unavailable
from lenslet.formats import listing_pages, similar
from lenslet.layout import FOLDER_SIDECAR, THUMB, is_sidecar, join, name_of, parent, sidecar_of, thumb_of
from lenslet.listings import current, edited_to, identity_of, list_folder, read_first_page

log = logging.getLogger("lenslet.worker")
INDEX_BATCH = 64  # stale folders per index job, so a claim's writes are paid once per batch
INDEX_BATCH_IMAGES = 4096  # ... or images, so a job stays short
LOOK_SPACING = 1.0  # seconds between two listings of a folder for change notices


class Seen(NamedTuple):
    """What the scanner knew of a folder when it last listed it."""

    mtime: float
    subdirs: tuple
    summary: dict


class Scanner:
    def __init__(self, runner, clock=time.time, watch=None, stopping=None):
        self.runner = runner
        self.watch = watch
        self.storage = runner.storage
        self.clock = clock
        self.stopping = stopping or threading.Event()
        self.seen = {}
        self.summaries = {}  # folder -> what health reports of it
        self.owners = {}  # folder identity -> key first listed under, so links back in are not walked
        self.stale, self.stale_images = [], 0
        # folders listed by a lenslet that kept no positions (their GPS is read, last) or named by another places table
        self.unplaced = set()
        self.asked = {}  # folder -> (signature, images lacking thumbnails) when last indexed
        self.kinds = {}  # folder -> {subfolder name: kind} as its manifest says
        self.behind = {}  # state-root folders whose library folder is gone -> their summary
        self.postponed = set()  # waiting for LOOK_SPACING
        self.scanned = False
        self.spaced = {}  # folder -> (listed at, may list again at)

    def scan(self, deep=False):
        """Walk the tree, listing only folders whose mtime changed unless deep; return how many changed."""
        self.runner.first_scan = not self.scanned  # a rollup waits for the whole tree
        try:
            return self._scan(deep)
        finally:
            self.runner.first_scan = False
            self.scanned = True

    def _scan(self, deep):
        changed, visited, stack = 0, set(), [""]
        self.owners = {}
        self.postponed.clear()
        if deep:
            self.asked.clear()  # thumbnails that failed are tried once more
            self.look_behind("")
        while stack:
            if self.stopping.is_set():
                return changed
            key = stack.pop()
            visited.add(key)
            owner = self.repeat_of(key)
            if owner is not None:
                changed += self.repeats(key, owner)
                continue
            known, mtime = self.seen.get(key), None
            if self.storage.folder_mtimes:  # a bucket has none
                try:
                    mtime = self.storage.stat(key).mtime
                except Unavailable:
                    raise  # forget nothing
                except LensletError:
                    continue
                if known is not None and not deep and known.mtime == mtime:
                    stack.extend(known.subdirs)
                    continue
            try:
                self.seen[key] = self.look(key, mtime)
            except Unavailable:
                raise
            except LensletError as ex:
                log.warning("cannot scan %r: %s", key, ex.description)
                continue
            # our own writes move folder mtimes too: only a different summary is news
            changed += known is None or known.summary != self.seen[key].summary
            stack.extend(self.seen[key].subdirs)
        self.queue_stale()
        for key in (set(self.seen) | set(self.summaries)) - visited:
            self.look_behind(key)
            self.forget_one(key)
            changed += 1
        self.hand_over(changed)
        return changed

    def scan_changed(self, keys):
        """Look again at the folders change notices named, and new ones in them; return how many changed."""
        now = self.clock()
        # a clock set back makes every folder due
        self.spaced = {key: (at, until) for key, (at, until) in self.spaced.items() if at <= now < until}
        self.postponed.update(keys)
        due = [key for key in self.postponed if key not in self.spaced]
        self.postponed.difference_update(due)
        changed, stack, looked = 0, due, set()
        while stack:
            if self.stopping.is_set():
                return changed
            key = stack.pop()
            if key in looked:
                continue
            looked.add(key)
            owner = self.repeat_of(key)
            if owner is not None:
                changed += self.repeats(key, owner)
                continue
            known = self.seen.get(key)
            started, spent = self.clock(), time.thread_time()
            try:
                mtime = self.storage.stat(key).mtime if self.storage.folder_mtimes else None
                self.seen[key] = self.look(key, mtime)
                # by CPU, not wall time, which on a busy machine is mostly waiting
                spent = time.thread_time() - spent
                self.spaced[key] = (started, started + max(LOOK_SPACING, 10 * spent))
            except Unavailable:
                raise  # out of reach for now, not gone
            except LensletError:
                changed += self.forget(key)  # gone
                continue
            changed += known is None or known.summary != self.seen[key].summary
            stack.extend(sub for sub in self.seen[key].subdirs if sub not in self.seen)
            for sub in set(known.subdirs if known else ()) - set(self.seen[key].subdirs):
                changed += self.forget(sub)
        self.queue_stale()
        self.hand_over(changed)
        return changed

    def hand_over(self, changed):
        """Give the runner a copy of what this pass found; ask for a health report if any is news."""
        for key in list(self.behind):
            self.look_behind(key)
        self.runner.summaries = {**self.behind, **self.summaries}
        if changed:
            jobs.enqueue(self.storage, "health", "", self.clock)

    def look_behind(self, folder):
        """Note the state root's folders at or below folder that the library lost."""
        left_behind = getattr(self.storage, "left_behind", None)
        if left_behind is None:
            return
        for key in [key for key in self.behind if key == folder or key.startswith(folder + "/") or not folder]:
            del self.behind[key]
        for key, names in left_behind(folder).items():
            sidecars = [join(key, name) for name in names if is_sidecar(name)]
            if sidecars or FOLDER_SIDECAR in names:
                self.behind[key] = {"images": 0, "folderGone": True, "orphanSidecars": sidecars,
                                    "orphanThumbs": [join(key, name) for name in names if name.endswith(THUMB)],
                                    "orphanCover": FOLDER_SIDECAR in names}

    def folders(self):
        """Return the folders found in the last pass, pointers left out."""
        return [key for key in self.seen if "pointer" not in self.summaries.get(key, {})]

    def repeat_of(self, key):
        """Return the key a folder was listed under first if this key reaches it again through a link."""
        ident = self.identity(key)
        if ident is None:
            return None  # the look that follows reports the error
        owner = self.owners.get(ident)
        # the owner may have been renamed or removed since
        if owner is None or owner == key or owner not in self.seen or self.identity(owner) != ident:
            self.owners[ident] = key
            return None
        return owner

    def identity(self, key):
        """Return a folder's identity, or None when it cannot be read."""
        try:
            return identity_of(self.storage, key)
        except Unavailable:
            raise
        except LensletError:
            return None

    def repeats(self, key, owner):
        """Note a folder as a repeat of owner; return 1 if that is news."""
        summary = {"repeats": owner}
        if self.summaries.get(key) == summary:
            return 0
        self.forget(key)
        self.summaries[key] = summary
        return 1

    def forget(self, key):
        """Forget a folder and everything below it; return how many folders that was."""
        gone = [known for known in self.seen if known == key or known.startswith(key + "/")] if key else []
        if gone:
            self.look_behind(key)
        for known in gone:
            self.forget_one(known)
        return len(gone)

    def forget_one(self, key):
        for memo in (self.seen, self.asked, self.kinds, self.summaries):
            memo.pop(key, None)

    def look(self, key, mtime):
        """List one folder, queueing an index job if its manifest is stale."""
        if self.watch is not None:
            self.watch.add(key)  # before listing, so no change is missed
        known = self.seen.get(key)
        # whether lenslet's own edit, already in the pages, moved the mtime last
        own = functools.cache(lambda: mtime is not None and edited_to(self.storage, key) == mtime)
        if known is not None and mtime is not None and known.mtime is not None:
            if own():
                return known._replace(mtime=mtime)
            if self.storage.edits_under_way(key):
                return known  # look again once it is done
        listing = list_folder(self.storage, key)
        if key:
            self.check_kind(key, listing)
        summary = {"images": len(listing.images),
                   "orphanSidecars": [sidecar_of(join(key, name))
                                      for name in listing.sidecars if name not in listing.images],
                   "orphanThumbs": [thumb_of(join(key, name)) for name in listing.thumbs if name not in listing.images]}
        two = [join(key, name) for name in listing.images if listing_pages.two_xmps(name, listing.xmps)]
        if two:
            summary["twoXmps"] = two
        if listing.pointer and key:
            summary["pointer"] = self.check_pointer(key)
            self.summaries[key] = summary
            return Seen(mtime, (), summary)  # a pointer's target is another tree
        first = read_first_page(self.storage, key, listing)
        if first is not None and listing.images and listing_pages.named_by_another_table(first):
            self.unplaced.add(key)
        fresh = current(first, key, self.without_thumbs_in_hand(key, listing), self.runner.folders.page_size,
                        self.clock())
        if not fresh and first is not None and mtime is not None:
            if own():
                fresh = True
            elif self.storage.edits_under_way(key):
                self.summaries[key] = summary
                return Seen(None, tuple(join(key, name) for name in listing.dirs), summary)
        self.kinds[key] = {entry["name"]: entry.get("kind") for entry in first["dirs"]
                           if isinstance(entry, dict) and isinstance(entry.get("name"), str)} if fresh else {}
        # also indexed when images lack thumbnails, once per set of them, or their looks (listed before them)
        unlooked = first is not None and similar.unlooked(first)
        lacking = (listing.signature, frozenset(listing_pages.lacking_thumbs(listing)), unlooked)
        if not fresh or ((lacking[1] or unlooked) and self.asked.get(key) != lacking):
            self.asked[key] = lacking
            self.stale.append(key)
            self.stale_images += len(listing.images)
            if len(self.stale) >= INDEX_BATCH or self.stale_images >= INDEX_BATCH_IMAGES:
                self.queue_stale()
        elif listing_pages.settle_at(listing, listing_pages.built_at(first)) is not None and not own():
            mtime = None  # sidecars still settling: look again next scan
        racy = self.clock() - listing_pages.RACY
        if mtime is not None and (any(entry.mtime > racy for entry in listing.images.values())
                                  or (mtime > racy and not own())):
            # changed within one tick of the file system's clock: a later change may not show
            mtime = None
        self.summaries[key] = summary
        return Seen(mtime, tuple(join(key, name) for name in listing.dirs), summary)

    def without_thumbs_in_hand(self, key, listing):
        """Return the listing without the thumbnails this runner is making, whose job patches their entries."""
        with self.runner.making_lock:
            in_hand = {name_of(image) for image in self.runner.making if parent(image) == key}
        if not in_hand & listing.thumbs.keys():
            return listing
        listing = dataclasses.replace(listing, thumbs={name: entry for name, entry in listing.thumbs.items()
                                                       if name not in in_hand})
        listing.signature = listing_pages.signature(listing)
        return listing

    def check_kind(self, key, listing):
        """Queue a rebuild of the parent's manifest that has this folder's kind wrong."""
        folder, name = parent(key), name_of(key)
        said = self.kinds.get(folder, {}).get(name)
        found = listing_pages.dir_kind(listing.pointer, bool(listing.dirs))
        # a branch whose subfolders are all hidden lists as a leaf here: not a change
        if said is None or said == found or (said == "branch" and found == "leaf-real"):
            return
        self.kinds[folder][name] = found
        jobs.enqueue(self.storage, "index", folder, self.clock, part="kinds", kinds=True)

    def queue_stale(self):
        """Queue one index job for the stale folders found so far."""
        if len(self.stale) == 1:
            jobs.enqueue(self.storage, "index", self.stale[0], self.clock)
        elif self.stale:
            jobs.enqueue(self.storage, "index", self.stale[0], self.clock, part="\0".join(self.stale),
                          folders=self.stale)
        self.stale, self.stale_images = [], 0

    def check_pointer(self, key):
        try:
            self.runner.tree.forget_pointer(self.storage, key)  # it may have changed
            self.runner.tree.locate(key)
            return "ok"
        except PointerLoop as ex:
            return {"problem": "loop", "chain": ex.fields.get("chain")}
        except (BrokenPointer, Forbidden) as ex:
            return {"problem": "broken", "reason": ex.description}
