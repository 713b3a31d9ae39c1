"""Thumbnails: served when fresh, made inline within a budget, or queued."""

import contextlib
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
from lenslet.formats import sidecars, webp_chunks
from lenslet.images import pillow, video
from lenslet.images.budget import Pixels
from lenslet.images.originals import open_image, read_image, refuse_unshown
from lenslet.images.pillow import content_hash, content_hash_of
from lenslet.layout import THUMB_SETTINGS, is_shown, join, kind_of, sidecar_of, thumb_of, url_version
from lenslet.recent import Recent

log = logging.getLogger("lenslet")
CACHED_THUMBS = 2000  # per web process
# Decoded pixels a web process may hold at once; bigger images are made elsewhere.
INLINE_PIXELS = 12_000_000
# A shorter wait under a backlog, to keep threads free for other readers.
BACKLOG_WAIT = 1.0
XMP_NS = "urn:lenslet:thumbnail:1"
MAX_THUMB_BYTES = 16 << 20
_RECORD = re.compile(rb'lenslet:source="([^"]*)" lenslet:settings="([^"]*)"')
_DURATION = re.compile(rb'lenslet:duration="(\d{1,9}(?:\.\d{1,6})?)"')
_TURN = re.compile(rb'lenslet:turn="([2-8])"')
_LOOK = re.compile(rb'lenslet:look="([0-9a-f]{16}) (\d{1,3}\.\d)"')


def source_of(image):
    """Return what a thumbnail records of its image."""
    return f"{image.size} {image.mtime!r}"


def record(source, settings, duration=None, turn=1):
    """Return the XMP packet a thumbnail carries."""
    length = "" if duration is None else f' lenslet:duration="{duration:.3f}"'
    turned = "" if turn == 1 else f' lenslet:turn="{turn}"'
    return (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f'<rdf:Description xmlns:lenslet="{XMP_NS}" lenslet:source="{source}" lenslet:settings="{settings}"'
            f'{length}{turned} {pillow.LOOK_FIELD.decode()}/></rdf:RDF></x:xmpmeta>').encode()


def _in_xmp(data, pattern):
    """Return pattern's match in a WebP's XMP chunk, or None."""
    for fourcc, start, length in webp_chunks.chunks(data):
        if fourcc == b"XMP ":
            return pattern.search(data, start, start + length)
    return None


def duration_of(data):
    """Return a video's length as its thumbnail records it, or None."""
    found = _in_xmp(data, _DURATION)
    return float(found.group(1)) if found else None


def turn_recorded(data):
    """Return the turn a thumbnail was made with, as it records it (1: none)."""
    found = _in_xmp(data, _TURN)
    return int(found.group(1)) if found else 1


def look_of(data):
    """Return (perceptual hash, sharpness) of a thumbnail, from its XMP record or else its pixels."""
    found = _in_xmp(data, _LOOK)
    return (found.group(1).decode(), float(found.group(2))) if found else pillow.look_of_thumbnail(data)


def recorded(data):
    found = _in_xmp(data, _RECORD)
    return (found.group(1).decode(), found.group(2).decode()) if found else (None, None)


def problem(data):
    """Return why a file named like a thumbnail is not one lenslet made, or None."""
    return webp_chunks.problem(data, MAX_THUMB_SIZE)


class Pending(Unavailable):
    """The thumbnail is queued for the worker."""

    status = 202
    title = "Thumbnail on its way"


