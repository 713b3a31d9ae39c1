"""Per-image metadata, as GET/PUT/PATCH/DELETE /item ask for it: read, replace, patch and delete
sidecars without losing an update.

Each change is one read-change-write of the sidecar (lenslet/sidecar/store.py) under the image's
lock, then one word to the catalog, which tells the listing and search.
"""

import logging
import math
import threading
import time

from lenslet import readers
from lenslet.errors import Conflict, Foreign, LensletError, NotFound, Unreadable
from lenslet.formats import exif, manifests, sidecars, xmp
from lenslet.formats.sidecars import NO_SIDECAR, check_version
from lenslet.images import originals, thumbs
from lenslet.layout import backup_of, kind_of, mime_of, sidecar_of, thumb_of
from lenslet.recent import Recent
from lenslet.sidecar import store
from lenslet.sidecar.store import change_sidecar, mirror_to_xmp

log = logging.getLogger("lenslet")

UNREADABLE = ("the sidecar is not a JSON object lenslet can read; it is left as it is: fix it by hand, "
              "or PUT with ?overwrite=true to replace it (its bytes are kept beside it as .bad-<time>)")


class Turns:
    """The edits of a web process: one at a time, and while any web process of the host answers reads, together
    at most SHARE of a core. An edit is CPU (an image hashed, its sidecar and its listing line rewritten: some
    100 system calls, each handing the GIL to another thread and waiting to take it back): 8 people tagging as
    fast as they could took most of both cores from everyone reading. After an edit that took c of CPU, the
    next one rests until c(1/SHARE - 1) has passed, if any web process answered a read in the last READ_LATELY
    seconds (lenslet/readers.py: the process the writers reached often has no reader), never longer than
    MOST_REST (a bulk edit's CPU does not make the next person wait seconds). With nobody reading (a person
    tagging alone, a script) nothing rests. Not only a read under way at the instant the edit looks: a read takes
    a fraction of a millisecond of a connection's time (the rest is gunicorn's), and 2 edits in 3 found none
    under way beside 8 readers flat out, and rested not at all. Resting costs no CPU and holds a thread, of
    which a process has 16: readers still find one.

    c is the edit request's CPU, not only its turn's: the request read, checked, the image found and looked at
    before the turn, its answer made after it (request_began, request_ended). The turn alone was 1.8 ms of the
    3.2 ms a web process spent an edit: at a share of a quarter, edits took nearly half a core.

    Why a tenth (python bench/load.py, figures in docs/performance.md): beside 8 readers of another folder
    flat out, the web processes have some 1.55 cores whatever the edits do, and the edits take SHARE of each
    process's: at a fifth the readers kept 0.6x-0.78x, at 0.15 0.69x-0.73x, at a tenth 0.83x. 8 writers then
    still make 40-80 edits a second beside those readers, and people tagging at their pace (50 a second in
    all) are not held back."""
    SHARE = 0.1
    MOST_REST = 0.05
    READ_LATELY = 1.0

    def __init__(self):
        self.lock = threading.Lock()
        self.reads = 0  # reads the process is answering now (app.Reading counts them)
        self.read_at = -math.inf  # math.inf while it answers any, else when its last one ended (time.monotonic())
        self.counting = threading.Lock()
        self.rest_until = 0.0
        self.began = None  # the thread CPU time the edit whose turn it is is counted from
        # Of the request a thread answers, one that may edit: the thread CPU time it began at ("since", None
        # outside a request) and whether it took its turn ("edited"; an edit request takes one).
        self.request = threading.local()

    def reading(self, step):
        with self.counting:
            self.reads += step
            if self.reads == 0 or (self.reads == 1 and step > 0):
                self.read_at = math.inf if self.reads else time.monotonic()
                readers.tell(self.read_at)

    def request_began(self):
        """A request that may edit began in this thread: the CPU it spends before its turn counts as the edit's."""
        self.request.since, self.request.edited = time.thread_time(), False

    def request_ended(self):
        """The request ended: if it edited, the next edit rests for all the CPU it spent, from now."""
        since, edited = getattr(self.request, "since", None), getattr(self.request, "edited", False)
        self.request.since, self.request.edited = None, False
        if since is not None and edited:
            with self.counting:
                self.rest_until = max(self.rest_until, time.monotonic() + self._rest(time.thread_time() - since))

    def _read_lately(self):
        lately = time.monotonic() - self.READ_LATELY
        return self.read_at >= lately or readers.anywhere(lately)

    def _rest(self, spent):
        return spent * (1 / self.SHARE - 1)

    def __enter__(self):
        self.lock.acquire()
        rest = self.rest_until - time.monotonic()
        if rest > 0 and self._read_lately():
            time.sleep(min(rest, self.MOST_REST))
        since = getattr(self.request, "since", None)
        self.began = time.thread_time() if since is None else since

    def __exit__(self, *_):
        # Rests the next edit now, while it waits for the turn; request_ended adds the answer's CPU.
        self.rest_until = time.monotonic() + self._rest(time.thread_time() - self.began)
        self.request.edited = True
        self.lock.release()


