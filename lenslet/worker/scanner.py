"""The scanner: walks the tree and queues index jobs for folders that changed, reading no image."""

import functools
import logging
import threading
import time
from typing import NamedTuple

from lenslet import jobs
from lenslet.errors import BrokenPointer, Forbidden, LensletError, PointerLoop, Unavailable
from lenslet.formats import manifests
from lenslet.layout import FOLDER_SIDECAR, THUMB, is_sidecar, join, name_of, parent, sidecar_of, thumb_of
from lenslet.manifest.listings import current, edited_to, identity_of, list_folder, read_first_page

log = logging.getLogger("lenslet.worker")
# Stale folders per index job: a first scan of a big tree queues a job per this many
# folders, not one each, so claiming (a few synced writes) is paid once per batch.
INDEX_BATCH = 64
# ... or of this many images: a job lasts about a second, so the rollup after the last one waits for
# it (Runner.settled) rather than being built without it and again after it.
INDEX_BATCH_IMAGES = 4096
# A folder that keeps changing (people tagging in it, a camera's card being copied in) is listed again at most
# once in this many seconds, and at most ten times as often as its listing costs (CPU): the notices meanwhile
# wait and are taken together. Listed at every notice, a 1,000-image folder being tagged by 8 people took a fifth of a
# core from its readers (bench/load.py).
LOOK_SPACING = 1.0


class Seen(NamedTuple):
    """What the scanner knows of a folder since it last listed it."""

    mtime: float
    subdirs: tuple
    summary: dict


