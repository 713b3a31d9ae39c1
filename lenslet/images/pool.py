"""Thumbnails on every core: processes that turn an original's bytes into (WebP bytes, hash).

Decoding and resizing hold the GIL for much of their time, so threads scale badly
(1.4x on two cores); processes scale with the cores. The children are spawned, never
forked: the worker has threads, and a fork copies their locks in whatever state
they are in.

A child that dies (a decompression bomb that the kernel kills for its memory, a
crash in a codec) breaks the whole executor; the pool then starts a new one and
runs the jobs that were in flight again, a suspect last of all alone in a process of
its own, so only the file that kills its process is answered with an error.
"""

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

from lenslet import errors, memory
from lenslet.config import THUMB_IDLE
from lenslet.images import decode
from lenslet.images.budget import Pixels

# A child serves big images all its life, and by default every big buffer is a
# fresh mmap whose pages fault one by one as they are first written (14% of the
# time on big PNGs, 1.1 million faults over the bench's 40). From the heap
# instead, and the heap kept up to this much free memory (memory.keep_heap), the
# next image reuses the pages: 15 times fewer faults, 10-18% less CPU on the PNGs.
HEAP_KEPT = 256 << 20
# The most pixels a pool's processes hold decoded at once, all together (budget.Pixels; about 4
# bytes a pixel, twice for a picture converted): two 4K RGBA screenshots (16.6 million each),
# or one 5120x2880 RGBA PNG (29.5 million) beside a smaller picture; photos decode small
# (JPEG's draft). Two processes each decoding a 5120x2880 RGBA PNG took `lenslet index` of real
# photos to 325-359 MB; with four cores, four at once would hold 600 MB. A picture above it
# is decoded alone. (At 32 million, two 4K RGBA screenshots waited for each other: PNGs 0.51x
# libvips in bench/pool.py.)
POOL_PIXELS = 40_000_000
# A process keeps its heap for the next picture (HEAP_KEPT), unless the last one cost more than
# this (a 5120x2880 RGBA PNG; a 4K RGBA screenshot is kept): such pictures are rare, and a
# heap kept at their size held 110-140 MB in each process for as long as it lived (`lenslet
# index` of real photos peaked at 343-362 MB with the heaps kept, 266-291 MB without).
KEEP_HEAP_BELOW = 24_000_000


def process_count(setting):
    """How many processes LENSLET_THUMB_PROCESSES asks for: auto is one per CPU this process may use."""
    if setting != "auto":
        return int(setting)
    try:
        return max(1, len(os.sched_getaffinity(0)))  # honours taskset and cpusets
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def make(data, size, quality, max_pixels, xmp=None):
    """Make one thumbnail from an original's bytes: (WebP bytes, "blake3:<hex>") or a LensletError.

    xmp: the record stamped into the thumbnail (what it was made from and how).
    """
    digest = decode.content_hash(data)
    thumb = decode.make_thumbnail(io.BytesIO(data), size, quality, max_pixels, xmp=xmp)
    if decode.decode_cost(data, size) > KEEP_HEAP_BELOW:
        memory.trim()
    return thumb, digest


def _make_in_child(maker, data, size, quality, max_pixels, xmp):
    # LensletError keeps its fields outside args, which pickling would lose: the
    # error crosses back as plain data and is rebuilt by the caller.
    try:
        return "made", maker(data, size, quality, max_pixels, xmp)
    except errors.LensletError as ex:
        return "failed", (type(ex).__name__, ex.description, ex.fields)
    except MemoryError:
        return "failed", ("Undecodable", "not enough memory to decode the image", {})


def _rebuild(name, description, fields):
    kind = getattr(errors, name, None)
    if not (isinstance(kind, type) and issubclass(kind, errors.LensletError)):
        kind = errors.Undecodable
    try:
        return kind(description, **fields)
    except TypeError:  # a subclass whose fields are also arguments (Unavailable's retryAfter)
        return kind(description)


def _start_child():
    _end_with_parent()
    memory.keep_heap(HEAP_KEPT)
    try:
        # When memory runs out, the kernel should kill a thumbnail maker, not the worker.
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    except OSError:
        pass


