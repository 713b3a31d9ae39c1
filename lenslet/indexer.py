"""The worker's machinery: a scanner that notices change, and a runner that does the jobs.

worker.py runs these in a long-lived process; `lenslet index PATH` runs them once.
"""

import logging
import threading
import time
from typing import NamedTuple

import orjson

from . import jobs, manifests, tasks
from .errors import BrokenPointer, Forbidden, LensletError, NotFound, PointerLoop
from .folders import Folders, list_folder, read_first_page
from .searcher import prune_journal
from .storage import join
from .thumbs import Thumbs, record_hashes
from .tree import Tree

log = logging.getLogger("lenslet.worker")

CHUNK = 16  # thumbnails per job: small enough to spread over threads, big enough to batch manifest writes
DEBOUNCE = 1.0  # seconds a rollup waits after it is asked for, so a burst of changes makes one
# ... and at least this many times as long as the last one took: every web process
# reloads the rollup after it changes, so a big gallery must not rebuild it often.
ROLLUP_SPACING = 10


class Seen(NamedTuple):
    """What the scanner knows of a folder since it last listed it."""

    mtime: float
    subdirs: tuple
    summary: dict


class Progress:
    """Counts thumbnails to make and made, and says how it goes."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.total = self.done = self.failed = 0
        self.started = None
        self.lock = threading.Lock()

    def add(self, count):
        with self.lock:
            if self.started is None or self.done + self.failed >= self.total:
                self.started, self.total, self.done, self.failed = self.clock(), 0, 0, 0
            self.total += count

    def tick(self, done=0, failed=0):
        with self.lock:
            self.done += done
            self.failed += failed

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
        return self.done + self.failed < self.total


class Runner:
    """Runs the jobs of the queue against the tree."""

    def __init__(self, config, storage, clock=time.time):
        self.storage = storage
        self.tree = Tree(config, storage)
        self.folders = Folders(self.tree, config, clock)
        self.thumbs = Thumbs(self.tree, config, clock)
        self.clock = clock
        self.progress = Progress()
        self.made = 0         # thumbnails this runner made
        self.errors = {}      # path -> reason, for files whose thumbnail failed
        self.runs = {}        # job kind -> when one last finished
        self.stats = {}       # what the last rollup counted
        self.scan = {}        # folder -> summary, kept by the scanner
        self.rollup_took = 0.0

    def run(self, job):
        kind, path = job["kind"], job["path"]
        if kind == "index":
            self.index(path)
        elif kind == "thumbs":
            self.make_thumbs(path, job.get("names", []))
        elif kind == "thumb":
            folder, _, name = path.rpartition("/")
            self.make_thumbs(folder, [name])
        elif kind == "rollup":
            self.rollup()
        elif kind == "health":
            self.health()
        self.runs[kind] = self.clock()

    def index(self, folder):
        """Bring a folder's manifest up to date and queue its missing thumbnails."""
        try:
            self.folders.refresh(self.storage, folder, None)
        except NotFound:
            return  # the folder went away since it was queued
        missing = [item["name"] for item in tasks.stored_items(self.storage, folder)
                   if not item.get("hasThumb") and not item.get("error")
                   and join(folder, item["name"]) not in self.errors]
        self.progress.add(len(missing))
        for start in range(0, len(missing), CHUNK):
            names = missing[start:start + CHUNK]
            jobs.enqueue(self.storage, "thumbs", folder, self.clock, part=names[0], names=names)
        jobs.enqueue(self.storage, "rollup", "", self.clock)

    def make_thumbs(self, folder, names):
        """Make the thumbnails of some images of one folder, then record their hashes in one pass."""
        digests = {}
        for name in names:
            key = join(folder, name)
            try:
                image = self.storage.stat(key)
                if self.thumbs.fresh(self.storage, key, image) is None:
                    digests[name] = self.thumbs.make(self.storage, key)
                    self.made += 1
                self.errors.pop(key, None)
                self.progress.tick(done=1)
            except NotFound:
                self.progress.tick(done=1)  # removed since it was queued
            except LensletError as ex:
                self.errors[key] = ex.description
                self.progress.tick(failed=1)
        if digests:
            record_hashes(self.storage, folder, digests)
            jobs.enqueue(self.storage, "rollup", "", self.clock)

    def rollup(self):
        built_at = self.clock()
        self.stats = tasks.build_rollup(self.storage, self.clock)
        self.rollup_took = self.clock() - built_at
        prune_journal(self.storage, built_at)
        jobs.enqueue(self.storage, "health", "", self.clock)

    def due(self, job):
        """Whether a queued job may run now (a rollup waits for its burst to settle)."""
        if job.get("kind") != "rollup":
            return True
        return self.clock() >= job.get("queuedAt", 0) + max(DEBOUNCE, ROLLUP_SPACING * self.rollup_took)
        jobs.enqueue(self.storage, "health", "", self.clock)

    def health(self):
        backlog = jobs.backlog(self.storage)
        backlog["health"] = backlog.get("health", 1) - 1  # not counting this very job
        report = tasks.health_report(self.stats, self.scan, self.errors, {k: v for k, v in backlog.items() if v},
                                     self.runs, self.clock)
        self.storage.write_derived(tasks.HEALTH, orjson.dumps(report))