class Scanner:
    """Walks the tree and queues index jobs for folders that changed, reading no image."""

    def __init__(self, runner, clock=time.time, watch=None, stopping=None):
        self.runner = runner
        self.watch = watch  # storage change notices (storage.watch()): folders are watched as listed
        self.storage = runner.storage
        self.clock = clock
        self.stopping = stopping or threading.Event()  # set: a walk under way gives up at once
        self.seen = {}
        # folder -> what health reports of it (counts, orphans, a pointer's state, a repeat): kept
        # here, handed to the runner as a copy after each pass (Runner.scanned) for its health jobs.
        self.summaries = {}
        # Identity of each folder listed -> the key it was listed under. A link back into the
        # tree (2024/self -> .) reaches a folder already listed: it is reported as a repeat,
        # never listed, watched, indexed or walked into (self/self/self/... forever).
        self.owners = {}
        self.stale = []  # folders found stale in this scan, not yet queued
        self.stale_images = 0  # and their images
        # folder -> (signature, names) of the images without thumbnails it was last indexed for: a
        # listing built by a web process is current, yet its thumbnails are still to be made.
        self.asked = {}
        # folder -> {subfolder name: kind} as its current manifest says, to compare with what each
        # subfolder's own listing shows (see check_kind).
        self.kinds = {}
        # Folders of a state root whose library folder another program moved or removed -> their summary
        # (orphan sidecars and thumbnails, for re-attachment and the health report); storage/routed.py.
        self.behind = {}
        self.postponed = set()  # folders change notices named, listed again once LOOK_SPACING allows
        self.scanned = False  # whether this scanner has scanned before
        self.spaced = {}  # folder -> (when it was last listed for a notice, when it may be listed again)

    def scan(self, deep=False):
        """Walk the tree; a folder whose mtime is unchanged is not listed again unless deep.

        Returns how many folders are new, gone or different in what health reports.
        """
        self.runner.first_scan = not self.scanned  # a rollup waits for the whole tree (Runner.due)
        try:
            return self._scan(deep)
        finally:
            self.runner.first_scan = False
            self.scanned = True

    def _scan(self, deep):
        changed, visited, stack = 0, set(), [""]
        self.owners = {}  # found afresh: a folder renamed since is listed under its new key
        self.postponed.clear()  # a walk looks at every folder that changed
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
            if self.storage.folder_mtimes:  # a bucket has none: there every scan lists every folder
                try:
                    mtime = self.storage.stat(key).mtime
                except Unavailable:
                    raise  # the whole tree is out of reach: nothing learnt, nothing forgotten
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
            # Our own writes (manifests, thumbnails, reports) move folder mtimes too:
            # only a different summary is news for the health report.
            changed += known is None or known.summary != self.seen[key].summary
            stack.extend(self.seen[key].subdirs)
        self.queue_stale()
        for key in (set(self.seen) | set(self.summaries)) - visited:  # gone, or a link to a folder removed
            self.look_behind(key)
            self.seen.pop(key, None)
            self.asked.pop(key, None)
            self.kinds.pop(key, None)
            self.summaries.pop(key, None)
            changed += 1
        self.hand_over(changed)
        return changed

    def scan_changed(self, keys):
        """Look again at the folders change notices named, and at new folders found in them.

        A folder listed for a notice less than its spacing ago (LOOK_SPACING) waits in self.postponed: the
        worker's loop calls again, with or without new notices, until none waits.

        Returns how many folders are new, gone or different in what health reports.
        """
        now = self.clock()
        # (a clock set back makes every folder due: a wait is never longer than its spacing)
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
                # By what the look cost this thread, not the time it took: on a busy machine a look is mostly
                # waiting, and ten times that held a new folder's notice back for tens of seconds.
                spent = time.thread_time() - spent
                self.spaced[key] = (started, started + max(LOOK_SPACING, 10 * spent))
            except Unavailable:
                raise  # not gone: out of reach for now
            except LensletError:
                changed += self.forget(key)  # gone (or no longer a folder) with all below it
                continue
            changed += known is None or known.summary != self.seen[key].summary
            stack.extend(sub for sub in self.seen[key].subdirs if sub not in self.seen)
            for sub in set(known.subdirs if known else ()) - set(self.seen[key].subdirs):
                changed += self.forget(sub)
        self.queue_stale()
        self.hand_over(changed)
        return changed

    def hand_over(self, changed):
        """Give the runner what this pass found (a copy: its job threads read it while the next pass
        runs), and ask for a health report when any of it is news."""
        for key in list(self.behind):
            self.look_behind(key)  # re-attached meanwhile, or back in the library
        self.runner.scanned({**self.behind, **self.summaries})
        if changed:
            jobs.enqueue(self.storage, "health", "", self.clock)

    def look_behind(self, folder):
        """Note the state root's folders at or below folder that the library lost (nothing where lenslet's
        files lie beside the images: they moved with their folder)."""
        left_behind = getattr(self.storage, "left_behind", None)
        if left_behind is None:
            return
        for key in [key for key in self.behind if key == folder or key.startswith(folder + "/") or not folder]:
            del self.behind[key]
        for key, names in left_behind(folder).items():
            sidecars = [join(key, name) for name in names if is_sidecar(name)]
            if sidecars or FOLDER_SIDECAR in names:  # (a pick of a folder nobody described a photo of, too)
                self.behind[key] = {"images": 0, "folderGone": True, "orphanSidecars": sidecars,
                                    "orphanThumbs": [join(key, name) for name in names if name.endswith(THUMB)],
                                    "orphanCover": FOLDER_SIDECAR in names}

    def folders(self):
        """The folders of this tree found in the last pass (not pointers: their targets are other trees')."""
        return [key for key in self.seen if "pointer" not in self.summaries.get(key, {})]

    def repeat_of(self, key):
        """The key a folder was first listed under when this key reaches it again through a link
        (2024/self -> .), else None: then this key is the folder's own."""
        try:
            ident = identity_of(self.storage, key)
        except Unavailable:
            raise
        except LensletError:
            return None  # it cannot be looked at: the look that follows meets the same error and says so
        owner = self.owners.get(ident)
        # The folder first listed under that key may have been renamed or removed since.
        if owner is None or owner == key or owner not in self.seen or not self.same_folder(owner, ident):
            self.owners[ident] = key
            return None
        return owner

    def same_folder(self, key, ident):
        """Whether key still leads to the folder of identity ident."""
        try:
            return identity_of(self.storage, key) == ident
        except Unavailable:
            raise
        except LensletError:
            return False  # cannot be looked at: not known to be that folder

    def repeats(self, key, owner):
        """Note a folder as a repeat of owner, keeping nothing of it or below it; 1 if that is news."""
        summary = {"repeats": owner}
        if self.summaries.get(key) == summary:
            return 0
        self.forget(key)
        self.summaries[key] = summary
        return 1

    def forget(self, key):
        """Drop a folder and everything known below it; return how many folders that was."""
        gone = [known for known in self.seen if known == key or known.startswith(key + "/")] if key else []
        if gone:
            self.look_behind(key)
        for known in gone:
            del self.seen[known]
            self.asked.pop(known, None)
            self.kinds.pop(known, None)
            self.summaries.pop(known, None)
        return len(gone)

    def look(self, key, mtime):
        """List one folder: queue an index job if its manifest is stale, and note what health wants."""
        if self.watch is not None:
            self.watch.add(key)  # before listing: a change made meanwhile is then noticed
        known = self.seen.get(key)
        # Moved last by lenslet's own edit (its mark, see mark_edited), whose entries its pages hold: a read of
        # the mark, asked once and only where it decides (a first scan of a tree at rest never asks it).
        own = functools.cache(lambda: mtime is not None and edited_to(self.storage, key) == mtime)
        if known is not None and mtime is not None and known.mtime is not None:
            # Moved by lenslet's edits alone, or one is under way: nothing to index or report, and no listing
            # of a folder being tagged at every change notice.
            if own():
                return known._replace(mtime=mtime)
            if self.storage.edits_under_way(key):
                return known  # looked at again at the next notice or scan, once the edit is done
        listing = list_folder(self.storage, key)
        if key:
            self.check_kind(key, listing)
        summary = {"images": len(listing.images),
                   "orphanSidecars": [sidecar_of(join(key, name))
                                      for name in listing.sidecars if name not in listing.images],
                   "orphanThumbs": [thumb_of(join(key, name))
                                    for name in listing.thumbs if name not in listing.images]}
        two = [join(key, name) for name in listing.images if manifests.two_xmps(name, listing.xmps)]
        if two:
            summary["twoXmps"] = two
        if listing.pointer and key:
            summary["pointer"] = self.check_pointer(key)
            self.summaries[key] = summary
            return Seen(mtime, (), summary)  # a pointer's target is not this tree's to scan
        first = read_first_page(self.storage, key, listing)
        fresh = current(first, key, listing, self.runner.folders.page_size, self.clock())
        if not fresh and first is not None and mtime is not None:
            # Moved by lenslet's own edits alone, whose entries its pages hold (see mark_edited): nothing
            # to index. While one is under way, looked at again next scan.
            if own():
                fresh = True
            elif self.storage.edits_under_way(key):
                self.summaries[key] = summary
                return Seen(None, tuple(join(key, name) for name in listing.dirs), summary)
        # (A stale manifest is rebuilt anyway, its subfolders' kinds looked at afresh where they may have changed.)
        self.kinds[key] = {entry["name"]: entry.get("kind") for entry in first["dirs"]
                           if isinstance(entry, dict) and isinstance(entry.get("name"), str)} if fresh else {}
        # Indexed also when its listing is current but images lack thumbnails, whoever built it
        # (once for each set of them: one that cannot be made is not asked for on every scan).
        lacking = (listing.signature, frozenset(manifests.lacking_thumbs(listing)))
        if not fresh or (lacking[1] and self.asked.get(key) != lacking):
            self.asked[key] = lacking
            self.stale.append(key)
            self.stale_images += len(listing.images)
            if len(self.stale) >= INDEX_BATCH or self.stale_images >= INDEX_BATCH_IMAGES:
                self.queue_stale()
        elif manifests.settle_at(listing, manifests.built_at(first)) is not None and not own():
            mtime = None  # sidecars to read again once they have settled: look again next scan
        # (Neither that nor the folder's young time when it is lenslet's own edit's, as a look that lists nothing
        # trusts it: its edits' sidecars are in the pages. While people tagged, both always held, every change
        # notice listed the folder again, and the worker took a tenth of a core from readers of every folder.)
        racy = self.clock() - manifests.RACY
        if mtime is not None and (any(entry.mtime > racy for entry in listing.images.values())
                                  or (mtime > racy and not own())):
            # Changed within a step of the file system's clock: an image added later in that step leaves the
            # folder's time as it was, and one still being copied in moves only its own. A scan that polls
            # would not list it again before the deep scan: it looks again next scan.
            mtime = None
        self.summaries[key] = summary
        return Seen(mtime, tuple(join(key, name) for name in listing.dirs), summary)

    def check_kind(self, key, listing):
        """Queue a rebuild of the parent's manifest when it says this folder is of another kind than its
        listing shows. In a bucket nothing else tells: a folder that gets a subfolder or a pointer file
        looks the same in its parent's listing, whose manifest then stays current."""
        folder, name = parent(key), name_of(key)
        said = self.kinds.get(folder, {}).get(name)
        found = manifests.dir_kind(listing.pointer, bool(listing.dirs))
        # A branch whose subfolders are all hidden lists as a leaf here (has_subfolders counts them): kept.
        if said is None or said == found or (said == "branch" and found == "leaf-real"):
            return
        self.kinds[folder][name] = found  # asked once; the parent's next look reads the rebuilt manifest
        jobs.enqueue(self.storage, "index", folder, self.clock, part="kinds", kinds=True)

    def queue_stale(self):
        """Queue one index job for the stale folders found so far (named by all of them, so a
        different batch is never taken for this one)."""
        if len(self.stale) == 1:
            jobs.enqueue(self.storage, "index", self.stale[0], self.clock)
        elif self.stale:
            jobs.enqueue(self.storage, "index", self.stale[0], self.clock, part="\0".join(self.stale),
                          folders=self.stale)
        self.stale, self.stale_images = [], 0

    def check_pointer(self, key):
        try:
            self.runner.tree.forget_pointer(self.storage, key)  # placed or changed since: read it afresh
            self.runner.tree.locate(key)
            return "ok"
        except PointerLoop as ex:
            return {"problem": "loop", "chain": ex.fields.get("chain")}
        except (BrokenPointer, Forbidden) as ex:
            return {"problem": "broken", "reason": ex.description}