def _end_with_parent():
    """End this child as soon as the process that started it has ended, however it ended.

    A worker killed (SIGKILL, the OOM killer) never shuts its pool down: its children
    would live on, and with them multiprocessing's resource tracker, which ends only
    once every holder of its pipe has. A spawned child holds the read end of a pipe
    whose write end only its parent has: it reads as closed the moment the parent is
    gone. (Not prctl's PR_SET_PDEATHSIG: that fires when the *thread* that started the
    child ends, and a pool is started by whichever job thread first needs it.)
    """
    parent = multiprocessing.parent_process()
    if parent is not None:
        def wait():
            multiprocessing.connection.wait([parent.sentinel])
    else:  # not started by multiprocessing: look at who our parent is, now and then
        first = os.getppid()

        def wait():
            while os.getppid() == first:
                time.sleep(1.0)

    def watch():
        wait()
        os._exit(0)
    threading.Thread(target=watch, name="lenslet-parent-watch", daemon=True).start()


def _context():
    # spawn, not forkserver: on Python 3.11 the fork server ignores the caller's
    # sys.path, so what it preloads may be another copy of lenslet than the
    # caller's. A spawned child starts in about 0.2 s, once per pool.
    return multiprocessing.get_context("spawn")


def _ready():
    return True


class ThumbPool:
    """A lazily started pool of thumbnail processes, shared by every thread of a process."""

    def __init__(self, processes, size, quality, max_pixels, maker=make, idle=THUMB_IDLE):
        self.processes = processes
        self.size, self.quality, self.max_pixels = size, quality, max_pixels
        self.maker = maker  # a module-level function, so a child can import it
        self.idle = idle  # seconds without a job before the processes end; 0: never
        self.lock = threading.Lock()
        self.alone = threading.Lock()  # one suspect at a time, in a process of its own
        self.executor = None
        self.restarts = 0
        self.in_flight = 0  # jobs handed to the executor and not done (under lock)
        self.room = threading.Semaphore(2 * max(1, processes))  # originals read ahead, all callers together
        self.pixels = Pixels(POOL_PIXELS)  # what the processes decode at once, all callers together
        self.last_done = time.monotonic()

    def submit(self, data, xmp=None):
        """Start making a thumbnail once its decode fits the pool's pixels (waiting for others' to
        end); the returned Ticket's result() gives (WebP bytes, hash)."""
        cost = decode.decode_cost(data, self.size)
        self.pixels.take(cost, math.inf)
        return self._ticket(data, xmp, cost)

    def make(self, data, xmp=None):
        """Make a thumbnail and hash from an original's bytes, waiting for it."""
        return self.submit(data, xmp).result()

    def _ticket(self, data, xmp, cost):
        """A Ticket for a decode whose pixels are taken: given back when it is settled, or now if it
        cannot start."""
        try:
            return Ticket(self, data, xmp, cost)
        except BaseException:
            self.pixels.give(cost)
            raise

    def make_each(self, items, read):
        """Yield (item, (WebP bytes, hash) or the LensletError it met) for each item, in order.

        read(item) gives an original's bytes and the XMP record to stamp (or None).
        Only a few originals are read ahead (two per process, for all callers
        together), so a folder of big photos is never all in memory at once.
        """
        ahead = collections.deque()
        try:
            for item in items:
                # The read-ahead is the pool's, not each caller's: the worker's job threads
                # each holding their own would hold that many originals more (80 MB of
                # photos at the peak of bench/memory.py).
                while not self.room.acquire(blocking=not ahead):
                    yield from self._settle_oldest(ahead)
                try:
                    try:
                        data, xmp = read(item)
                    except errors.LensletError as ex:
                        ahead.append((item, ex))
                        continue
                    cost = decode.decode_cost(data, self.size)
                    # Settling this caller's own tickets gives their pixels back: waiting first
                    # could wait for ever on pixels only this thread would give back.
                    while not self.pixels.take(cost, None if ahead else math.inf):
                        yield from self._settle_oldest(ahead)
                    ahead.append((item, self._try(lambda data=data, xmp=xmp, cost=cost: self._ticket(data, xmp, cost))))
                except BaseException:
                    self.room.release()
                    raise
            while ahead:
                yield from self._settle_oldest(ahead)
        finally:
            for _, ticket in ahead:  # a caller that stopped early: its tickets' room and pixels are given back
                if isinstance(ticket, Ticket):
                    ticket.settled()
                self.room.release()

    def _settle_oldest(self, ahead):
        item, ticket = ahead.popleft()
        try:
            yield self._settle(item, ticket)
        finally:
            self.room.release()

    @staticmethod
    def _try(start):
        try:
            return start()
        except errors.LensletError as ex:
            return ex

    def _settle(self, item, ticket):
        return item, ticket if isinstance(ticket, errors.LensletError) else self._try(ticket.result)

    def close(self):
        """Stop the processes, dropping jobs not yet started; the pool starts again on next use."""
        with self.lock:
            executor, self.executor = self.executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _send(self, data, xmp):
        """Hand data to a live executor: (executor, future)."""
        for _ in range(3):
            with self.lock:
                if self.executor is None:
                    self.executor = ProcessPoolExecutor(self.processes, mp_context=_context(),
                                                        initializer=_start_child)
                    if self.idle:
                        threading.Thread(target=self._end_when_idle, args=(self.executor,),
                                         name="lenslet-pool-idle", daemon=True).start()
                executor = self.executor
                self.in_flight += 1  # counted before the lock is let go: never ended under a job
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
        """End the executor's processes once no job has come for `idle` seconds (the next job
        starts new ones); return when it ended or was replaced."""
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
        """Drop a broken executor (once, whichever thread sees it first); the next job starts a new one."""
        with self.lock:
            if self.executor is not executor:
                return
            self.executor = None
            self.restarts += 1
        executor.shutdown(wait=False, cancel_futures=True)

    def _run_alone(self, data, xmp):
        with self.alone:
            with ProcessPoolExecutor(1, mp_context=_context(), initializer=_start_child) as solo:
                try:
                    solo.submit(_ready).result()
                except BrokenProcessPool:
                    # Dying before any image is no fault of this one's.
                    raise errors.Unavailable("thumbnail processes die as they start") from None
                try:
                    return solo.submit(_make_in_child, self.maker, data, self.size, self.quality,
                                       self.max_pixels, xmp).result()
                except BrokenProcessPool:
                    return "failed", ("Undecodable", "the process making the thumbnail died on this image "
                                      "(too large for the memory?)", {})


