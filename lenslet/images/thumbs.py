"""Thumbnails (`foo.jpg.thumbnail`): served when fresh, made inline within a budget, else
queued for the worker. The only module that reads or writes them.

Each thumbnail records, in its own XMP metadata, what it was made from (the image's
size and mtime) and how (LENSLET_THUMB_SIZE and LENSLET_THUMB_QUALITY). It is fresh
while the image's size and mtime are the recorded ones, whatever the clocks say (an
image with a future mtime is not made again and again). One made with other
settings is still served, and the worker makes it again at the lowest priority.
"""

import io
import logging
import re
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as WaitedTooLong

import orjson

from lenslet import jobs, memory, metrics
from lenslet.config import MAX_THUMB_SIZE
from lenslet.errors import LensletError, NotAFolder, NotFound, Unavailable
from lenslet.formats import webp
from lenslet.images import decode, video
from lenslet.images.budget import Pixels
from lenslet.images.decode import content_hash, content_hash_of
from lenslet.images.originals import open_image, read_image, refuse_unshown
from lenslet.layout import THUMB_SETTINGS, is_shown, kind_of, thumb_of, url_version
from lenslet.recent import Recent

log = logging.getLogger("lenslet")
CACHED_THUMBS = 2000  # per web process: about 10-20 MB of WebP
# The most pixels a web process holds decoded at once, for all the thumbnails and previews it
# makes while clients wait, after JPEG's draft scaling (which shrinks a photo up to 8x a side
# first): a decode holds about 4 bytes a pixel (48 MB in all), one that is converted twice that
# (decode.make_thumbnail says what each costs). A 4K screenshot is 8.3 million: two of them at
# once in one web process held 100 MB more than it needs at rest, so the second waits for the
# first (or the worker). A few KB of PNG can ask for 100 million (480 MB): such an image is
# made by the worker (GET /thumb answers 202) or, for an upload, in a thumbnail process
# (lenslet/images/pool.py), never in the web process.
INLINE_PIXELS = 12_000_000
# Under a backlog (more thumbnails asked at once than a browser's few connections make) a request waits at
# most this long before its 202, so that waiting requests never hold the threads readers need.
BACKLOG_WAIT = 1.0
XMP_NS = "urn:lenslet:thumbnail:1"
_RECORD = re.compile(rb'lenslet:source="([^"]*)" lenslet:settings="([^"]*)"')


def source_of(image):
    """What a thumbnail records of its image: size and mtime, as the storage states them."""
    return f"{image.size} {image.mtime!r}"


def record(source, settings, duration=None):
    """The XMP packet a thumbnail carries: what it was made from, and how (and a video's length in seconds)."""
    length = "" if duration is None else f' lenslet:duration="{duration:.3f}"'
    return (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f'<rdf:Description xmlns:lenslet="{XMP_NS}" lenslet:source="{source}" lenslet:settings="{settings}"'
            f'{length}/></rdf:RDF></x:xmpmeta>').encode()


_DURATION = re.compile(rb'lenslet:duration="(\d{1,9}(?:\.\d{1,6})?)"')


def duration_of(data):
    """A video's length in seconds as its poster (its thumbnail) records it, or None."""
    for fourcc, start, length in webp.chunks(data):
        if fourcc == b"XMP ":
            found = _DURATION.search(data, start, start + length)
            return float(found.group(1)) if found else None
    return None


def recorded(data):
    """(source, settings) a thumbnail records, or (None, None) for one made without a record."""
    for fourcc, start, length in webp.chunks(data):
        if fourcc == b"XMP ":
            found = _RECORD.search(data, start, start + length)
            return (found.group(1).decode(), found.group(2).decode()) if found else (None, None)
    return None, None


MAX_THUMB_BYTES = 16 << 20  # far more than a WebP of MAX_THUMB_SIZE at quality 100


def problem(data):
    """Why the bytes of a file named like a thumbnail are not a thumbnail lenslet made, or None.

    lenslet's are whole WebP files (stored by a rename once written: never cut short, never
    followed by other bytes) of one still image whose long edge is at most MAX_THUMB_SIZE.
    Thumbnails of older versions carry no record (see recorded()), so none is asked for.
    """
    return webp.problem(data, MAX_THUMB_SIZE)


