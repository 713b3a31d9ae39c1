"""The runner: does the queue's jobs against the tree.

The Worker process runs it on a few threads; `lenslet index PATH` runs it once.
"""

import logging
import threading
import time
from itertools import chain
from typing import NamedTuple

from lenslet import health, jobs, metrics
from lenslet.catalog import Catalog, found_hashes
from lenslet.errors import BadRequest, LensletError, NotFound
from lenslet.files.operations import Files
from lenslet.images import pool
from lenslet.images.previews import Previews
from lenslet.images.thumbs import Thumbs
from lenslet.layout import join, kind_of, name_of, parent
from lenslet.manifest import listings
from lenslet.search import rollup
from lenslet.search.searcher import index_items
from lenslet.tree.tree import Tree
from lenslet.worker.reattach import KEPT, reattach

log = logging.getLogger("lenslet.worker")

CHUNK = 16  # thumbnails per job: small enough to spread over threads, big enough to batch manifest writes
SWEEP_BATCH = 64  # folders per job when every thumbnail is looked at again
# Without a settings record, the thumbnails of this many images in each of this many folders tell
# whether a sweep is needed: a library copied with its thumbnails is not swept for nothing.
SAMPLE_FOLDERS = 64
SAMPLE_IMAGES = 4
DEBOUNCE = 1.0  # seconds a rollup waits after it is asked for, so a burst of changes makes one
# ... and at least this many times as long as the last one took after it: every web process
# reloads the rollup after it changes, so a big gallery must not rebuild it often.
ROLLUP_SPACING = 10
# Jobs whose changes the next rollup must take in: listings, and the hashes a thumbnail job records
# (re-attachment and duplicates find images by them in the rollup). A rollup claimed while another
# thread runs one is built twice: that job asks for it again when it ends. So a rollup waits for them,
# at most HOLD seconds in a row (a steady stream of them never keeps search behind for longer).
FEEDS_ROLLUP = frozenset({"index", "hashes", "thumbs"})
HOLD = 10.0
# Jobs that wait while another thread builds the rollup, which is then built sooner.
BEHIND_ROLLUP = frozenset({"missing", "rethumb"})
# Jobs whose changes the rollup built beside them lacks: the next one is not spaced once they are done.
LATER_NEWS = FEEDS_ROLLUP | {"missing"}


class Progress:
    """Counts thumbnails to make and made, and says how it goes.

    Counted by image: a folder indexed twice before its thumbnails are made (a scan
    and a change notice, say) adds its images once, and an image ticks once.
    """

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.total = self.done = self.failed = 0
        self.started = None
        self.pending = set()  # keys of the images counted and not yet made
        self.lock = threading.Lock()

    def add(self, keys):
        with self.lock:
            new = set(keys) - self.pending
            if not new:
                return  # nothing new: a finished batch stays finished until it has been reported
            if not self.pending:
                self.started, self.total, self.done, self.failed = self.clock(), 0, 0, 0
            self.pending |= new
            self.total += len(new)

    def tick(self, key, failed=False):
        with self.lock:
            if key not in self.pending:
                return  # not counted (a thumbnail a web request asked for)
            self.pending.discard(key)
            if failed:
                self.failed += 1
            else:
                self.done += 1

    def settle(self):
        """Stop waiting for the images counted whose job is gone (run by another worker, set aside): a
        batch never waits for ever."""
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


class Outcome(NamedTuple):
    """What a runner did (Runner.outcome)."""

    stats: dict  # the last rollup's counts, {} when this runner built none
    made: int    # thumbnails made
    errors: dict  # path -> reason, for files whose thumbnail failed