class Items:
    # Images whose size, type, EXIF and embedded XMP a process keeps (a few KB each, mostly EXIF): every
    # edit and every look at an image opened it and parsed its head again, a seventh of an edit's CPU.
    CACHED_EXAMINED = 512

    def __init__(self, tree, catalog, config):
        self.tree = tree
        self.catalog = catalog  # told of every change
        self.clock = catalog.clock
        self.reading = catalog.reading  # other tools' XMP is shown (LENSLET_XMP)
        # a person's words are kept in the XMP sidecar only, none in lenslet's sidecar (LENSLET_WORDS=xmp)
        self.own = self.reading == manifests.WORDS
        # and lenslet's edits are written to the XMP sidecar
        self.writing = config.writes_xmp
        self.map_link = config.map_link  # a GPS position's link to a map, only when the admin set one
        self.examined = Recent(self.CACHED_EXAMINED)  # (storage identity, key, the image's Stat) -> examine of it
        self.turn = Turns()  # one edit at a time, within a share of the CPU while anyone reads

    def get(self, path):
        """Return (sidecar merged with what the image says, version); never writes."""
        place, stat = self.tree.locate_image(path)
        examined = self._examine(place, stat)
        key = place.key
        problem = None
        try:
            data, version = place.storage.read_versioned(sidecar_of(key))
        except Foreign as ex:
            data, version, problem = None, None, ex.description
        sidecar = sidecars.parse(data) if data is not None else None
        if data is not None and sidecar is None:
            problem = UNREADABLE
        if self.own:  # the words' version is their XMP sidecar's, which an edit's If-Match names
            version, problem = (examined[1][0] or {}).get("version"), None
        body = self._answer(path, stat, sidecar or sidecars.defaults(), examined)
        if body.get("hash") is None:  # an image nobody described: its hash is in its listing entry only
            body["hash"] = self.catalog.listed_hash(place.storage, key)
        if kind_of(key) == "video":
            body["duration"] = self._duration(place)
        link = exif.map_link(self.map_link, body["exif"])
        if link is not None:
            body["mapLink"] = link
        if problem is not None:
            body.update(unreadable=True, error=problem)  # shown, never merged into
        return body, version or NO_SIDECAR

    @staticmethod
    def _duration(place):
        """A video's length in seconds, as its poster records it (made by the worker with ffmpeg), or None."""
        try:
            data, _ = place.storage.read_small(place.storage.derived_key(thumb_of(place.key)), thumbs.MAX_THUMB_BYTES)
        except LensletError:
            return None
        return thumbs.duration_of(data) if data is not None and data[:4] == b"RIFF" else None

    def trash_origin(self, path):
        """Where a trashed image came from, as its sidecar says (None when it says nothing)."""
        place = self.tree.locate(path, is_file=True)
        return store.sidecar_fields(place.storage, place.key).get("originalPosition")

    def _examine(self, place, stat):
        """What the image says and what other tools' XMP say of it, read once for an answer or an edit:
        (its size, type and EXIF; store.xmp_of, or None while lenslet does not show XMP).

        What the image itself says is kept while its Stat (size, time, time of change) is the one it was
        read at, as its listing entry is; an XMP sidecar, another file, is looked at every time."""
        memo_key = (place.storage.identity, place.key, stat)
        known = self.examined.get(memo_key)
        if known is None:
            known = originals.examine(place.storage, place.key, self.reading)
            if "error" not in known[0]:  # an image that could not be read (or storage was busy): read again
                self.examined.put(memo_key, known)
        probed, embedded = known
        return probed, (store.xmp_of(place.storage, place.key, embedded) if self.reading else None)

    def _answer(self, path, stat, sidecar, examined):
        """The one shape of every /item answer: the sidecar merged with what the image and XMP say."""
        probed, found = examined
        if self.own:
            sidecar = store.words_in(found[0], sidecar)
        body = dict(sidecar, path=path, size=stat.size, mtime=stat.mtime, type=probed["type"] or mime_of(path),
                    w=probed["w"], h=probed["h"], exif={**sidecar["exif"], **probed["exif"]})
        if "error" in probed:
            body["error"] = probed["error"]
        if self.reading:
            # (no base where the XMP sidecar is the words' one copy: what lenslet wrote there before is no base)
            base = None if self.own else xmp.base_of(sidecar)
            view = xmp.shown(sidecar["tags"], sidecar["star"], manifests.readings(*found), base)
            body.update({name: view[name] for name in ("tags", "star", "rejected", "label", "title", "description",
                                                       "sources")}, xmpPaths=view["paths"])
            if view["problems"]:
                body["error"] = "; ".join(filter(None, [body.get("error"), *view["problems"]]))
        return sidecars.with_aliases(body)

    def put(self, path, body, who, if_match=None, overwrite=False):
        """Create or replace a sidecar; an edit made on an older copy is merged, not lost.

        overwrite: replace a stored sidecar lenslet cannot read, keeping its bytes beside it.
        """
        incoming = sidecars.check_put(body)
        who = incoming.get("updatedBy") or who
        place, stat = self.tree.locate_image(path, writing=True)
        examined = self._examine(place, stat)
        kept = manifests.not_written(examined[1], self.writing)
        return self._write(path, place, stat, examined, if_match, lambda stored: sidecars.merge_put(
            stored, xmp.own_part(incoming, stored or sidecars.defaults(), kept), self.clock(), who), overwrite)

    def patch(self, path, body, who, if_match=None):
        """Apply field operations to the current sidecar atomically."""
        ops = sidecars.check_patch(body)
        place, stat = self.tree.locate_image(path, writing=True)
        examined = self._examine(place, stat)
        held = xmp.held(ops.get("removeTags", ()), manifests.not_written(examined[1], self.writing))
        if held:
            # The original is never changed, and while lenslet only reads XMP, neither is its sidecar.
            raise Conflict("lenslet cannot remove these tags: " + "; ".join(
                f"{tag} is kept in {' and '.join(_said(source) for source in sources)}"
                for tag, sources in held.items()), tags=list(held))
        return self._write(path, place, stat, examined, if_match,
                           lambda stored: sidecars.apply_patch(stored, ops, self.clock(), who),
                           removed=ops.get("removeTags", ()))

    def delete(self, path, if_match=None):
        """Remove an image's sidecar (never the image); where the words are kept in its XMP sidecar
        (LENSLET_WORDS=xmp), take them out of it: every other byte of that file stays."""
        place, stat = self.tree.locate_image(path, writing=True)
        storage, key = place.storage, place.key
        if self.own:
            self._write(path, place, stat, self._examine(place, stat), if_match,
                        lambda stored: dict(stored, tags=[], star=None, notes=""))
            return
        with self.turn, storage.lock_images([key]):
            _still_there(storage, key, path)
            if if_match is not None:
                _, version = storage.read_versioned(sidecar_of(key))
                check_version(if_match, version)
                storage.delete_if(sidecar_of(key), version)  # refuses if it changed since
            else:
                try:
                    storage.delete(sidecar_of(key))
                except NotFound:
                    pass
            self.catalog.changed(storage, key, path, None, None)

    def _write(self, path, place, stat, examined, if_match, make, overwrite=False, removed=()):
        with self.turn:
            return self._write_now(path, place, stat, examined, if_match, make, overwrite, removed)

    def _write_now(self, path, place, stat, examined, if_match, make, overwrite, removed):
        storage, key = place.storage, place.key
        probed, found = examined

        def unreadable(old):
            # Never merge into what we cannot read: the tags and notes in it would be lost.
            if not overwrite:
                raise Unreadable(UNREADABLE, path=path)
            backup = backup_of(sidecar_of(key), self.clock())
            storage.write(backup, old)
            log.warning("%s: unreadable sidecar replaced on request; old bytes kept as %s", path, backup)
            return True

        # An image first described gets its content hash in its new sidecar (none was made for the hash alone),
        # so its words follow it when another program moves it: read before any lock is taken. (Words kept in
        # XMP sidecars move with their image by its programs, and its hash stays in its listing entry.)
        digest = None if self.own or storage.exists(sidecar_of(key)) else originals.content_hash(storage, key)

        def change(stored, version):
            check_version(if_match, version)
            new = sidecars.check_growth(make(stored), stored)
            if new is not None and digest is not None and not new.get("hash"):
                new = dict(new, hash=digest)
            return new

        # Under the image's lock, which moves take too: the edit lands on the image where
        # it is now, or the image has gone and the edit is refused (never an orphan sidecar).
        with storage.lock_images([key]):
            _still_there(storage, key, path)
            if self.own:
                sidecar, version, found = store.change_xmp_words(storage, key, change, self.clock(), found[1])
                self.catalog.changed(storage, key, path, None, None, found)
                body = self._answer(path, stat, sidecar, (probed, found))
                return dict(body, hash=self.catalog.listed_hash(storage, key)), version or NO_SIDECAR
            mirror = mirror_to_xmp(storage, key, self.clock(), removed) if self.writing else None
            sidecar, version = change_sidecar(storage, key, change, unreadable, mirror=mirror)
            if self.writing:  # the XMP sidecar was written with the edit: what it says now is read again
                found = store.xmp_of(storage, key, found[1])
            self.catalog.changed(storage, key, path, sidecar, version, found)
        return self._answer(path, stat, sidecar, (probed, found)), version


def _said(source):
    if source == xmp.EMBEDDED:
        return "the image itself (never modified)"
    return f"the XMP sidecar {source} (LENSLET_XMP=read: lenslet does not write it)"


def _still_there(storage, key, path):
    """Refuse a change to an image that moved or went away since it was found."""
    if not storage.exists(key):
        raise NotFound("no such image (moved or deleted meanwhile)", path=path)
