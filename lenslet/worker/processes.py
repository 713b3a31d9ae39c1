"""Job processes: the worker runs its index and thumbnail jobs in these, so they use every core.

The worker's job threads still claim, renew and finish each job; a job process does the job's work with a runner
of its own and sends back what that runner counted (thumbnails to make, made, failed), which the worker's runner
counts as its own for progress lines and `/health`. Each job process decodes its images itself, one at a time,
in place of the thumbnail processes the worker would otherwise start."""

import dataclasses
import logging
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from lenslet import logs, memory, metrics
from lenslet.errors import LensletError, Undecodable
from lenslet.images import pool
from lenslet.layout import parent
from lenslet.storage import open_storage
from lenslet.worker.handlers import Runner

log = logging.getLogger("lenslet.worker")
DIED = "the process making its thumbnail died on this image (too large for the memory?)"


class JobProcesses:
    """A lazily started pool of job processes, ended once idle for LENSLET_THUMB_IDLE seconds."""

    def __init__(self, config, processes, clock=time.monotonic, work=None, start=None):
        self.config = dataclasses.replace(config, thumb_processes=0)  # a job process decodes in itself
        self.processes = processes
        self.work = work or run_here  # a module-level function, so a job process can import it
        self.start = start or _start_here  # the same
        self.idle = config.thumb_idle
        self.clock = clock
        self.lock = threading.Lock()
        self.alone = threading.Lock()  # one suspect at a time
        self.executor = None
        self.in_flight = 0
        self.last_done = clock()

    def index(self, runner, folders, rebuild):
        self._run(runner, "index", folders, rebuild)

    def make_thumbs(self, runner, keys):
        self._run(runner, "thumbs", keys)

    def _run(self, runner, kind, items, rebuild=False):
        executor = self._start()
        try:
            outcome = self._send(executor, runner, kind, items, rebuild).result()
        except BrokenProcessPool:
            self._replace(executor)
            return self._one_by_one(runner, kind, items, rebuild)
        finally:
            self._done()
        count(runner, *outcome)

    def _send(self, executor, runner, kind, items, rebuild):
        folders = set(items) if kind == "index" else {parent(key) for key in items}
        # what the worker's runner knows of these folders' images that failed
        failed = {key: seen for key, seen in list(runner.failed.items()) if parent(key) in folders}
        errored = [key for key in list(runner.errors) if parent(key) in folders]
        return executor.submit(self.work, kind, items, rebuild, failed, errored)

    def _one_by_one(self, runner, kind, items, rebuild):
        """After a job process died: each image (or folder) again alone, in a process of its own, so only the one a
        process dies on fails (not one beside it in another process)."""
        with self.alone:
            solo = None
            try:
                for item in items:
                    if solo is None:
                        solo = pool.start_alone(self.start, (self.config,), "job processes")
                    try:
                        outcome = self._send(solo, runner, kind, [item], rebuild).result()
                    except BrokenProcessPool:
                        solo.shutdown(wait=False)
                        solo = None
                        if kind == "index":
                            log.error("%s: the job process listing this folder died", item or "/")
                        else:
                            runner.tally(item, Undecodable(DIED))
                        continue
                    count(runner, *outcome)
            finally:
                if solo is not None:
                    solo.shutdown(wait=True)

    def _start(self):
        with self.lock:
            if self.executor is None:
                self.executor = ProcessPoolExecutor(self.processes, mp_context=pool.spawn_context(),
                                                    initializer=self.start, initargs=(self.config,))
            self.in_flight += 1
            return self.executor

    def _done(self):
        with self.lock:
            self.in_flight -= 1
            self.last_done = self.clock()

    def _replace(self, executor):
        with self.lock:
            if self.executor is executor:
                self.executor = None
        executor.shutdown(wait=False, cancel_futures=True)

    def end_if_idle(self):
        """End the processes once no job has run for the idle time (0: never); the next job starts them again."""
        with self.lock:
            executor = self.executor
            if executor is None or self.in_flight or not self.idle or self.clock() - self.last_done < self.idle:
                return
            self.executor = None
        executor.shutdown(wait=True)

    def close(self):
        with self.lock:
            executor, self.executor = self.executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


def count(runner, notes, made, error):
    """Count in the worker's runner what a job process's runner counted; raise the error its work raised."""
    for what, key, value in notes:
        if what == "add":
            runner.progress.add(key)
        elif what == "tick":
            runner.progress.tick(key, value)
        else:
            runner.tally(key, None if value is None else pool.rebuilt(*value))
    runner.made += made
    for _ in range(made):
        metrics.thumbnail("made")
    if error is not None:
        raise pool.rebuilt(*error)


# -- in a job process

_runner = None


class _Counting(Runner):
    """A job process's runner: what it counts is noted, for the worker's runner to count."""

    def begin(self, failed, errored):
        self.failed, self.errors, self.made, self.notes = dict(failed), dict.fromkeys(errored, ""), 0, []
        self.progress = _Noted(self.notes)

    def tally(self, key, error):
        self.notes.append(("tally", key, None if error is None else _plain(error)))


class _Noted:
    """Progress as a job process keeps it: noted."""

    def __init__(self, notes):
        self.notes = notes

    def add(self, keys):
        self.notes.append(("add", list(keys), None))

    def tick(self, key, failed=False):
        self.notes.append(("tick", key, failed))


def _plain(error):
    # Pickling loses a LensletError's fields: send plain data.
    return type(error).__name__, error.description, error.fields


def _start_here(config):
    global _runner
    pool.start_child()
    logs.setup(logging.INFO)
    memory.map_big_buffers()
    _runner = _Counting(config, open_storage(config))


def run_here(kind, items, rebuild, failed, errored):
    """Do an index or thumbnail job's work in this job process; return what its runner counted."""
    runner = _runner
    runner.begin(failed, errored)
    try:
        if kind == "index":
            runner.index_all(items, rebuild)
        else:
            runner.make_thumbs_of(items)
    except LensletError as ex:
        return runner.notes, runner.made, _plain(ex)
    return runner.notes, runner.made, None
