"""The worker process: a scanner, job threads, and a loop for heartbeats and leases."""

import logging
import os
import signal
import threading
import time

from lenslet import cpu_priority, health, jobs, logs, memory, metrics
from lenslet.config import Config
from lenslet.errors import LensletError, NotFound, Unavailable
from lenslet.files import operations
from lenslet.images import pool
from lenslet.storage import open_storage
from lenslet.worker.handlers import Runner, run_one
from lenslet.worker.processes import JobProcesses
from lenslet.worker.scanner import Scanner

log = logging.getLogger("lenslet.worker")
PROGRESS_EVERY = 5.0  # seconds between progress lines
IDLE_POLL = 0.2       # seconds a job thread waits when the queue is empty
IDLE_POLL_BUCKET = 2.0  # most seconds an idle job thread waits between looks at a bucket's queue
BACKOFF_MAX = 30.0    # most seconds a job thread backs off
TRASH_EVERY = 3600.0  # seconds between looks at the trash


class Worker:
    def __init__(self, config, storage, parent_pid=None, clock=time.time):
        self.config = config
        self.storage = storage
        self.parent_pid = parent_pid
        self.clock = clock
        self.wid = health.worker_id()
        self.started_at = clock()
        self.last_beat = self.last_recover = self.last_progress = self.last_renew = self.last_trash = 0.0
        self.last_batch = None  # (started, finished) of the batch last logged
        self.in_hand = set()  # jobs being run, whose leases the loop renews
        self.stopping = threading.Event()
        self.runner = Runner(config, storage, clock)
        processes = pool.process_count(config.thumb_processes)
        if processes:  # 0: every job in the worker's own threads
            self.runner.elsewhere = JobProcesses(config, processes)
        self.scanner = Scanner(self.runner, clock, stopping=self.stopping)
        self.cursor = jobs.Cursor(storage)

    def run(self):
        """Run until asked to stop; the job in hand is finished, the rest stays queued."""
        # a thread for each job process at least: a thread waits while its job runs there
        count = max(self.config.worker_threads, self.runner.elsewhere.processes if self.runner.elsewhere else 0)
        threads = [threading.Thread(target=self.drain, name=f"lenslet-job-{n}") for n in range(count)]
        threads.append(threading.Thread(target=self.scan, name="lenslet-scanner"))
        for thread in threads:
            thread.start()
        log.info("worker %s running %d job threads on %r", self.wid, count, self.storage)
        try:
            while not self.stopping.is_set():
                for chore in (self.beat, self.renew, self.recover, self.empty_trash, self.report_progress):
                    chore()
                if self.runner.elsewhere is not None:
                    self.runner.elsewhere.end_if_idle()
                if self.parent_pid is not None and os.getppid() != self.parent_pid:
                    log.warning("worker %s: parent %s is gone; exiting", self.wid, self.parent_pid)
                    break
                self.stopping.wait(min(self.config.heartbeat, 1.0))
        finally:
            self.stopping.set()  # also on an error: the threads must not outlive the loop
            for thread in threads:
                thread.join(timeout=30)
            if self.runner.elsewhere is not None:
                self.runner.elsewhere.close()
        health.clear_heartbeat(self.storage, self.wid)
        log.info("worker %s stopped", self.wid)

    def drain(self):
        pause, idle, worked = IDLE_POLL, IDLE_POLL, False
        while not self.stopping.is_set():
            try:
                name, job = self.runner.take(self.cursor, self.wid, self.config.job_lease, self.runner.due)
            except LensletError as ex:  # storage busy or unreachable: back off
                pause = min(BACKOFF_MAX, pause * 2)
                log.error("cannot read the job queue: %s; waiting %.1fs", ex.description, pause)
                self.stopping.wait(pause)
                continue
            pause = IDLE_POLL
            if name is None:
                if worked:  # the queue ran dry: give freed memory back
                    memory.trim()
                    worked = False
                    try:
                        self.runner.queue_ran_dry()
                    except LensletError as ex:
                        log.error("cannot ask for a health report: %s", ex.description)
                self.stopping.wait(idle)
                if not self.storage.folder_mtimes:  # a bucket bills each listing: looked at ever less often
                    idle = min(idle * 2, IDLE_POLL_BUCKET)
                continue
            idle, worked = IDLE_POLL, True
            self.in_hand.add(name)
            try:
                run_one(self.runner, name, job)
            finally:
                self.in_hand.discard(name)

    def scan(self):
        """Scan the tree, then follow its change notices where the storage gives them, else poll;
        a deep scan now and then catches what no notice told."""
        watch = self.storage.watch() if self.config.watch else None
        self.scanner.watch = watch
        log.info("worker %s: %s", self.wid, "watching the tree for changes" if watch else "polling the tree")
        deep_at, full, unavailable = 0.0, True, False
        while not self.stopping.is_set():
            deep = unavailable or self.clock() - deep_at >= self.config.deep_scan
            try:
                if watch is not None and watch.full:
                    log.warning("fs.inotify.max_user_watches reached: polling the tree (docs/operations.md)")
                    watch.close()
                    watch = self.scanner.watch = None
                if watch is None or deep or full:
                    self.scanner.scan(deep=deep)
                    if unavailable:
                        log.warning("worker %s: the storage is back", self.wid)
                        unavailable = False
                    # the first scan: every folder is known now
                    if not deep_at and self.runner.sweep_thumbs(self.scanner.folders()):
                        log.info("thumbnail settings changed: thumbnails made otherwise are made again, last")
                    if self.scanner.unplaced:
                        log.info("%d folders were listed by a lenslet that kept no positions or another places table: "
                                 "their places are named again, last", self.runner.sweep_places(self.scanner.unplaced))
                        self.scanner.unplaced.clear()
                    deep_at, full = (self.clock() if deep else deep_at), False
                    if watch is not None:
                        continue  # notices from here on
                else:
                    changed, full = watch.changes(timeout=min(1.0, self.config.scan_interval))
                    if (changed or self.scanner.postponed) and not full:
                        self.scanner.scan_changed(changed)
                    continue  # changes() waited
            except Unavailable as ex:
                # a share unmounted, say: forget nothing, and list every folder again once it is back
                if not unavailable:
                    log.error("worker %s: %s; waiting for it", self.wid, ex.description)
                unavailable = full = True
            except Exception:  # noqa: BLE001 - a scan that failed is tried again next time
                log.exception("scan failed")
                full = True
            interval = self.config.scan_interval if watch is None else 1.0  # with a watch, only after a failure
            self.stopping.wait(interval if self.storage.folder_mtimes else max(interval, self.config.s3_scan_interval))
        if watch is not None:
            watch.close()

    def beat(self):
        if self.clock() - self.last_beat < self.config.heartbeat:
            return
        try:
            backlog = sum(jobs.backlog(self.storage).values())
            health.write_heartbeat(self.storage, self.wid, self.started_at, backlog, clock=self.clock)
            self.last_beat = self.clock()
        except LensletError as ex:
            log.error("worker %s: cannot write heartbeat: %s", self.wid, ex.description)

    def renew(self):
        """Extend the leases of the jobs in hand, so a slow one is not taken for a dead worker's."""
        if self.clock() - self.last_renew < self.config.job_lease / 4:
            return
        self.last_renew = self.clock()
        for name in list(self.in_hand):
            try:
                renewed = jobs.renew(self.storage, name, self.wid, self.config.job_lease, self.clock)
            except NotFound:
                renewed = False
            except LensletError as ex:
                log.error("cannot renew the lease of job %s: %s", name, ex.description)
                continue
            if not renewed and name in self.in_hand:  # not one finished meanwhile
                log.warning("worker %s: lost the claim of job %s while running it", self.wid, name)

    def recover(self):
        if self.clock() - self.last_recover < self.config.job_lease / 4:
            return
        self.last_recover = self.clock()
        try:
            if jobs.recover(self.storage, self.clock):
                log.warning("requeued jobs whose worker stopped answering")
        except LensletError as ex:
            log.error("cannot recover jobs: %s", ex.description)
        if not self.storage.readonly:
            try:
                operations.recover(self.storage, self.clock)  # moves a killed process left half done
            except LensletError as ex:
                log.error("cannot settle interrupted moves: %s", ex.description)

    def empty_trash(self):
        """Delete images trashed more than LENSLET_TRASH_DAYS ago, now and then."""
        days = self.config.trash_days
        # a short trash period (tests, a demo) is checked every tenth of it
        every = max(1.0, min(TRASH_EVERY, days * 86400 / 10))
        if days <= 0 or self.storage.readonly or self.clock() - self.last_trash < every:
            return
        self.last_trash = self.clock()
        try:
            self.runner.empty_trash()
        except LensletError as ex:
            log.error("cannot look at the trash: %s", ex.description)

    def report_progress(self):
        progress = self.runner.progress
        if progress.busy:
            if self.clock() - self.last_progress < PROGRESS_EVERY:
                return
            self.last_progress = self.clock()
            if not self.no_thumbnail_jobs():
                log.info("%s", progress.line())
                return
            progress.settle()  # what it waited for was done elsewhere, or set aside
        batch = (progress.started, progress.done + progress.failed)
        if batch[1] and batch != self.last_batch:
            self.last_batch = batch
            log.info("%s: done", progress.line())  # even for a short batch

    def no_thumbnail_jobs(self):
        """Whether no job that makes thumbnails is queued or running, here or in another worker."""
        try:
            backlog = jobs.backlog(self.storage)
        except LensletError:
            return False
        return not any(backlog.get(kind) for kind in ("index", "thumbs", "missing", "rethumb", "places"))

    def ask_to_stop(self, signum, frame):
        self.stopping.set()  # only a flag here; the loop does the work


def main():
    logs.setup(logging.INFO)
    memory.map_big_buffers()  # originals sent to thumbnail processes go back when freed
    try:
        config = Config.from_env()
        cpu_priority.run_below_people(config.worker_nice)  # before any thread starts
        metrics.check(config)
        storage = open_storage(config)
    except LensletError as ex:
        log.error("%s", ex.description)
        return 2
    if config.metrics:
        metrics.enable("worker")
    parent = os.environ.get("LENSLET_PARENT_PID")
    worker = Worker(config, storage, parent_pid=int(parent) if parent else None)
    signal.signal(signal.SIGTERM, worker.ask_to_stop)
    signal.signal(signal.SIGINT, worker.ask_to_stop)
    worker.run()
    return 0