class Pending(Unavailable):
    """The thumbnail is queued; the answer is 202 with where to ask again."""

    status = 202
    title = "Thumbnail on its way"


class SingleFlight:
    """One making at a time per thing: the first request makes it, the others meanwhile wait for that
    outcome (bytes, None, or the error it raised) rather than decode the same image again."""

    def __init__(self):
        self.inflight = {}  # slot -> Future shared by the requests for one thing
        self.lock = threading.Lock()

    def run(self, slot, make, wait):
        """make()'s outcome, shared with whoever asks for slot meanwhile; WaitedTooLong when
        another request is making it and wait seconds pass first."""
        with self.lock:
            shared = self.inflight.get(slot)
            leader = shared is None
            if leader:
                shared = self.inflight[slot] = Future()
        if not leader:
            return shared.result(timeout=max(0.0, wait))
        try:
            made = make()
            shared.set_result(made)
            return made
        except BaseException as ex:
            shared.set_exception(ex)
            raise
        finally:
            with self.lock:
                self.inflight.pop(slot, None)


class Thumbs:
    def __init__(self, tree, config, clock=time.time, hash_found=None):
        self.tree = tree
        # Told (path, digest) of an original hashed while a read made its thumbnail (the catalog
        # hands it to the worker): a read never writes a sidecar or a listing itself.
        self.hash_found = hash_found
        self.config = config
        self.size = config.thumb_size
        self.quality = config.thumb_quality
        self.settings = f"{self.size} {self.quality}"  # what a thumbnail records of how it was made
        self.max_pixels = config.max_pixels
        self.ffmpeg = config.ffmpeg  # videos' posters: made by the worker only, when it runs (video.available)
        self.wait = config.thumb_wait
        self.slots = threading.BoundedSemaphore(config.thumb_inline) if config.thumb_inline else None
        self.crowd = 2 * max(1, config.thumb_inline)  # thumbnails asked at once past which it is a backlog
        self.asked = 0  # thumbnails this process is making or waiting for now
        self.asked_lock = threading.Lock()
        self.pixels = Pixels(INLINE_PIXELS)  # shared with previews: every decode made while a client waits
        self.clock = clock
        self.flights = SingleFlight()  # requests for one thumbnail share its making
        self.cache = Recent(CACHED_THUMBS)  # (identity, thumbnail key) -> (bytes, stat)

    def fresh(self, storage, key, image):
        """Return (bytes, stat) of the thumbnail if it was made from the image as it is now
        (with whatever settings), else None."""
        holder, name = storage.derived_at(thumb_of(key))  # at a state root, its state storage: asked, not routed
        try:
            stat = holder.stat(name)
        except (NotFound, NotAFolder):  # (a file on its way: a photo's words kept where a folder came since)
            return None
        # A grid is viewed again and again: keep the thumbnails read last, each valid while its
        # file's stat is the same.
        found = self.cache.get((storage.identity, name))
        if found is None or found[1] != stat:
            found = holder.read_with_stat(name)
            # Thumbnails are written without fsync: one torn by a power cut is made again.
            if found[0][:4] != b"RIFF":
                return None
            self.cache.put((storage.identity, name), found)
        source, _ = recorded(found[0])
        if source is None:  # made before thumbnails kept a record: by the times, as then
            return found if found[1].mtime >= image.mtime else None
        return found if source == source_of(image) else None

    def makes(self, name):
        """Whether a thumbnail of this item can be made here: an image's, or a video's poster with ffmpeg."""
        return is_shown(name) or (kind_of(name) == "video" and video.available(self.ffmpeg))

    def make_poster(self, storage, key):
        """Make and store a video's poster as its thumbnail (recording its length); return its hash.
        Undecodable when ffmpeg finds no video in it; the worker's alone: a web process never runs ffmpeg."""
        stat = storage.stat(key)
        with storage.open_seekable(key) as stream:
            frame, seconds = video.poster(self.ffmpeg, stream)
            xmp = record(source_of(stat), self.settings, seconds)
            self._store(storage, key, _logged(key, lambda: decode.make_thumbnail(
                io.BytesIO(frame), self.size, self.quality, self.max_pixels, xmp=xmp)))
            stream.seek(0)
            return content_hash_of(stream)

    def current(self, webp):
        """Whether a thumbnail was made with today's size and quality."""
        return recorded(webp)[1] == self.settings

    def up_to_date(self, storage, key):
        """Whether an image's thumbnail is fresh and made with today's settings."""
        found = self.fresh(storage, key, storage.stat(key))
        return found is not None and self.current(found[0])

    def recorded_settings(self, storage):
        """The settings the worker last recorded making thumbnails with, or None (no record, or a bad one)."""
        try:
            settings = orjson.loads(storage.read(THUMB_SETTINGS)).get("settings")
        except (NotFound, orjson.JSONDecodeError, AttributeError):
            return None
        return settings if isinstance(settings, str) else None

    def remember_settings(self, storage):
        storage.write(THUMB_SETTINGS, orjson.dumps({"settings": self.settings}))

    def forget_settings(self, storage):
        """Make the next sweep look at every thumbnail (`lenslet index --rethumb`)."""
        try:
            storage.delete(THUMB_SETTINGS)
        except NotFound:
            pass

    def get(self, path):
        """Return (bytes, stat) of a fresh thumbnail, making it (or waiting for it) when needed."""
        return self.get_versioned(path)[:2]

    def get_versioned(self, path):
        """(bytes, stat, version) of a fresh thumbnail (see get); version: the URL version of this very
        thumbnail (url_version), or None while it is one of other settings, served until it is made again."""
        data, stat, image = self._get(path)
        return data, stat, (url_version(image, self.settings) if self.current(data) else None)

    def _get(self, path):
        place, image = self.tree.locate_image(path)
        storage, key = place.storage, place.key
        found = self.fresh(storage, key, image)
        if found is None:
            refuse_unshown(key)  # before any slot or job: a video's poster is the worker's to make, or none
        if found is None:
            try:
                digest = self.make_or_wait(path, storage, key, image)
            except Pending:
                metrics.thumb_request("queued")
                raise
            metrics.thumb_request("made")
            if digest is not None and self.hash_found is not None:
                self.hash_found(path, digest)
            holder, name = storage.derived_at(thumb_of(key))
            found = holder.read_with_stat(name)
        else:
            metrics.thumb_request("hit")
            if not self.current(found[0]):
                self._queue_remake(path)  # served meanwhile: better than none
        return found[0], found[1], image

    def _queue_remake(self, path):
        folder, _, name = path.rpartition("/")
        try:
            jobs.enqueue(self.tree.root, "rethumb", folder, self.clock, part=name, names=[name])
        except LensletError as ex:
            log.warning("cannot queue a thumbnail for %s: %s", path, ex.description)

    def make_or_wait(self, path, storage, key, image):
        """Make a missing thumbnail inline, or wait for whoever makes it, up to the deadline; the original's
        hash when this request made it, else None."""
        with self.asked_lock:
            wait = self.wait if self.asked < self.crowd else min(self.wait, BACKLOG_WAIT)
            self.asked += 1
        deadline = self.clock() + wait
        try:
            return self.flights.run((storage.identity, key),
                                    lambda: self._make_in_time(path, storage, key, image, deadline),
                                    deadline - self.clock())
        except WaitedTooLong:
            self._queue(path, storage, key)
        finally:
            with self.asked_lock:
                self.asked -= 1

    def _make_in_time(self, path, storage, key, image, deadline):
        """Make a thumbnail inline if a slot frees before the deadline, else queue it (Pending)."""
        def ready():
            return self.fresh(storage, key, image) is not None  # the worker may have beaten us

        digest = None
        if self.take_slot(deadline, ready):
            try:
                made = ready() or bool(digest := self._make_inline(storage, key, deadline))
            finally:
                self.slots.release()
                memory.trim()
        else:
            made = ready()
        if not made:
            self._queue(path, storage, key)
        return digest

    def _make_inline(self, storage, key, deadline):
        """Make a thumbnail in this process if its decode fits in what is left of INLINE_PIXELS
        before the deadline; the original's hash, or None when it was not made."""
        share = self.pixels.share(deadline - self.clock())
        try:
            return self.make(storage, key, share)
        except decode.OverBudget:
            return None
        finally:
            share.release()

    def take_slot(self, deadline, ready=lambda: False):
        """Wait for an inline slot until the deadline, giving up early once ready() (the thumbnail appeared).

        The slots bound every decode a web process makes while a client waits: previews take them too.
        After True, release_slot() when done."""
        if self.slots is None:
            return False
        while True:
            left = deadline - self.clock()
            if self.slots.acquire(timeout=max(0.0, min(left, 0.05))):
                return True
            if left <= 0 or ready():
                return False

    def release_slot(self):
        self.slots.release()

    def _queue(self, path, storage, key):
        try:
            folder, _, name = path.rpartition("/")
            jobs.enqueue_thumbs(self.tree.root, folder, [name], self.clock)
        except LensletError as ex:
            log.warning("cannot queue a thumbnail for %s: %s", path, ex.description)
        raise Pending("the thumbnail is being made; ask again", retry_after=1,
                      poll=f"/thumb?path={path}", path=path)

    def make_each(self, storage, keys, pool):
        """Make and store the thumbnails of keys through a pool of processes, in order;
        yield (key, the original's hash, or the LensletError it met)."""
        def read(key):
            data, image = read_image(storage, key)
            return data, record(source_of(image), self.settings)

        for key, outcome in pool.make_each(keys, read):
            if not isinstance(outcome, LensletError):
                thumb, digest = outcome
                try:
                    # Without fsync: a torn thumbnail fails the RIFF check and is made again.
                    storage.write(storage.derived_key(thumb_of(key)), thumb, durable=False)
                    outcome = digest
                except LensletError as ex:
                    outcome = ex
            if isinstance(outcome, LensletError) and not isinstance(outcome, NotFound):
                log.warning("%s: no thumbnail: %s", key, outcome.description)
            yield key, outcome

    def make(self, storage, key, budget=None):
        """Make and store one thumbnail in this process; return the original's hash, computed from
        the same bytes. budget: a Share of the process's Pixels, or None (decode.OverBudget: nothing made)."""
        stream, image = open_image(storage, key)
        with stream:
            self._store(storage, key, self._made_here(key, stream, record(source_of(image), self.settings), budget))
            stream.seek(0)
            return content_hash_of(stream)  # through the same open file: the version decoded

    def make_upload(self, storage, key):
        """Make an upload's thumbnail before it is answered (the decode is what proves it an image);
        return the original's hash.

        Made here, as GET /thumb makes one, only when an inline slot frees up within
        LENSLET_THUMB_WAIT and the decode fits INLINE_PIXELS; else in a thumbnail process,
        so that no upload, however many at once, makes this process hold a big decode.
        """
        data, image = read_image(storage, key)
        xmp, thumb = record(source_of(image), self.settings), None
        deadline = self.clock() + self.wait
        if self.take_slot(deadline):
            share = self.pixels.share(deadline - self.clock())
            try:
                thumb, digest = self._made_here(key, io.BytesIO(data), xmp, share), content_hash(data)
            except decode.OverBudget:
                pass
            finally:
                share.release()
                self.slots.release()
        if thumb is None:
            # One process per web process (none when LENSLET_THUMB_PROCESSES is 0): uploads
            # too big to decode here are rare, and take their turn.
            # Imported here: a web process that never meets such an upload never loads
            # multiprocessing and the pool (half a MB of each web process at rest).
            from lenslet.images import pool
            makers = pool.shared(self.config, min(1, pool.process_count(self.config.thumb_processes)))
            thumb, digest = _logged(key, lambda: makers.make(data, xmp))
        self._store(storage, key, thumb)
        return digest

    def _made_here(self, key, stream, xmp, budget):
        return _logged(key, lambda: decode.make_thumbnail(stream, self.size, self.quality,
                                                          self.max_pixels, xmp=xmp, budget=budget))

    def _store(self, storage, key, thumb):
        # Without fsync: a thumbnail torn by a power cut fails the RIFF check and is made again.
        storage.write(storage.derived_key(thumb_of(key)), thumb, durable=False)


def _logged(key, make):
    """make(), with a thumbnail that cannot be made logged."""
    try:
        return make()
    except LensletError as ex:
        log.warning("%s: no thumbnail: %s", key, ex.description)
        raise
