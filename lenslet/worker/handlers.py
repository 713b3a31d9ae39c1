"""The runner: does the queue's jobs against the tree."""

import logging
import threading
import time
from contextlib import suppress
from itertools import chain

import orjson

from lenslet import health, jobs, listings, metrics
from lenslet.catalog import Catalog, found_hashes
from lenslet.errors import BadRequest, LensletError, NotFound
from lenslet.files.operations import Files
from lenslet.formats import listing_pages, similar
from lenslet.images import pool
from lenslet.images.previews import Previews
from lenslet.images.thumbs import Thumbs
from lenslet.layout import is_image, join, kind_of, name_of, parent
from lenslet.search import rollup
from lenslet.search.searcher import index_items
from lenslet.tree.tree import Tree
from lenslet.worker.reattach import KEPT, reattach

log = logging.getLogger("lenslet.worker")

CHUNK = 16  # thumbnails a sweep makes between looks for more urgent jobs
JOB_IMAGES, JOB_BYTES = 256, 64 << 20  # most thumbnails per missing-thumbnails job, and bytes of their originals
SWEEP_BATCH = 64  # folders per rethumb job
SAMPLE_FOLDERS, SAMPLE_IMAGES = 64, 4  # sampled to tell whether a copied library needs a sweep
DEBOUNCE = 1.0  # seconds a rollup waits, so a burst of changes makes one
ROLLUP_SPACING = 10  # ... and this many times its last build, as every web process reloads a changed rollup
FEEDS_ROLLUP = frozenset({"index", "hashes", "thumbs"})  # a rollup waits for these, at most HOLD seconds in a row
HOLD = 10.0
BEHIND_ROLLUP = frozenset({"missing", "rethumb", "places"})  # jobs that wait while another thread builds the rollup
LATER_NEWS = FEEDS_ROLLUP | {"missing"}  # once one of these is done, the next rollup is not spaced


