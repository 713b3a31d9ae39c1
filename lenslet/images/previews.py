"""Previews for the viewer: a WebP of each image, long edge at most LENSLET_PREVIEW_SIZE, made on
demand and kept in a bounded cache in lenslet's state folder (`.lenslet/previews/`), never beside
the images. The only module that reads or writes them.

A preview's name is a digest of the image's browse path, its size and mtime, and the preview
settings (layout.preview_of): an image that changes or moves, or new settings, get a new name, and
the old preview ages out of the cache. So a preview is fresh when it exists, and its ETag is its
name. The cache holds at most LENSLET_PREVIEW_CACHE bytes: after each preview is stored, the least
recently used are removed until it fits. "Used" is the file's mtime: a preview served more than
TOUCH_AFTER seconds after it was last written is written again (the same bytes), so keeping the
order costs at most one write per preview per TOUCH_AFTER. Anything here may be deleted at any
time (`lenslet clean` does): it is made again when asked.

Previews are made within the thumbnails' budgets: in the web process only in one of its inline
slots (LENSLET_THUMB_INLINE, shared with thumbnails) and only when the decode fits what is left of
the process's INLINE_PIXELS (thumbs.Pixels, shared with thumbnails too);
else the worker makes it (in a thumbnail process) and the request answers 202, as GET /thumb does.
"""

import logging
import time
from concurrent.futures import TimeoutError as WaitedTooLong

from lenslet import jobs
from lenslet.errors import Foreign, LensletError, NotFound
from lenslet.images import decode, pool, video
from lenslet.images.originals import open_image, read_image, refuse_unshown
from lenslet.images.thumbs import Pending, SingleFlight, source_of
from lenslet.layout import LARGE_THUMBS, PREVIEW, PREVIEWS, join, kind_of, name_of, preview_of

log = logging.getLogger("lenslet")
QUALITY = 80  # a viewer's picture is looked at closely: finer than a thumbnail's 70
TOUCH_AFTER = 600.0  # seconds: how stale a preview's "last used" time may get


class PreviewPending(Pending):
    """The preview is queued for the worker; the answer is 202 with where to ask again."""

    title = "Preview on its way"


