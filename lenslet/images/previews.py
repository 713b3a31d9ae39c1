"""The viewer's previews, made on demand and kept in a bounded LRU cache."""

import logging
import time
from concurrent.futures import TimeoutError as WaitedTooLong

from lenslet import jobs
from lenslet.errors import Foreign, LensletError, NotFound
from lenslet.images import pillow, pool, video
from lenslet.images.originals import open_image, read_image, refuse_unshown
from lenslet.images.thumbs import Pending, SingleFlight, source_of, turn_of
from lenslet.layout import LARGE_THUMBS, PREVIEW, PREVIEWS, join, kind_of, name_of, preview_of, url_version

log = logging.getLogger("lenslet")
QUALITY = 80  # finer than a thumbnail's: looked at closely
TOUCH_AFTER = 600.0  # seconds: how stale a preview's last-used mtime may get
FACE_SIZE = 256  # pixels: the long edge of a face cut from a preview


class PreviewPending(Pending):
    """The preview is queued for the worker."""

    title = "Preview on its way"


class Previews:
    """The viewer's previews, or with large=True the large thumbnails."""

    def __init__(self, tree, config, thumbs, clock=time.time, large=False):
        self.tree = tree
        self.cache = tree.root  # the state folder, whichever storage holds the image
        self.config = config
        self.large = large
        self.size = config.thumb_size_large if large else config.preview_size
        self.quality = config.thumb_quality if large else QUALITY
        self.folder = LARGE_THUMBS if large else PREVIEWS
        self.cap = config.preview_cache
        self.max_pixels = config.max_pixels
        self.settings = f"{self.size} {self.quality}"
        self.thumbs = thumbs  # shares the thumbnails' inline slots and pixel budget
        self.wait = config.thumb_wait
        self.clock = clock
        self.flights = SingleFlight()

    def find(self, path):
        """Return (preview key, the image's Stat, its URL version, its turn) for the image at a browse path."""
        place, image = self.tree.locate_image(path)
        if kind_of(name_of(place.key)) != "video" or self.thumbs.fresh(place.storage, place.key, image) is None:
            refuse_unshown(place.key)  # a video without a poster has no picture
        turn = turn_of(place.storage, place.key)  # a turned picture is another preview, named apart
        key = preview_of(path, source_of(image) + (f" {turn}" if turn != 1 else ""), self.settings, self.folder)
        return key, image, url_version(image, self.settings, turn), turn

    def get(self, path, key, turn):
        """Return the preview's bytes, made now if missing, turned as its key was named for."""
        found = self._cached(key)
        return found if found is not None else self._make_or_wait(path, key, turn)

    def face_key(self, key, box):
        """Name the face a box [x, y, w, h] of the preview at key holds: kept and evicted with the previews."""
        return preview_of(key, " ".join(map(repr, box)), "face", self.folder)

    def face(self, path, key, turn, face_key, box):
        """Return a face's bytes, cut from the preview now if missing."""
        found = self._cached(face_key)
        if found is None:
            found = pillow.cut(self.get(path, key, turn), box, FACE_SIZE, self.quality)
            self.cache.write(face_key, found, durable=False)
            self.evict()
        return found

    def get_or_queue(self, path, key, turn):
        """Like get(), but return None when it cannot be made in time."""
        try:
            return self.get(path, key, turn)
        except PreviewPending:
            return None
        except Foreign as ex:  # a FIFO, a link or a folder in its place
            log.warning("cannot use %s: %s", key, ex.description)
            return None

    def _cached(self, key):
        try:
            data, stat = self.cache.read_with_stat(key)
        except NotFound:
            return None
        if data[:4] != b"RIFF":  # torn by a power cut (stored without fsync)
            return None
        if self.clock() - stat.mtime > TOUCH_AFTER:
            self._touch(key, data)
        return data

    def _touch(self, key, data):
        # Rewrite the same bytes so the mtime records the use.
        try:
            self.cache.write(key, data, durable=False)
        except LensletError as ex:
            log.warning("cannot mark the preview %s used: %s", key, ex.description)

    def _make_or_wait(self, path, key, turn):
        deadline = self.clock() + self.wait
        try:
            made = self.flights.run(key, lambda: self._make_in_time(path, key, turn, deadline), deadline - self.clock())
        except WaitedTooLong:
            made = None
        if made is None:
            self._queue(path)
        return made

    def _make_in_time(self, path, key, turn, deadline):
        if kind_of(path) == "video":
            return self._cached(key)  # only the worker runs ffmpeg
        if self.thumbs.take_slot(deadline, lambda: self._cached(key) is not None):
            try:
                return self._cached(key) or self._make_inline(path, key, turn, deadline)
            finally:
                self.thumbs.release_slot()
        return self._cached(key)

    def _make_inline(self, path, key, turn, deadline):
        """Make a preview here if the pixel budget allows before the deadline, else return None."""
        place, _ = self.tree.locate_image(path)
        stream, _ = open_image(place.storage, place.key)
        share = self.thumbs.pixels.share(deadline - self.clock())
        try:
            with stream:
                preview = pillow.make_thumbnail(stream, self.size, self.quality, self.max_pixels, budget=share)
        except pillow.OverBudget:
            return None
        finally:
            share.release()
        return self._store(key, preview, turn)

    def _queue(self, path):
        try:
            if self.large:
                jobs.enqueue(self.tree.root, "preview", path, self.clock, part="large", large=True)
            else:
                jobs.enqueue(self.tree.root, "preview", path, self.clock)
        except LensletError as ex:
            log.warning("cannot queue a preview for %s: %s", path, ex.description)
        raise PreviewPending("the preview is being made; ask again", retry_after=1,
                             poll=f"/preview?path={path}", path=path)

    def make(self, path):
        """Make and store a preview in a thumbnail process (the worker's job)."""
        key, *_, turn = self.find(path)
        if self._cached(key) is not None:
            return
        place, _ = self.tree.locate_image(path)
        if kind_of(path) == "video":
            with place.storage.open_seekable(place.key) as stream:
                data, _ = video.poster(self.config.ffmpeg, stream)
        else:
            data, _ = read_image(place.storage, place.key)
        makers = pool.shared(self.config, min(1, pool.process_count(self.config.thumb_processes)),
                             size=self.size, quality=self.quality)
        preview, _ = makers.make(data)
        self._store(key, preview, turn)

    def _store(self, key, preview, turn):
        # the turn read with the key, not now: a turn meanwhile names another preview
        preview = pillow.turned(preview, turn)
        self.cache.write(key, preview, durable=False)
        self.evict()
        return preview

    def evict(self):
        """Remove the least recently used previews until the cache fits."""
        try:
            entries = self.cache.list_folder(self.folder)
        except NotFound:
            return
        stored = sorted((entry for entry in entries if not entry.is_dir and entry.name.endswith(PREVIEW)),
                        key=lambda entry: entry.mtime)
        total = sum(entry.size for entry in stored)
        for entry in stored:
            if total <= self.cap:
                break
            try:
                self.cache.delete(join(self.folder, entry.name))
            except NotFound:
                pass  # another process evicted it first
            except LensletError as ex:
                log.warning("cannot remove the preview %s: %s", entry.name, ex.description)
                continue
            total -= entry.size
