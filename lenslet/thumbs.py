"""Thumbnails (`foo.jpg.thumbnail`): served when fresh, made inline within a budget, else
queued for the worker. The only module that reads or writes them."""

import io
import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future
from concurrent.futures import TimeoutError as WaitedTooLong

from . import images, metrics
from .errors import LensletError, NotFound, Unavailable
from .items import record_hash
from .layout import thumb_of
from .originals import content_hash
from .worker import queue

log = logging.getLogger("lenslet")
CACHED_THUMBS = 2000  # per web process: about 10-20 MB of WebP


class Pending(Unavailable):
    """The thumbnail is queued; the answer is 202 with where to ask again."""

    status = 202
    title = "Thumbnail on its way"


class Thumbs:
    def __init__(self, tree, config, clock=time.time):
        self.tree = tree
        self.size = config.thumb_size
        self.quality = config.thumb_quality
        self.max_pixels = config.max_pixels
        self.wait = config.thumb_wait
        self.slots = threading.BoundedSemaphore(config.thumb_inline) if config.thumb_inline else None
        self.clock = clock
        self.inflight = {}  # (identity, key) -> Future shared by requests for one thumbnail
        self.cache = OrderedDict()  # (identity, thumbnail key) -> (bytes, stat), oldest first
        self.lock = threading.Lock()

    def fresh(self, storage, key, image):
        """Return (bytes, stat) of the thumbnail if it exists and is not older than the image, else None."""
        name = storage.derived_key(thumb_of(key))
        try:
            stat = storage.stat(name)
        except NotFound:
            return None
        if stat.mtime < image.mtime:
            return None
        # A grid is viewed again and again: keep the latest thumbnails read (first in, first
        # out), each valid while its file's stat is the same.
        cached = self.cache.get((storage.identity, name))
        if cached is not None and cached[1] == stat:
            return cached
        data, stat = storage.read_with_stat(name)
        # Thumbnails are written without fsync: one torn by a power cut is made again.
        if data[:4] != b"RIFF":
            return None
        with self.lock:
            self.cache[(storage.identity, name)] = (data, stat)
            if len(self.cache) > CACHED_THUMBS:
                self.cache.popitem(last=False)
        return data, stat

    def get(self, path):
        """Return (bytes, stat) of a fresh thumbnail, making it (or waiting for it) when needed."""
        place, image = self.tree.locate_image(path)
        storage, key = place.storage, place.key
        found = self.fresh(storage, key, image)
        if found is None:
            try:
                self.make_or_wait(path, storage, key, image)
            except Pending:
                metrics.thumb_request("queued")
                raise
            metrics.thumb_request("made")
            found = storage.read_with_stat(storage.derived_key(thumb_of(key)))
        else:
            metrics.thumb_request("hit")
        return found

    def make_or_wait(self, path, storage, key, image):
        """Make a missing thumbnail inline, or wait for whoever makes it, up to the deadline."""
        deadline = self.clock() + self.wait
        slot = (storage.identity, key)
        with self.lock:
            shared = self.inflight.get(slot)
            leader = shared is None
            if leader:
                shared = self.inflight[slot] = Future()
        if not leader:
            try:
                shared.result(timeout=max(0.0, deadline - self.clock()))
                return
            except WaitedTooLong:
                self._queue(path, storage, key)
        try:
            if self._take_slot(storage, key, image, deadline):
                try:
                    if self.fresh(storage, key, image) is None:  # the worker may have beaten us
                        record_hash(storage, key, self.make(storage, key))
                finally:
                    self.slots.release()
            elif self.fresh(storage, key, image) is None:
                self._queue(path, storage, key)
            shared.set_result(None)
        except BaseException as ex:
            shared.set_exception(ex)
            raise
        finally:
            with self.lock:
                self.inflight.pop(slot, None)

    def _take_slot(self, storage, key, image, deadline):
        """Wait for an inline slot until the deadline, giving up early if the thumbnail appears."""
        if self.slots is None:
            return False
        while True:
            left = deadline - self.clock()
            if self.slots.acquire(timeout=max(0.0, min(left, 0.05))):
                return True
            if left <= 0 or self.fresh(storage, key, image) is not None:
                return False

    def _queue(self, path, storage, key):
        try:
            queue.enqueue(self.tree.root, "thumb", path, self.clock)
        except LensletError as ex:
            log.warning("cannot queue a thumbnail for %s: %s", path, ex.description)
        raise Pending("the thumbnail is being made; ask again", retry_after=1,
                      poll=f"/thumb?path={path}", path=path)

    def make(self, storage, key):
        """Make and store one thumbnail; return the original's hash, computed from the same bytes."""
        data = storage.read(key)
        digest = content_hash(data)  # from the bytes in hand: the original is read once
        try:
            thumb = images.make_thumbnail(io.BytesIO(data), self.size, self.quality, self.max_pixels)
        except LensletError as ex:
            log.warning("%s: no thumbnail: %s", key, ex.description)
            raise
        # Without fsync: a thumbnail torn by a power cut fails the RIFF check and is made again.
        storage.write(storage.derived_key(thumb_of(key)), thumb, durable=False)
        return digest