class Scanner:
    """Walks the tree and queues index jobs for folders that changed, reading no image."""

    def __init__(self, runner, clock=time.time):
        self.runner = runner
        self.storage = runner.storage
        self.clock = clock
        self.seen = {}

    def scan(self, deep=False):
        """Walk the tree; a folder whose mtime is unchanged is not listed again unless deep.

        Returns how many folders are new, gone or different in what health reports.
        """
        changed, visited, stack = 0, set(), [""]
        while stack:
            key = stack.pop()
            visited.add(key)
            known, mtime = self.seen.get(key), None
            if self.storage.folder_mtimes:  # a bucket has none: there every scan lists every folder
                try:
                    mtime = self.storage.stat(key).mtime
                except LensletError:
                    continue
                if known is not None and not deep and known.mtime == mtime:
                    stack.extend(known.subdirs)
                    continue
            try:
                self.seen[key] = self.look(key, mtime)
            except (NotFound, LensletError) as ex:
                log.warning("cannot scan %r: %s", key, getattr(ex, "description", ex))
                continue
            # Our own writes (manifests, thumbnails, reports) move folder mtimes too:
            # only a different summary is news for the health report.
            changed += known is None or known.summary != self.seen[key].summary
            stack.extend(self.seen[key].subdirs)
        for key in set(self.seen) - visited:
            del self.seen[key]
            self.runner.scan.pop(key, None)
            changed += 1
        if changed:
            jobs.enqueue(self.storage, "health", "", self.clock)
        return changed

    def look(self, key, mtime):
        """List one folder: queue an index job if its manifest is stale, and note what health wants."""
        listing = list_folder(self.storage, key)
        summary = {"images": len(listing.images),
                   "orphanSidecars": [join(key, name) + manifests.SIDECAR
                                      for name in listing.sidecars if name not in listing.images],
                   "orphanThumbs": [join(key, name) + manifests.THUMB
                                    for name in listing.thumbs if name not in listing.images]}
        if listing.pointer and key:
            summary["pointer"] = self.check_pointer(key)
            self.runner.scan[key] = summary
            return Seen(mtime, (), summary)  # a pointer's target is not this tree's to scan
        first = read_first_page(self.storage, key, listing)
        pages = manifests.page_count(len(listing.images), self.runner.folders.page_size)
        if first is None or first["sig"] != listing.signature or first["pageCount"] != pages:
            jobs.enqueue(self.storage, "index", key, self.clock)
        self.runner.scan[key] = summary
        return Seen(mtime, tuple(join(key, name) for name in listing.dirs), summary)

    def check_pointer(self, key):
        try:
            self.runner.tree.pointers.pop((self.storage.identity, key), None)
            self.runner.tree.locate(key)
            return "ok"
        except PointerLoop as ex:
            return {"problem": "loop", "chain": ex.fields.get("chain")}
        except (BrokenPointer, Forbidden) as ex:
            return {"problem": "broken", "reason": ex.description}


def next_job(storage, worker, lease, clock=time.time, ready=None):
    """Claim the most urgent due job nobody holds; (name, job) or (None, None)."""
    for name in jobs.waiting(storage):
        job = jobs.claim(storage, name, worker, lease, clock, ready)
        if job is not None:
            return name, job
    return None, None


def drain(runner, worker, lease=3600, ran=None):
    """Run queued jobs until none is left (a one-shot index; tests and benchmarks)."""
    while True:
        name, job = next_job(runner.storage, worker, lease, runner.clock)
        if name is None:
            return runner
        if ran is not None:
            ran.append((name, job["queuedAt"]))
        run_one(runner, name, job)


def run_one(runner, name, job):
    """Run a claimed job; a failure is logged and counted, never raised: the worker goes on."""
    try:
        runner.run(job)
    except LensletError as ex:
        log.error("job %s %r failed: %s", job["kind"], job["path"], ex.description)
    except Exception:  # noqa: BLE001 - a bug in one job must not stop the others
        log.exception("job %s %r crashed", job["kind"], job["path"])
    jobs.finish(runner.storage, name)