class Progress:
    """Count thumbnails to make and made, once per image."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.total = self.done = self.failed = 0
        self.started = None
        self.pending = set()  # counted, not yet made
        self.lock = threading.Lock()

    def add(self, keys):
        with self.lock:
            new = set(keys) - self.pending
            if not new:
                return  # a finished batch stays finished until reported
            if not self.pending:
                self.started, self.total, self.done, self.failed = self.clock(), 0, 0, 0
            self.pending |= new
            self.total += len(new)

    def tick(self, key, failed=False):
        with self.lock:
            if key in self.pending:
                self.pending.discard(key)
                self.failed += failed
                self.done += not failed

    def settle(self):
        """Stop waiting for counted images whose job went elsewhere."""
        with self.lock:
            self.done += len(self.pending)
            self.pending.clear()

    def left(self):
        with self.lock:
            return len(self.pending)

    def line(self):
        with self.lock:
            finished = self.done + self.failed
            elapsed = max(self.clock() - (self.started or self.clock()), 1e-9)
            rate = finished / elapsed
            eta = (self.total - finished) / rate if rate else 0
        return (f"thumbnails {finished}/{self.total} ({self.failed} failed), {rate:.1f}/s, "
                f"ETA {int(eta // 60)}m{int(eta % 60):02d}s")

    @property
    def busy(self):
        return bool(self.pending)


class Runner:
    def __init__(self, config, storage, clock=time.time):
        self.storage = storage
        self.tree = Tree(config, storage)
        self.catalog = Catalog(self.tree, config, clock)
        self.folders = self.catalog.listings
        self.thumbs = Thumbs(self.tree, config, clock)
        self.previews = Previews(self.tree, config, self.thumbs, clock)
        self.large_thumbs = Previews(self.tree, config, self.thumbs, clock, large=True)
        self.pool = pool.shared(config)  # started on first use
        self.elsewhere = None  # the job processes index and thumbnail jobs run in (worker/processes.py)
        self.clock = clock
        self.progress = Progress()
        self.made = 0
        self.errors = {}      # path -> reason
        self.failed = {}      # path -> (size, mtime): not tried again until it changes
        self.making = set()
        self.making_lock = threading.Lock()
        self.runs = {}        # kind -> when last finished
        self.stats = {}
        self.summaries = {}   # the scanner's, for health; replaced whole, never changed
        self.rollup_took = self.rollup_ended = 0.0  # search index included
        self.first_scan = False
        self.rollup_beside = set()  # LATER_NEWS kinds pending at the last rollup
        self.told_backlog = {}
        self.running = {}     # thread -> kind it runs or claims
        self.running_lock = threading.Lock()
        self.holding_since = None  # see settled
        self.reattached = []  # latest last
        self.files = Files(self.tree, self.catalog, self.thumbs, config)
        self.trash_days = config.trash_days
        self.trash = {"days": config.trash_days}

    def run(self, job):
        handler = HANDLERS.get(job["kind"])
        if handler is None:  # built by hand, not claimed
            raise BadRequest("no such kind of job", kind=job["kind"])
        try:
            handler(self, job)
        finally:
            self._runs(None)
        self.runs[job["kind"]] = self.clock()

    def take(self, cursor, worker, lease, ready=None):
        """Claim the next job this runner may run; it counts as running from before its claim (see settled)."""
        def may_run(job):
            if not self.settled(job) or (ready is not None and not ready(job)):
                return False
            if job["kind"] in BEHIND_ROLLUP and self.others_running({"rollup"}):
                return False  # search comes first
            self._runs(job["kind"])  # the claim follows; another candidate if it fails
            return True
        name = None
        try:
            name, job = cursor.next_job(worker, lease, self.clock, may_run)
        finally:
            if name is None:
                self._runs(None)
        return name, job

    def _runs(self, kind):
        with self.running_lock:
            self.running[threading.get_ident()] = kind

    def index_all(self, folders, rebuild=False):
        """Index each folder, then queue the thumbnails they miss in jobs of JOB_IMAGES or JOB_BYTES."""
        if self.elsewhere is not None:
            return self.elsewhere.index(self, folders, rebuild)
        missing = {}
        with self.folders.batched_notices():
            for folder in folders:
                missing.update(self.index(folder, rebuild))
        self.progress.add(missing)
        keys, size = [], 0
        for number, (key, bytes_) in enumerate(missing.items(), 1):
            keys.append(key)
            size += bytes_
            if len(keys) >= JOB_IMAGES or size >= JOB_BYTES or number == len(missing):
                jobs.enqueue(self.storage, "missing", parent(keys[0]), self.clock, part="\0".join(keys), keys=keys)
                keys, size = [], 0

    def index(self, folder, rebuild=False):
        """Bring a folder's manifest up to date; return its images without a thumbnail, with their sizes."""
        try:
            memo, first = self.folders.refresh(self.storage, folder, None, rebuild)
        except NotFound:
            return {}  # gone since it was queued
        # a single page is the one just built or read: not read again
        pages = [orjson.loads(first)] if memo.page_count == 1 else self.folders.pages_of(self.storage, folder)
        unlooked = [item["name"] for page in pages for item in page["items"] if isinstance(item, dict)
                    and item.get("hasThumb") and similar.look_of(item) is None and isinstance(item.get("name"), str)]
        self.catalog.looked(self.storage, folder, self.thumbs.looks(self.storage, folder, unlooked))
        return {join(folder, item["name"]): item["size"] if isinstance(item.get("size"), int) else 0
                for page in pages for item in page["items"] if isinstance(item, dict)
                and not item.get("hasThumb") and not item.get("error") and self.thumbs.makes(item["name"])
                and join(folder, item["name"]) not in self.errors}

    def sweep(self, folder_keys, names=None):
        """Rethumb folders, queueing those left again once a more urgent job is due."""
        for done, folder in enumerate(folder_keys, 1):
            finished = self.rethumb(folder, names)
            left = folder_keys[done:]
            if left and (not finished or self.yield_to_urgent()):
                jobs.enqueue(self.storage, "rethumb", left[0], self.clock, part="\0".join(left), folders=left)
                return

    def yield_to_urgent(self):
        return jobs.more_urgent(self.storage, "rethumb", self.due)

    def rethumb(self, folder, names=None):
        """Remake a folder's thumbnails made with other settings; False when it yielded."""
        if names is None:
            try:
                names = [item["name"] for item in listings.stored_items(self.storage, folder) if item.get("hasThumb")]
            except NotFound:
                return True
        again = []
        for name in names:
            with suppress(LensletError):  # its folder's index job reports it
                if not self.thumbs.up_to_date(self.storage, join(folder, name)):
                    again.append(name)
        self.progress.add(join(folder, name) for name in again)
        for start in range(0, len(again), CHUNK):
            self.make_thumbs(folder, again[start:start + CHUNK], remake=True)
            left = again[start + CHUNK:]
            if left and self.yield_to_urgent():
                jobs.enqueue(self.storage, "rethumb", folder, self.clock, part="\0".join(left), names=left)
                return False
        return True

    def sweep_places(self, folder_keys):
        """Queue folders listed before lenslet kept positions or named by another places table, so their photos'
        GPS is read or their places named again, last; return how many."""
        folder_keys = sorted(folder_keys)
        for start in range(0, len(folder_keys), SWEEP_BATCH):
            batch = folder_keys[start:start + SWEEP_BATCH]
            jobs.enqueue(self.storage, "places", batch[0], self.clock, part="\0".join(batch), folders=batch)
        return len(folder_keys)

    def place_all(self, folder_keys):
        """List folders again, reading their photos' GPS or naming their places again, while their listing still
        predates positions or this places table; queue those left once a more urgent job is due."""
        for done, folder in enumerate(folder_keys, 1):
            with suppress(LensletError):  # gone, or unreadable: its index job reports it
                first = listings.read_first_page(self.storage, folder)
                if first is not None and listing_pages.named_by_another_table(first):
                    self.folders.refresh(self.storage, folder, None, rebuild=True)
            left = folder_keys[done:]
            if left and jobs.more_urgent(self.storage, "places", self.due):
                jobs.enqueue(self.storage, "places", left[0], self.clock, part="\0".join(left), folders=left)
                return

    def sweep_thumbs(self, folder_keys, everything=False):
        """Queue every folder for a rethumb if the settings changed (or with everything)."""
        if everything:
            self.thumbs.forget_settings(self.storage)
        recorded = self.thumbs.recorded_settings(self.storage)
        if recorded == self.thumbs.settings:
            return 0
        folder_keys = sorted(folder_keys)
        if recorded is None and not everything and self.samples_current(folder_keys):
            self.thumbs.remember_settings(self.storage)  # a copied library
            return 0
        for start in range(0, len(folder_keys), SWEEP_BATCH):
            batch = folder_keys[start:start + SWEEP_BATCH]
            jobs.enqueue(self.storage, "rethumb", batch[0], self.clock, part="\0".join(batch), folders=batch)
        self.thumbs.remember_settings(self.storage)
        return len(folder_keys)

    def samples_current(self, folder_keys):
        """Whether sampled thumbnails were all made with today's settings."""
        step = max(1, len(folder_keys) // SAMPLE_FOLDERS)
        for folder in folder_keys[::step]:
            try:
                names = [entry.name for entry in self.storage.list_folder(folder)  # the images, in any order
                         if not entry.is_dir and is_image(entry.name) and self.thumbs.makes(entry.name)]
            except LensletError:
                continue
            for name in names[:SAMPLE_IMAGES]:
                try:
                    found = self.thumbs.fresh(self.storage, join(folder, name), self.storage.stat(join(folder, name)))
                except LensletError:
                    continue
                if found is not None and not self.thumbs.current(found[0]):
                    return False
        return True

    def make_thumbs(self, folder, names, remake=False):
        self.make_thumbs_of([join(folder, name) for name in names], remake)

    def make_thumbs_of(self, keys, remake=False):
        """Make some images' thumbnails, then record their hashes in one pass per folder."""
        with self.making_lock:  # an image two jobs ask for at once is made once
            keys = [key for key in dict.fromkeys(keys) if key not in self.making]
            self.making.update(keys)
        try:
            if self.elsewhere is not None and not remake:
                self.elsewhere.make_thumbs(self, keys)
            else:
                self._make_thumbs(keys, remake)
        finally:
            with self.making_lock:
                self.making.difference_update(keys)

    def _make_thumbs(self, keys, remake):
        digests, todo, seen = {}, [], {}
        for key in keys:
            if not self.thumbs.makes(name_of(key)):  # a video without ffmpeg
                self.progress.tick(key)
                continue
            try:
                image = seen[key] = self.storage.stat(key)
                found = self.thumbs.fresh(self.storage, key, image)
            except LensletError as ex:
                self.tally(key, ex)
                continue
            if self.failed.get(key) == (image.size, image.mtime):  # failed as it is now: logged once
                self.progress.tick(key, failed=True)
                continue
            if found is None or (remake and not self.thumbs.current(found[0])):
                todo.append(key)
            else:
                self.tally(key, None)
        videos = [key for key in todo if kind_of(key) == "video"]
        for key, outcome in chain(self.thumbs.make_each(self.storage, [key for key in todo if key not in videos],
                                                        self.pool), self.make_posters(videos)):
            made = not isinstance(outcome, LensletError)
            if made:
                digests.setdefault(parent(key), {})[name_of(key)] = outcome
                self.made += 1
                metrics.thumbnail("made")
            self.tally(key, None if made else outcome)
        with self.folders.batched_notices():  # one rollup asked for the whole job
            for folder, found in digests.items():
                made_at = {name: seen[join(folder, name)] for name in found}
                looks = self.thumbs.looks(self.storage, folder, found, made_at)
                self.catalog.hashed(self.storage, folder, found, made_at, looks)

    def make_posters(self, keys):
        """Make videos' posters with ffmpeg, one at a time; yield like make_each."""
        for key in keys:
            try:
                yield key, self.thumbs.make_poster(self.storage, key)
            except LensletError as ex:
                if not isinstance(ex, NotFound):
                    log.warning("%s: no poster: %s", key, ex.description)
                yield key, ex

    def record_found_hashes(self, job):
        """Record the hashes web processes found in a folder, in one pass."""
        noted, read_at, notes = jobs.take_found_hashes(self.storage, job["path"])
        digests = {**found_hashes(job), **noted}
        if digests:
            try:
                place = self.tree.locate(job["path"])
            except NotFound:
                pass
            else:
                self.catalog.hashed(place.storage, place.key, digests, read_at,
                                    self.thumbs.looks(place.storage, place.key, digests))
        jobs.drop_notes(self.storage, notes)

    def tally(self, key, error):
        """Count one image of a thumbnail job as done, or failed with error."""
        if error is None or isinstance(error, NotFound):
            self.errors.pop(key, None)
            self.failed.pop(key, None)
            self.progress.tick(key)
        else:
            self.errors[key] = error.description
            try:
                image = self.storage.stat(key)
                self.failed[key] = (image.size, image.mtime)
            except LensletError:
                self.failed.pop(key, None)
            self.progress.tick(key, failed=True)
            metrics.thumbnail("failed")

    def rollup(self):
        built_at = self.clock()
        beside = self.pending(LATER_NEWS)
        self.stats = rollup.build(self.storage, self.folders.pages_of, self.clock)
        rollup.prune_journal(self.storage, built_at)
        reattached, self.stats["duplicates"] = reattach(self)
        self.reattached = (self.reattached + reattached)[-KEPT:]
        self.stats["reattached"] = self.reattached
        jobs.enqueue(self.storage, "health", "", self.clock)
        self.keep_search_index()
        self.rollup_ended = self.clock()  # space the next one by all this one cost, search index included
        self.rollup_took = self.rollup_ended - built_at
        self.rollup_beside = beside
        log.info("rollup: %d images in %d folders, %.1fs with its search index; beside %s jobs",
                 self.stats["images"], self.stats["folders"], self.rollup_took, ", ".join(sorted(beside)) or "no")

    def keep_search_index(self):
        """Index the new rollup for search once, so web processes need not."""
        try:
            loaded, (index, columns) = rollup.load(self.storage, rollup.stat(self.storage), index_items)
            try:
                rollup.save_index(self.storage, loaded, *index.to_parts())
                rollup.save_columns(self.storage, loaded, *columns.to_parts())
            finally:
                loaded.stream.close()
        except (LensletError, ValueError) as ex:  # a web process builds it then
            log.warning("cannot keep the search index: %s", getattr(ex, "description", ex))

    def due(self, job):
        """Whether a queued job may run now: a rollup waits for its burst to settle."""
        if job.get("kind") != "rollup":
            return True
        now, asked = self.clock(), job.get("queuedAt", 0.0)  # a number: jobs.upgrade
        if asked > now:
            asked = 0.0  # in the future (another host's clock, or forged)
        if self.first_scan or not self.settled(job) or now < asked + DEBOUNCE:
            return False
        # no spacing once a kind of work the last rollup was built beside is done: search gets it at once
        return now >= self.rollup_ended + ROLLUP_SPACING * self.rollup_took or \
            bool(self.rollup_beside - self.pending(self.rollup_beside))

    def settled(self, job):
        """Whether a rollup may run as far as this runner's other threads go (FEEDS_ROLLUP, HOLD)."""
        if job.get("kind") != "rollup":
            return True
        with self.running_lock:
            if not self.others_running(FEEDS_ROLLUP):
                self.holding_since = None
                return True
            if self.holding_since is None:
                self.holding_since = self.clock()
            return self.clock() >= self.holding_since + HOLD

    def others_running(self, kinds):
        """Whether another thread runs or claims a job of one of these kinds."""
        me = threading.get_ident()
        return any(kind in kinds for thread, kind in list(self.running.items()) if thread != me)

    def pending(self, kinds):
        """Return the kinds another thread runs or the queue holds."""
        queued = {jobs.kind_in(name) for name in jobs.waiting(self.storage)}
        return {kind for kind in kinds if kind in queued or self.others_running({kind})}

    def empty_trash(self):
        """Delete for good what is in the trash past LENSLET_TRASH_DAYS; return how many."""
        days = self.trash_days
        deleted, failed = self.files.empty_trash(days)
        for path in deleted:
            log.info("trash: %s deleted for good: in the trash more than %g days (LENSLET_TRASH_DAYS)", path, days)
        for path, why in sorted(failed.items()):
            log.warning("trash: %s not deleted: %s", path, why)
        self.trash = {"days": days, "lastLook": self.clock(), "deleted": len(deleted),
                      "deletedTotal": self.trash.get("deletedTotal", 0) + len(deleted), "failed": len(failed)}
        if deleted or failed:
            jobs.enqueue(self.storage, "health", "", self.clock)
        return len(deleted)

    def health(self):
        backlog = jobs.backlog(self.storage)
        backlog["health"] = backlog.get("health", 1) - 1  # not counting this very job
        told = {k: v for k, v in backlog.items() if v}
        report = health.report(self.stats, self.summaries, self.errors, told, self.runs, self.clock, self.trash,
                               {"made": self.made, "failed": len(self.errors), "left": self.progress.left()})
        health.write_report(self.storage, report)
        self.told_backlog = _others(told)

    def queue_ran_dry(self):
        """Ask for a health report once the backlog the last one told of has changed."""
        if self.told_backlog and _others(jobs.backlog(self.storage)) != self.told_backlog:
            jobs.enqueue(self.storage, "health", "", self.clock)


def _others(backlog):
    """A backlog without health jobs, which must not ask for more."""
    return {kind: count for kind, count in backlog.items() if kind != "health"}


# the worker's side of jobs.PRIORITY (a test checks both name the same kinds)
HANDLERS = {
    "index": lambda runner, job: runner.index_all(job.get("folders") or [job["path"]], job.get("kinds") is True),
    "thumbs": lambda runner, job: runner.make_thumbs(job["path"], job.get("names", [])),
    "missing": lambda runner, job: runner.make_thumbs_of(job_keys(job)),
    "rethumb": lambda runner, job: runner.sweep(job.get("folders") or [job["path"]], job.get("names")),
    "places": lambda runner, job: runner.place_all(job.get("folders") or [job["path"]]),
    "preview": lambda runner, job: (runner.large_thumbs if job.get("large") else runner.previews).make(job["path"]),
    "hashes": lambda runner, job: runner.record_found_hashes(job),
    "rollup": lambda runner, job: runner.rollup(),
    "health": lambda runner, job: runner.health(),
}


def job_keys(job):
    """Return the image keys of a missing-thumbnails job, which is input."""
    keys = job.get("keys")
    return [key for key in keys if isinstance(key, str)] if isinstance(keys, list) else []


def drain(runner, worker, lease=3600, ran=None, ready=None, cursor=None):
    """Run queued jobs that ready(job) accepts until none is left; threads draining together share a cursor."""
    cursor = cursor or jobs.Cursor(runner.storage)
    while True:
        name, job = runner.take(cursor, worker, lease, ready)
        if name is None:
            return runner
        if ran is not None:
            ran.append((name, job["queuedAt"]))
        run_one(runner, name, job)


def run_one(runner, name, job):
    """Run a claimed job; a failure is logged and counted, never raised."""
    timer = metrics.Timer()
    try:
        with timer:
            runner.run(job)
    except LensletError as ex:
        log.error("job %s %r failed: %s", job["kind"], job["path"], ex.description)
    except Exception:  # noqa: BLE001 - a bug in one job must not stop the others
        log.exception("job %s %r crashed", job["kind"], job["path"])
    # jobs.claim sets unknown kinds aside, so labels come from a fixed set
    metrics.job(job["kind"] if job["kind"] in jobs.PRIORITY else "other", timer.seconds)
    try:
        jobs.finish(runner.storage, name)
    except LensletError as ex:  # the claim lapses and the job runs again
        log.error("job %s %r: cannot mark it done: %s", job["kind"], job.get("path"), ex.description)