class Ticket:
    """A thumbnail being made; result() waits for it in the calling thread."""

    def __init__(self, pool, data, xmp=None, cost=0):
        self.pool, self.data, self.xmp = pool, data, xmp
        self.cost = cost  # the pool's pixels this decode holds until settled
        self.outcome = None
        if pool.processes == 0:
            self.outcome = _make_in_child(pool.maker, data, pool.size, pool.quality, pool.max_pixels, xmp)
            self.settled()
        else:
            self.executor, self.future = pool._send(data, xmp)

    def settled(self):
        """Give the pool's pixels back (once): the decode ended, or nobody waits for it any more."""
        cost, self.cost = self.cost, 0
        if cost:
            self.pool.pixels.give(cost)

    def result(self):
        """(WebP bytes, "blake3:<hex>"), or raise the LensletError the image deserves."""
        if self.outcome is None:
            try:
                self.outcome, self.data = self._wait(), None
            finally:
                self.settled()
        state, value = self.outcome
        if state == "failed":
            raise _rebuild(*value)
        return value

    def _wait(self):
        # A broken executor fails every job it held, not only the one that killed it:
        # each is tried once more in a fresh executor, then alone.
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
    """The process's one pool for these settings (the worker's job threads and `lenslet index`
    share it), closed when the process exits; processes: how many, when not the settings' count;
    size and quality: of what it makes, when not thumbnails (previews)."""
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