class Runner:
    """Runs the jobs of the queue against the tree."""

    def __init__(self, config, storage, clock=time.time):
        self.storage = storage
        self.tree = Tree(config, storage)
        self.catalog = Catalog(self.tree, config, clock)
        self.folders = self.catalog.listings
        self.thumbs = Thumbs(self.tree, config, clock)
        self.previews = Previews(self.tree, config, self.thumbs, clock)
        self.large_thumbs = Previews(self.tree, config, self.thumbs, clock, large=True)
        # Decoding, resizing and encoding on every core (LENSLET_THUMB_PROCESSES), started on first use.
        self.pool = pool.shared(config)
        self.clock = clock
        self.progress = Progress()
        self.made = 0         # thumbnails this runner made
        self.errors = {}      # path -> reason, for files whose thumbnail failed
        self.failed = {}      # path -> (size, mtime) of the file as it failed: not tried (nor logged) again
        self.making = set()   # paths whose thumbnail a job thread is making now
        self.making_lock = threading.Lock()
        self.runs = {}        # job kind -> when one last finished
        self.stats = {}       # what the last rollup counted
        self.summaries = {}   # folder -> what health reports of it: the scanner's last pass (scanned())
        self.rollup_took = 0.0
        self.rollup_ended = 0.0  # when the last rollup (and its search index) was done
        self.first_scan = False  # whether the worker's first walk of the tree is under way (see Scanner.scan)
        self.rollup_beside = set()  # the kinds of LATER_NEWS still to run when it was built
        self.told_backlog = {}  # the jobs the last health report told of, by kind (health's own left out)
        self.running = {}     # thread -> the kind of job it runs, or is claiming, or None (see take)
        self.running_lock = threading.Lock()
        self.holding_since = None  # when a rollup was first held for them (settled), while it is
        self.reattached = []  # metadata given back to moved images, latest last
        self.files = Files(self.tree, self.catalog, self.thumbs, config)
        self.trash_days = config.trash_days
        self.trash = {"days": config.trash_days}  # the trash emptied by age: what /health tells of it

    def run(self, job):
        """Run one claimed job with the handler of its kind (jobs.claim sets aside kinds it does not know)."""
        handler = HANDLERS.get(job["kind"])
        if handler is None:  # a job built by hand, not claimed: refused, never taken as done
            raise BadRequest("no such kind of job", kind=job["kind"])
        try:
            handler(self, job)
        finally:
            self._runs(None)
        self.runs[job["kind"]] = self.clock()

    def take(self, cursor, worker, lease, ready=None):
        """Claim the next job this runner may run (cursor.next_job; ready(job) too, when given).
        A job that feeds the rollup counts from before its claim: a rollup another thread claimed
        between this claim and the job's start would be built twice (see settled)."""
        def may_run(job):
            if not self.settled(job) or (ready is not None and not ready(job)):
                return False
            if job["kind"] in BEHIND_ROLLUP and self.others_running({"rollup"}):
                return False  # the rollup has the process to itself: search comes first
            self._runs(job["kind"])  # the claim follows; another candidate if it fails
            return True
        name = None
        try:
            name, job = cursor.next_job(worker, lease, self.clock, may_run)
        finally:
            if name is None:  # none claimed, or the queue could not be read: this thread feeds nothing
                self._runs(None)
        return name, job

    def _runs(self, kind):
        with self.running_lock:
            self.running[threading.get_ident()] = kind

    def index_all(self, folders, rebuild=False):
        """index() each folder, their listing changes told to other processes together, then queue the
        thumbnails they miss CHUNK to a job, whatever folder they are in (one image a folder is common)."""
        missing = []
        with self.folders.changes_told_once():
            for folder in folders:
                missing += self.index(folder, rebuild) or []
        self.progress.add(missing)
        for start in range(0, len(missing), CHUNK):
            keys = missing[start:start + CHUNK]
            jobs.enqueue(self.storage, "missing", parent(keys[0]), self.clock, part="\0".join(keys), keys=keys)

    def index(self, folder, rebuild=False):
        """Bring a folder's manifest up to date (rebuilt, with rebuild); return the keys of its images without
        a thumbnail. A rebuild that found something new for search has asked for the rollup itself (refresh)."""
        try:
            self.folders.refresh(self.storage, folder, None, rebuild)
        except NotFound:
            return []  # the folder went away since it was queued
        items = [item for page in self.folders.pages_of(self.storage, folder) for item in page["items"]
                 if isinstance(item, dict)]
        return [join(folder, item["name"]) for item in items
                if not item.get("hasThumb") and not item.get("error") and self.thumbs.makes(item["name"])
                and join(folder, item["name"]) not in self.errors]

    def sweep(self, folder_keys, names=None):
        """Rethumb folders one by one; the lowest priority yields: once a more urgent job is due (a
        rollup, a thumbnail someone looks at), the folders left are queued again and it returns."""
        for done, folder in enumerate(folder_keys, 1):
            finished = self.rethumb(folder, names)
            left = folder_keys[done:]
            if left and (not finished or self.yield_to_urgent()):
                jobs.enqueue(self.storage, "rethumb", left[0], self.clock, part="\0".join(left), folders=left)
                return

    def yield_to_urgent(self):
        """Whether a job of the lowest priority should stop here: a more urgent one is due."""
        return jobs.more_urgent(self.storage, "rethumb", self.due)

    def rethumb(self, folder, names=None):
        """Make again the thumbnails of a folder's images made with other settings; False when it
        yielded to a more urgent job, the images left queued again."""
        if names is None:
            try:
                names = [item["name"] for item in listings.stored_items(self.storage, folder) if item.get("hasThumb")]
            except NotFound:
                return True  # gone since: nothing left to do here
        again = []
        for name in names:
            try:
                if not self.thumbs.up_to_date(self.storage, join(folder, name)):
                    again.append(name)
            except LensletError:
                continue  # gone, or unreadable: the index job of its folder reports it
        self.progress.add(join(folder, name) for name in again)
        for start in range(0, len(again), CHUNK):
            self.make_thumbs(folder, again[start:start + CHUNK], remake=True)
            left = again[start + CHUNK:]
            if left and self.yield_to_urgent():
                jobs.enqueue(self.storage, "rethumb", folder, self.clock, part="\0".join(left), names=left)
                return False
        return True

    def sweep_thumbs(self, folder_keys, everything=False):
        """After the settings changed (always, with everything): queue every folder's thumbnails made
        otherwise, lowest priority."""
        if everything:
            self.thumbs.forget_settings(self.storage)
        recorded = self.thumbs.recorded_settings(self.storage)
        if recorded == self.thumbs.settings:
            return 0
        folder_keys = sorted(folder_keys)
        if recorded is None and not everything and self.samples_current(folder_keys):
            self.thumbs.remember_settings(self.storage)  # a copied library: its thumbnails say how they were made
            return 0
        for start in range(0, len(folder_keys), SWEEP_BATCH):
            batch = folder_keys[start:start + SWEEP_BATCH]
            jobs.enqueue(self.storage, "rethumb", batch[0], self.clock, part="\0".join(batch), folders=batch)
        self.thumbs.remember_settings(self.storage)
        return len(folder_keys)

    def samples_current(self, folder_keys):
        """Whether the thumbnails of a few images spread over the folders were all made with today's settings."""
        step = max(1, len(folder_keys) // SAMPLE_FOLDERS)
        for folder in folder_keys[::step]:
            try:
                names = [entry.name for entry in self.storage.list_folder(folder)
                         if not entry.is_dir and self.thumbs.makes(entry.name)]
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
        """Make the thumbnails of some images on the pool's processes, then record their hashes in one pass
        over each folder's listing (with remake, also those fresh but made with other settings)."""
        with self.making_lock:  # an image two jobs ask for at once (a scan and a notice) is made, or failed, once
            keys = [key for key in dict.fromkeys(keys) if key not in self.making]
            self.making.update(keys)
        try:
            self._make_thumbs(keys, remake)
        finally:
            with self.making_lock:
                self.making.difference_update(keys)

    def _make_thumbs(self, keys, remake):
        digests, todo = {}, []
        for key in keys:
            if not self.thumbs.makes(name_of(key)):  # a video without ffmpeg: settled, never waited for
                self.progress.tick(key)
                continue
            try:
                image = self.storage.stat(key)
                found = self.thumbs.fresh(self.storage, key, image)
            except LensletError as ex:
                self.tally(key, ex)
                continue
            if self.failed.get(key) == (image.size, image.mtime):  # tried as it is now: settled, said once
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
        for folder, found in digests.items():
            self.catalog.hashed(self.storage, folder, found)

    def make_posters(self, keys):
        """Make videos' posters with ffmpeg, one at a time (it decodes on every core by itself); yield as
        make_each does: (key, the video's hash, or the LensletError it met, logged once)."""
        for key in keys:
            try:
                yield key, self.thumbs.make_poster(self.storage, key)
            except LensletError as ex:
                if not isinstance(ex, NotFound):
                    log.warning("%s: no poster: %s", key, ex.description)
                yield key, ex

    def record_found_hashes(self, job):
        """Record the hashes web processes found in a folder while making thumbnails for a read
        (catalog.hash_found), all in one pass: those noted in its spool, and a job's of an older lenslet."""
        noted, notes = jobs.take_found_hashes(self.storage, job["path"])
        digests = {**found_hashes(job), **noted}
        if digests:
            try:
                place = self.tree.locate(job["path"])
            except NotFound:
                pass  # the folder went away since: nothing to record
            else:
                self.catalog.hashed(place.storage, place.key, digests)
        jobs.drop_notes(self.storage, notes)

    def tally(self, key, error):
        """Count one image of a thumbnail job as done, or failed with error (a removed one is done)."""
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
        # The next one is spaced by all a rollup costs: indexing it for search costs twice its build, and
        # spaced by its build alone, a rollup ran every second or so while people tagged.
        self.rollup_ended = self.clock()
        self.rollup_took = self.rollup_ended - built_at
        self.rollup_beside = beside
        log.info("rollup: %d images in %d folders, %.1fs with its search index; beside %s jobs",
                 self.stats["images"], self.stats["folders"], self.rollup_took, ", ".join(sorted(beside)) or "no")

    def keep_search_index(self):
        """Index the new rollup for search once here, so a web process that starts reads the
        index in well under a second instead of building it (seconds for a big gallery)."""
        try:
            loaded, (index, columns) = rollup.load(self.storage, rollup.stat(self.storage), index_items)
            try:
                rollup.save_index(self.storage, loaded, *index.to_parts())
                rollup.save_columns(self.storage, loaded, *columns.to_parts())
            finally:
                loaded.stream.close()
        except (LensletError, ValueError) as ex:  # a web process builds it then
            log.warning("cannot keep the search index: %s", getattr(ex, "description", ex))

    def scanned(self, summaries):
        """Take the scanner's summaries of its last pass (a copy of its own: replaced whole, never changed)."""
        self.summaries = summaries

    def progress_line(self):
        """How the thumbnails go: made, failed, rate and time left."""
        return self.progress.line()

    def outcome(self):
        """What this runner did: the last rollup's counts ({} when it built none), the thumbnails it
        made, and the files whose thumbnail failed (path -> reason)."""
        return Outcome(dict(self.stats), self.made, dict(self.errors))

    def due(self, job):
        """Whether a queued job may run now (a rollup waits for its burst to settle, and see settled)."""
        if job.get("kind") != "rollup":
            return True
        now, asked = self.clock(), job.get("queuedAt", 0.0)  # a number: jobs.upgrade
        if asked > now:
            asked = 0.0  # still to come (another host's clock ahead, or forged): it would wait for it
        if self.first_scan or not self.settled(job) or now < asked + DEBOUNCE:
            return False
        # Once the work a rollup was built beside is done, the next one takes it in at once.
        return now >= self.rollup_ended + ROLLUP_SPACING * self.rollup_took or \
            bool(self.rollup_beside) and not self.pending(self.rollup_beside)

    def settled(self, job):
        """Whether a queued job may run now as far as this runner's other threads go: a rollup waits
        while one of them runs a job it must take in (FEEDS_ROLLUP), at most HOLD seconds after it
        was first held. Other workers' jobs are not seen: a rollup built meanwhile is asked for again."""
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
        """Whether another thread of this runner runs (or is claiming) a job of one of these kinds."""
        me = threading.get_ident()
        return any(kind in kinds for thread, kind in list(self.running.items()) if thread != me)

    def pending(self, kinds):
        """Those of these kinds another thread runs or the queue holds (one listing of the queue)."""
        queued = {jobs.kind_in(name) for name in jobs.waiting(self.storage)}
        return {kind for kind in kinds if kind in queued or self.others_running({kind})}

    def empty_trash(self):
        """Delete for good what has been in the trash longer than LENSLET_TRASH_DAYS (each logged), noted for
        /health; answer how many went."""
        days = self.trash_days
        deleted, failed = self.files.empty_trash(days)
        for path in deleted:
            log.info("trash: %s deleted for good: in the trash more than %g days (LENSLET_TRASH_DAYS)", path, days)
        for path, why in sorted(failed.items()):
            log.warning("trash: %s not deleted: %s", path, why)
        self.trash = {"days": days, "lastLook": self.clock(), "deleted": len(deleted),
                      "deletedTotal": self.trash.get("deletedTotal", 0) + len(deleted), "failed": len(failed)}
        if deleted or failed:
            jobs.enqueue(self.storage, "health", "", self.clock)  # /health tells of it soon
        return len(deleted)

    def health(self):
        backlog = jobs.backlog(self.storage)
        backlog["health"] = backlog.get("health", 1) - 1  # not counting this very job
        told = {k: v for k, v in backlog.items() if v}
        thumbnails = {"made": self.made, "failed": len(self.errors), "left": self.progress.left()}
        report = health.report(self.stats, self.summaries, self.errors, told, self.runs, self.clock, self.trash,
                               thumbnails)
        health.write_report(self.storage, report)
        self.told_backlog = _others(told)

    def queue_ran_dry(self):
        """Ask for a health report when the jobs the last one told of have run since and no report came
        after them: one made while another thread still had a job told of it until the next change."""
        if self.told_backlog and _others(jobs.backlog(self.storage)) != self.told_backlog:
            jobs.enqueue(self.storage, "health", "", self.clock)


def _others(backlog):
    """A backlog without health reports: a report counts itself, and asking for one must not ask for more."""
    return {kind: count for kind, count in backlog.items() if kind != "health"}


# The worker's side of jobs.PRIORITY: what each kind of job does (a test holds the two to one set of kinds).
HANDLERS = {
    "index": lambda runner, job: runner.index_all(job.get("folders") or [job["path"]], job.get("kinds") is True),
    "thumbs": lambda runner, job: runner.make_thumbs(job["path"], job.get("names", [])),
    "missing": lambda runner, job: runner.make_thumbs_of(job_keys(job)),
    "rethumb": lambda runner, job: runner.sweep(job.get("folders") or [job["path"]], job.get("names")),
    "preview": lambda runner, job: (runner.large_thumbs if job.get("large") else runner.previews).make(job["path"]),
    "hashes": lambda runner, job: runner.record_found_hashes(job),
    "rollup": lambda runner, job: runner.rollup(),
    "health": lambda runner, job: runner.health(),
}


def job_keys(job):
    """The images of a job of missing thumbnails (a list of keys; read as input, anything else is none)."""
    keys = job.get("keys")
    return [key for key in keys if isinstance(key, str)] if isinstance(keys, list) else []


def drain(runner, worker, lease=3600, ran=None, ready=None, cursor=None):
    """Run queued jobs (those ready(job) accepts) until none is left: `lenslet index`, tests, benchmarks.
    Threads draining one queue together share one cursor; a thread finding only a rollup that waits
    for another's index job (Runner.settled) leaves it to that thread."""
    cursor = cursor or jobs.Cursor(runner.storage)
    while True:
        name, job = runner.take(cursor, worker, lease, ready)
        if name is None:
            return runner
        if ran is not None:
            ran.append((name, job["queuedAt"]))
        run_one(runner, name, job)


def run_one(runner, name, job):
    """Run a claimed job; a failure is logged and counted, never raised: the worker goes on."""
    timer = metrics.Timer()
    try:
        with timer:
            runner.run(job)
    except LensletError as ex:
        log.error("job %s %r failed: %s", job["kind"], job["path"], ex.description)
    except Exception:  # noqa: BLE001 - a bug in one job must not stop the others
        log.exception("job %s %r crashed", job["kind"], job["path"])
    # A claimed job is of a known kind (jobs.claim sets the others aside): a label from a fixed set.
    metrics.job(job["kind"] if job["kind"] in jobs.PRIORITY else "other", timer.seconds)
    try:
        jobs.finish(runner.storage, name)
    except LensletError as ex:  # the storage went away meanwhile: the claim lapses and the job runs again
        log.error("job %s %r: cannot mark it done: %s", job["kind"], job.get("path"), ex.description)
