"""Thumbnail processes: an original's bytes in, WebP and content hash out."""

import atexit
import collections
import io
import math
import multiprocessing
import multiprocessing.connection
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress

from lenslet import errors, memory
from lenslet.images import pillow
from lenslet.images.budget import Pixels

HEAP_KEPT = 256 << 20  # free heap a child keeps for the next big image: fewer page faults
POOL_PIXELS = 40_000_000  # decoded pixels of all processes at once
KEEP_HEAP_BELOW = 24_000_000  # trim the heap after a costlier decode: such pictures are rare


def process_count(setting):
    """Return how many processes a LENSLET_THUMB_PROCESSES value means."""
    if setting != "auto":
        return int(setting)
    try:
        return max(1, len(os.sched_getaffinity(0)))  # honours taskset and cpusets
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def make(data, size, quality, max_pixels, xmp=None):
    """Return (WebP bytes, content hash) of an original's bytes."""
    digest = pillow.content_hash(data)
    thumb = pillow.make_thumbnail(io.BytesIO(data), size, quality, max_pixels, xmp=xmp)
    if pillow.decode_cost(data, size) > KEEP_HEAP_BELOW:
        memory.trim()
    return thumb, digest


def _make_in_child(maker, data, size, quality, max_pixels, xmp):
    # Pickling loses a LensletError's fields: send plain data.
    try:
        return "made", maker(data, size, quality, max_pixels, xmp)
    except errors.LensletError as ex:
        return "failed", (type(ex).__name__, ex.description, ex.fields)
    except MemoryError:
        return "failed", ("Undecodable", "not enough memory to decode the image", {})


def rebuilt(name, description, fields):
    kind = getattr(errors, name, None)
    if not (isinstance(kind, type) and issubclass(kind, errors.LensletError)):
        kind = errors.Undecodable
    try:
        return kind(description, **fields)
    except TypeError:  # a subclass whose fields are also arguments
        return kind(description)


def start_child():
    _end_with_parent()
    memory.keep_heap(HEAP_KEPT)
    # When memory runs out, the kernel should kill a thumbnail maker, not the worker.
    with suppress(OSError), open("/proc/self/oom_score_adj", "w") as f:
        f.write("1000")


def _end_with_parent():
    """End this child when its parent ends, even if the parent was killed."""
    parent, first = multiprocessing.parent_process(), os.getppid()

    def watch():
        if parent is not None:
            multiprocessing.connection.wait([parent.sentinel])
        else:
            while os.getppid() == first:  # poll the parent's pid
                time.sleep(1.0)
        os._exit(0)
    threading.Thread(target=watch, name="lenslet-parent-watch", daemon=True).start()


def spawn_context():
    # Spawn, never fork (the worker has threads); forkserver ignores the caller's sys.path.
    return multiprocessing.get_context("spawn")


def ready():
    return True


STARTS = 3  # processes started afresh, a pause growing between them, before giving up


def start_alone(initializer=start_child, initargs=(), what="thumbnail processes"):
    """Start one process of its own, started afresh when one dies as it starts: no fault of the work it is for."""
    for attempt in range(STARTS):
        time.sleep(attempt * 0.5)
        solo = ProcessPoolExecutor(1, mp_context=spawn_context(), initializer=initializer, initargs=initargs)
        try:
            solo.submit(ready).result()
            return solo
        except BrokenProcessPool:
            solo.shutdown(wait=False)
    raise errors.Unavailable(f"{what} die as they start")