class SingleFlight:
    """Let concurrent requests for one thing share a single making of it."""

    def __init__(self):
        self.inflight = {}  # slot -> Future
        self.lock = threading.Lock()

    def run(self, slot, make, wait):
        """Return make()'s outcome, shared with concurrent callers for slot."""
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
    def __init__(self, tree, config, clock=time.time, note_hashes=False):
        self.tree = tree
        # Hashes of originals found here go to the worker: reads write no sidecar.
        self.note_hashes = note_hashes
        self.config = config
        self.size, self.quality = config.thumb_size, config.thumb_quality
        self.settings = f"{self.size} {self.quality}"
        self.max_pixels, self.ffmpeg, self.wait = config.max_pixels, config.ffmpeg, config.thumb_wait
        self.slots = threading.BoundedSemaphore(config.thumb_inline) if config.thumb_inline else None
        self.crowd = 2 * max(1, config.thumb_inline)  # requests at once past which it is a backlog
        self.asked = 0
        self.asked_lock = threading.Lock()
        self.pixels = Pixels(INLINE_PIXELS)  # shared with previews
        self.clock = clock
        self.flights = SingleFlight()
        self.cache = Recent(CACHED_THUMBS)  # (identity, thumbnail key) -> (bytes, stat)

    def fresh(self, storage, key, image):
        """Return (bytes, stat) of the thumbnail if made from the image as it is now, else None."""
        holder, name = storage.derived_at(thumb_of(key))
        try:
            found = self.cache.get((storage.identity, name))
            if found is None or found[1] != holder.stat(name):  # not kept: read at once, one request not two
                found = holder.read_with_stat(name)  # a turn may remove it meanwhile
                # torn by a power cut (written without fsync)
                if found[0][:4] != b"RIFF":
                    return None
                self.cache.put((storage.identity, name), found)
        except (NotFound, NotAFolder):
            return None
        source, _ = recorded(found[0])
        if source is None:  # made without a record: compare the times
            return found if found[1].mtime >= image.mtime else None
        return found if source == source_of(image) else None

    def looks(self, storage, folder, names, opened=None):
        """Return the listing fields of the look (perceptual hash, sharpness) of the named images' fresh
        thumbnails; `opened`: {name: the Stat of the image its thumbnail was made from}, else each image is asked."""
        found = {}
        for name in names:
            key = join(folder, name)
            with contextlib.suppress(LensletError):
                fresh = self.fresh(storage, key, opened[name] if opened else storage.stat(key))
                if fresh is not None:
                    phash, sharpness = look_of(fresh[0])
                    found[name] = {"phash": phash, "sharpness": sharpness}
        return found

    def makes(self, name):
        """Return whether a thumbnail of this item can be made here."""
        return is_shown(name) or (kind_of(name) == "video" and video.available(self.ffmpeg))

    def make_poster(self, storage, key):
        """Make a video's poster as its thumbnail; return the video's hash."""
        stat = storage.stat(key)
        with storage.open_seekable(key) as stream:
            frame, seconds = video.poster(self.ffmpeg, stream)
            xmp = record(source_of(stat), self.settings, seconds)
            self._store(storage, key, self._made_here(key, io.BytesIO(frame), xmp))
            stream.seek(0)
            return content_hash_of(stream)

    def current(self, webp):
        return recorded(webp)[1] == self.settings

    def up_to_date(self, storage, key):
        found = self.fresh(storage, key, storage.stat(key))
        return found is not None and self.current(found[0])

    def recorded_settings(self, storage):
        """Return the settings the worker last recorded, or None."""
        try:
            settings = orjson.loads(storage.read(THUMB_SETTINGS)).get("settings")
        except (NotFound, orjson.JSONDecodeError, AttributeError):
            return None
        return settings if isinstance(settings, str) else None

    def remember_settings(self, storage):
        storage.write(THUMB_SETTINGS, orjson.dumps({"settings": self.settings}))

    def forget_settings(self, storage):
        """Make the next sweep look at every thumbnail (`lenslet index --rethumb`)."""
        with contextlib.suppress(NotFound):
            storage.delete(THUMB_SETTINGS)

    def _note_hash(self, path, digest, read_at):
        self._tell_worker(path, "%s: its hash waits for the next index: %s", lambda folder, name: jobs.note_found_hash(
            self.tree.root, folder, name, digest, read_at, self.clock))

    def _tell_worker(self, path, failed, send):
        """Call send(folder, name) to hand the worker a job; a failure is logged with failed, not raised."""
        folder, _, name = path.rpartition("/")
        try:
            send(folder, name)
        except LensletError as ex:
            log.warning(failed, path, ex.description)

    def get_versioned(self, path):
        """Return (bytes, stat, URL version or None for other settings) of a fresh thumbnail, made when needed."""
        place, image = self.tree.locate_image(path)
        storage, key = place.storage, place.key
        found = self.fresh(storage, key, image)
        if found is None:
            refuse_unshown(key)  # before any slot or job
            found = self._made(path, storage, key, image)
        else:
            metrics.thumb_request("hit")
            if not self.current(found[0]):  # served meanwhile
                self._tell_worker(path, "cannot queue a thumbnail for %s: %s", lambda folder, name: jobs.enqueue(
                    self.tree.root, "rethumb", folder, self.clock, part=name, names=[name]))
        version = url_version(image, self.settings, turn_recorded(found[0])) if self.current(found[0]) else None
        return found[0], found[1], version

    def _made(self, path, storage, key, image):
        """Return (bytes, stat) of a thumbnail made here or by the worker, made again while turns remove it."""
        deadline = self.clock() + self.wait
        while True:
            try:
                made_here = self.make_or_wait(path, storage, key, image)
            except Pending:
                metrics.thumb_request("queued")
                raise
            metrics.thumb_request("made")
            if made_here is not None and self.note_hashes:
                self._note_hash(path, *made_here)
            holder, name = storage.derived_at(thumb_of(key))
            try:
                return holder.read_with_stat(name)
            except NotFound:
                if self.clock() >= deadline:
                    self._queue(path)

    def make_or_wait(self, path, storage, key, image):
        """Make a missing thumbnail or wait for it; return the original's hash and the Stat it was read at if made
        here."""
        with self.asked_lock:
            wait = self.wait if self.asked < self.crowd else min(self.wait, BACKLOG_WAIT)
            self.asked += 1
        deadline = self.clock() + wait
        try:
            return self.flights.run((storage.identity, key),
                                    lambda: self._make_in_time(path, storage, key, image, deadline),
                                    deadline - self.clock())
        except WaitedTooLong:
            self._queue(path)
        finally:
            with self.asked_lock:
                self.asked -= 1

    def _make_in_time(self, path, storage, key, image, deadline):
        def ready():
            return self.fresh(storage, key, image) is not None

        made_here = None
        if self.take_slot(deadline, ready):
            try:
                made = ready() or bool(made_here := self._make_inline(storage, key, deadline))
            finally:
                self.slots.release()
                memory.trim()
        else:
            made = ready()
        if not made:
            self.ask_worker(path)
            # a client that cannot poll a 202 gets the worker's thumbnail if it comes in time
            until = time.monotonic() + deadline - self.clock()
            while not (made := ready()) and time.monotonic() < until:
                time.sleep(0.05)
        if not made:
            self._queue(path, asked=True)
        return made_here

    def _make_inline(self, storage, key, deadline):
        """Return the original's hash and the Stat it was read at, or None over the pixel budget."""
        share = self.pixels.share(deadline - self.clock())
        try:
            return self.make(storage, key, share)
        except pillow.OverBudget:
            return None
        finally:
            share.release()

    def take_slot(self, deadline, ready=lambda: False):
        """Wait for an inline slot until the deadline or ready(); after True, call release_slot()."""
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

    def ask_worker(self, path):
        """Have the worker make an image's thumbnail soon."""
        self._tell_worker(path, "cannot queue a thumbnail for %s: %s",
                          lambda folder, name: jobs.enqueue_thumbs(self.tree.root, folder, [name], self.clock))

    def _queue(self, path, asked=False):
        if not asked:
            self.ask_worker(path)
        raise Pending("the thumbnail is being made; ask again", retry_after=1, poll=f"/thumb?path={path}", path=path)

    def make_each(self, storage, keys, pool):
        """Make and store thumbnails through a pool; yield (key, hash or LensletError)."""
        def read(key):
            data, image = read_image(storage, key)
            return data, record(source_of(image), self.settings)

        for key, outcome in pool.make_each(keys, read):
            if not isinstance(outcome, LensletError):
                thumb, digest = outcome
                try:
                    self._store(storage, key, thumb)
                    outcome = digest
                except LensletError as ex:
                    outcome = ex
            if isinstance(outcome, LensletError) and not isinstance(outcome, NotFound):
                log.warning("%s: no thumbnail: %s", key, outcome.description)
            yield key, outcome

    def make(self, storage, key, budget=None):
        """Make and store one thumbnail here; return the original's hash and the Stat it was read at."""
        stream, image = open_image(storage, key)
        with stream:
            self._store(storage, key, self._made_here(key, stream, record(source_of(image), self.settings), budget))
            stream.seek(0)
            return content_hash_of(stream), image  # the same open file: the version decoded

    def make_upload(self, storage, key):
        """Make an upload's thumbnail, which proves it an image; return the original's hash and the Stat it was
        read at."""
        data, image = read_image(storage, key)
        xmp, thumb = record(source_of(image), self.settings), None
        deadline = self.clock() + self.wait
        if self.take_slot(deadline):
            share = self.pixels.share(deadline - self.clock())
            try:
                thumb, digest = self._made_here(key, io.BytesIO(data), xmp, share), content_hash(data)
            except pillow.OverBudget:
                pass
            finally:
                share.release()
                self.slots.release()
        if thumb is None:
            # Imported late: most web processes never need multiprocessing.
            from lenslet.images import pool
            makers = pool.shared(self.config, min(1, pool.process_count(self.config.thumb_processes)))
            thumb, digest = _logged(key, lambda: makers.make(data, xmp))
        self._store(storage, key, thumb)
        return digest, image

    def _made_here(self, key, stream, xmp, budget=None):
        return _logged(key, lambda: pillow.make_thumbnail(stream, self.size, self.quality,
                                                          self.max_pixels, xmp=xmp, budget=budget))

    def _store(self, storage, key, thumb):
        # Without fsync: a torn one is made again.
        made = storage.derived_key(thumb_of(key))
        turn, written = turn_of(storage, key), None
        while turn != written:  # turned meanwhile: that turn's delete may have come first, so turn it again
            source, settings = recorded(thumb)
            marked = record(source, settings, duration_of(thumb), turn)
            storage.write(made, pillow.turned(thumb, turn, marked), durable=False)
            written, turn = turn, turn_of(storage, key)
        if not storage.exists(key):  # moved or trashed while it was made: none is left beside no image
            with contextlib.suppress(NotFound):
                storage.delete(made)
            raise NotFound("moved or deleted meanwhile", path=key)


def turn_of(storage, key):
    """Return the orientation a person gave an image over its camera's (its sidecar's "turn"), 1 when none."""
    try:
        data, _ = storage.read_small(sidecar_of(key), sidecars.MAX_SIDECAR)
    except LensletError:
        return 1
    sidecar = sidecars.parse(data) if data is not None else None
    return sidecar.get("turn", 1) if sidecar else 1


def _logged(key, make):
    try:
        return make()
    except LensletError as ex:
        log.warning("%s: no thumbnail: %s", key, ex.description)
        raise