class Previews:
    """The viewer's previews; with large=True, the thumbnails of the second size (LENSLET_THUMB_SIZE_LARGE):
    the same bounded cache and budgets in their own folder (LARGE_THUMBS), each capped at LENSLET_PREVIEW_CACHE."""

    def __init__(self, tree, config, thumbs, clock=time.time, large=False):
        self.tree = tree
        self.cache = tree.root  # the gallery's own state folder, whichever storage holds the image
        self.config = config
        self.large = large
        self.size = config.thumb_size_large if large else config.preview_size
        self.quality = config.thumb_quality if large else QUALITY
        self.folder = LARGE_THUMBS if large else PREVIEWS
        self.cap = config.preview_cache
        self.max_pixels = config.max_pixels
        self.settings = f"{self.size} {self.quality}"
        self.thumbs = thumbs  # whose inline slots previews share: one budget for every decode
        self.wait = config.thumb_wait
        self.clock = clock
        self.flights = SingleFlight()  # requests for one preview share its making

    def find(self, path):
        """Return (preview key, the image's Stat) for the image at a browse path (NotFound and the like); a
        video's, once it has a poster, is a picture of its poster's frame, made by the worker alone (it runs
        ffmpeg)."""
        place, image = self.tree.locate_image(path)
        if kind_of(name_of(place.key)) != "video" or self.thumbs.fresh(place.storage, place.key, image) is None:
            refuse_unshown(place.key)  # a video without a poster has no picture: a placeholder
        return preview_of(path, source_of(image), self.settings, self.folder), image

    def get(self, path, key):
        """The preview's bytes, made now (or waited for) when missing; PreviewPending past the wait."""
        found = self._cached(key)
        return found if found is not None else self._make_or_wait(path, key)

    def get_or_queue(self, path, key):
        """As get(), but None when it cannot be made in time (queued for the worker meanwhile)."""
        try:
            return self.get(path, key)
        except PreviewPending:
            return None
        except Foreign as ex:  # a FIFO, a link or a folder in its place: the small one is answered instead
            log.warning("cannot use %s: %s", key, ex.description)
            return None

    def _cached(self, key):
        try:
            data, stat = self.cache.read_with_stat(key)
        except NotFound:
            return None
        if data[:4] != b"RIFF":  # written without fsync: one torn by a power cut is made again
            return None
        if self.clock() - stat.mtime > TOUCH_AFTER:
            self._touch(key, data)
        return data

    def _touch(self, key, data):
        """Mark a preview used now: the same bytes written again, so its mtime is now."""
        try:
            self.cache.write(key, data, durable=False)
        except LensletError as ex:
            log.warning("cannot mark the preview %s used: %s", key, ex.description)

    def _make_or_wait(self, path, key):
        deadline = self.clock() + self.wait
        try:
            made = self.flights.run(key, lambda: self._make_in_time(path, key, deadline), deadline - self.clock())
        except WaitedTooLong:
            made = None
        if made is None:
            self._queue(path)
        return made

    def _make_in_time(self, path, key, deadline):
        """The preview made inline if a slot frees before the deadline (or found made meanwhile), else None."""
        if kind_of(path) == "video":
            return self._cached(key)  # a web process never runs ffmpeg: the worker makes it
        if self.thumbs.take_slot(deadline, lambda: self._cached(key) is not None):
            try:
                return self._cached(key) or self._make_inline(path, key, deadline)
            finally:
                self.thumbs.release_slot()
        return self._cached(key)

    def _make_inline(self, path, key, deadline):
        """Make a preview in this process if its decode fits what is left of the process's
        INLINE_PIXELS before the deadline: its bytes, or None."""
        place, _ = self.tree.locate_image(path)
        stream, _ = open_image(place.storage, place.key)
        share = self.thumbs.pixels.share(deadline - self.clock())
        try:
            with stream:
                preview = decode.make_thumbnail(stream, self.size, self.quality, self.max_pixels, budget=share)
        except decode.OverBudget:
            return None
        finally:
            share.release()
        self._store(key, preview)
        return preview

    def _queue(self, path):
        try:
            if self.large:  # the same kind of job, told apart by its part (an older worker makes a preview)
                jobs.enqueue(self.tree.root, "preview", path, self.clock, part="large", large=True)
            else:
                jobs.enqueue(self.tree.root, "preview", path, self.clock)
        except LensletError as ex:
            log.warning("cannot queue a preview for %s: %s", path, ex.description)
        raise PreviewPending("the preview is being made; ask again", retry_after=1,
                             poll=f"/preview?path={path}", path=path)

    def make(self, path):
        """Make and store the preview of the image at a browse path, in a thumbnail process
        (the worker's "preview" job: images too big to decode in a web process)."""
        key, _ = self.find(path)
        if self._cached(key) is not None:
            return
        place, _ = self.tree.locate_image(path)
        if kind_of(path) == "video":
            with place.storage.open_seekable(place.key) as stream:
                data, _ = video.poster(self.config.ffmpeg, stream)  # the frame its poster is made of
        else:
            data, _ = read_image(place.storage, place.key)
        makers = pool.shared(self.config, min(1, pool.process_count(self.config.thumb_processes)),
                             size=self.size, quality=self.quality)
        preview, _ = makers.make(data)
        self._store(key, preview)

    def _store(self, key, preview):
        # Without fsync: a preview torn by a power cut fails the RIFF check and is made again.
        self.cache.write(key, preview, durable=False)
        self.evict()

    def evict(self):
        """Remove the least recently used previews until the cache holds at most LENSLET_PREVIEW_CACHE
        bytes; return how many were removed. Every process stores and evicts: the listing is the truth."""
        try:
            entries = self.cache.list_folder(self.folder)
        except NotFound:
            return 0
        stored = sorted((entry for entry in entries if not entry.is_dir and entry.name.endswith(PREVIEW)),
                        key=lambda entry: entry.mtime)
        total, removed = sum(entry.size for entry in stored), 0
        for entry in stored:
            if total <= self.cap:
                break
            try:
                self.cache.delete(join(self.folder, entry.name))
                removed += 1
            except NotFound:
                pass  # another process evicted it first
            except LensletError as ex:
                log.warning("cannot remove the preview %s: %s", entry.name, ex.description)
                continue
            total -= entry.size
        return removed