class ThumbPool:
    """A lazily started pool of thumbnail processes."""

    def __init__(self, processes, size, quality, max_pixels, maker=make, idle=None):
        if idle is None:  # imported here: the settings would cost each thumbnail process as it starts
            from lenslet.config import THUMB_IDLE as idle
        self.processes = processes
        self.size, self.quality, self.max_pixels = size, quality, max_pixels
        self.maker = maker  # a module-level function, so a child can import it
        self.idle = idle  # seconds idle before the processes end; 0: never
        self.lock = threading.Lock()
        self.alone = threading.Lock()  # one suspect at a time
        self.executor = None
        self.restarts = self.in_flight = 0
        self.room = threading.Semaphore(2 * max(1, processes))  # originals read ahead
        self.pixels = Pixels(POOL_PIXELS)
        self.last_done = time.monotonic()

    def submit(self, data, xmp=None):
        """Return a Ticket once the decode fits the pool's pixel budget."""
        cost = pillow.decode_cost(data, self.size)
        self.pixels.take(cost, math.inf)
        return self._ticket(data, xmp, cost)

    def make(self, data, xmp=None):
        return self.submit(data, xmp).result()

    def _ticket(self, data, xmp, cost):
        try:
            return Ticket(self, data, xmp, cost)
        except BaseException:
            self.pixels.give(cost)
            raise

    def make_each(self, items, read):
        """Yield (item, (WebP bytes, hash) or a LensletError) in order."""
        ahead = collections.deque()
        try:
            for item in items:
                while not self.room.acquire(blocking=not ahead):  # one read-ahead limit for all callers
                    yield from self._settle_oldest(ahead)
                try:
                    try:
                        data, xmp = read(item)
                    except errors.LensletError as ex:
                        ahead.append((item, ex))
                        continue
                    cost = pillow.decode_cost(data, self.size)
                    # Settle our own tickets first, or wait for ever on our own pixels.
                    while not self.pixels.take(cost, None if ahead else math.inf):
                        yield from self._settle_oldest(ahead)
                    ahead.append((item, self._try(lambda data=data, xmp=xmp, cost=cost: self._ticket(data, xmp, cost))))
                except BaseException:
                    self.room.release()
                    raise
            while ahead:
                yield from self._settle_oldest(ahead)
        finally:
            for _, ticket in ahead:  # stopped early: give back room and pixels
                if isinstance(ticket, Ticket):
                    ticket.settled()
                self.room.release()

    def _settle_oldest(self, ahead):
        item, ticket = ahead.popleft()
        try:
            yield item, ticket if isinstance(ticket, errors.LensletError) else self._try(ticket.result)
        finally:
            self.room.release()

    @staticmethod
    def _try(start):
        try:
            return start()
        except errors.LensletError as ex:
            return ex

    def close(self):
        """Stop the processes; the pool restarts on next use."""
        with self.lock:
            executor, self.executor = self.executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _send(self, data, xmp):
        for _ in range(3):
            with self.lock:
                if self.executor is None:
                    self.executor = ProcessPoolExecutor(self.processes, mp_context=spawn_context(),
                                                        initializer=start_child)
                    if self.idle:
                        threading.Thread(target=self._end_when_idle, args=(self.executor,),
                                         name="lenslet-pool-idle", daemon=True).start()
                executor = self.executor
                self.in_flight += 1  # under the lock, so an idle end never cuts a job
            try:
                future = executor.submit(_make_in_child, self.maker, data, self.size, self.quality,
                                         self.max_pixels, xmp)
            except BrokenProcessPool:
                self._done()
                self._replace(executor)
                continue
            future.add_done_callback(self._done)
            return executor, future
        raise errors.Unavailable("thumbnail processes keep dying on start")

    def _done(self, future=None):
        with self.lock:
            self.in_flight -= 1
            self.last_done = time.monotonic()

    def _end_when_idle(self, executor):
        while True:
            with self.lock:
                if self.executor is not executor:
                    return
                left = self.idle if self.in_flight else self.idle - (time.monotonic() - self.last_done)
                if left <= 0:
                    self.executor = None
                    break
            time.sleep(max(left, 0.05))
        executor.shutdown(wait=True)

    def _replace(self, executor):
        with self.lock:
            if self.executor is not executor:
                return
            self.executor = None
            self.restarts += 1
        executor.shutdown(wait=False, cancel_futures=True)

    def _run_alone(self, data, xmp):
        with self.alone, start_alone() as solo:
            try:
                return solo.submit(_make_in_child, self.maker, data, self.size, self.quality, self.max_pixels,
                                   xmp).result()
            except BrokenProcessPool:
                return "failed", ("Undecodable", "the process making the thumbnail died on this image "
                                  "(too large for the memory?)", {})


class Ticket:
    """A thumbnail being made."""

    def __init__(self, pool, data, xmp=None, cost=0):
        self.pool, self.data, self.xmp = pool, data, xmp
        self.cost = cost  # pixels held until settled
        self.outcome = None
        if pool.processes == 0:
            self.outcome = _make_in_child(pool.maker, data, pool.size, pool.quality, pool.max_pixels, xmp)
            self.settled()
        else:
            self.executor, self.future = pool._send(data, xmp)

    def settled(self):
        """Give the pool's pixels back, once."""
        cost, self.cost = self.cost, 0
        if cost:
            self.pool.pixels.give(cost)

    def result(self):
        """Return (WebP bytes, hash), or raise the image's LensletError."""
        if self.outcome is None:
            try:
                self.outcome, self.data = self._wait(), None
            finally:
                self.settled()
        state, value = self.outcome
        if state == "failed":
            raise rebuilt(*value)
        return value

    def _wait(self):
        # A broken executor fails all its jobs: retry in a fresh executor, then alone.
        try:
            return self.future.result()
        except BrokenProcessPool:
            self.pool._replace(self.executor)
        try:
            executor, future = self.pool._send(self.data, self.xmp)
            return future.result()
        except BrokenProcessPool:
            self.pool._replace(executor)
        return self.pool._run_alone(self.data, self.xmp)


_shared = {}
_shared_lock = threading.Lock()


def shared(config, processes=None, size=None, quality=None):
    """Return the process's shared pool for these settings."""
    count = process_count(config.thumb_processes) if processes is None else processes
    ident = (count, size or config.thumb_size, quality or config.thumb_quality, config.max_pixels, config.thumb_idle)
    with _shared_lock:
        if ident not in _shared:
            if not _shared:
                atexit.register(_close_shared)
            _shared[ident] = ThumbPool(*ident[:4], idle=ident[4])
        return _shared[ident]


def _close_shared():
    for pool in list(_shared.values()):
        pool.close()
