"""Per-image metadata for /item: read and change sidecars without losing an update."""

import logging
import math
import threading
import time
from contextlib import suppress

from lenslet.errors import Conflict, Foreign, LensletError, NotFound, Unreadable
from lenslet.formats import dates, exif, listing_pages, regions, sidecars, xmp
from lenslet.formats.sidecars import NO_SIDECAR, check_version
from lenslet.images import originals, thumbs
from lenslet.images.pillow import QUARTER_TURNS
from lenslet.layout import backup_of, kind_of, mime_of, sidecar_of, thumb_of
from lenslet.recent import Recent
from lenslet.sidecar import store
from lenslet.sidecar.store import change_sidecar, mirror_to_xmp

log = logging.getLogger("lenslet")

UNREADABLE = ("the sidecar is not a JSON object lenslet can read; it is left as it is: fix it by hand, "
              "or PUT with ?overwrite=true to replace it (its bytes are kept beside it as .bad-<time>)")


class Turns:
    """Edits of a web process, one at a time, resting so that while the process reads they
    take at most SHARE of a core (each rest at most MOST_REST); with nobody reading, nothing rests.
    Also the web app's middleware that counts the reads and requests that may edit under way."""
    SHARE = 0.2
    MOST_REST = 0.05
    READ_LATELY = 1.0

    def __init__(self):
        self.lock = threading.Lock()
        self.reads = 0
        self.read_at = -math.inf  # math.inf while answering a read
        self.counting = threading.Lock()
        self.rest_until = 0.0
        self.began = None
        # per thread: the CPU time its request began at ("since") and whether it edited
        self.request = threading.local()

    def process_request(self, req, resp):
        if req.method in ("GET", "HEAD"):
            req.context.reading = True
            self.count_reads(1)
        else:
            self.request_began()

    def process_response(self, req, resp, resource, req_succeeded):
        if getattr(req.context, "reading", False):
            self.count_reads(-1)
        else:
            self.request_ended()

    def count_reads(self, step):
        with self.counting:
            self.reads += step
            if self.reads == 0 or (self.reads == 1 and step > 0):
                self.read_at = math.inf if self.reads else time.monotonic()

    def request_began(self):
        """Count the CPU this request spends before its turn as the edit's."""
        self.request.since, self.request.edited = time.thread_time(), False

    def request_ended(self):
        """If the request edited, make the next edit rest for all the CPU it spent."""
        since, edited = getattr(self.request, "since", None), getattr(self.request, "edited", False)
        self.request.since, self.request.edited = None, False
        if since is not None and edited:
            with self.counting:
                self.rest_until = max(self.rest_until, time.monotonic() + self._rest(time.thread_time() - since))

    def _rest(self, spent):
        return spent * (1 / self.SHARE - 1)

    def __enter__(self):
        self.lock.acquire()
        rest = self.rest_until - time.monotonic()
        lately = time.monotonic() - self.READ_LATELY
        if rest > 0 and self.read_at >= lately:
            time.sleep(min(rest, self.MOST_REST))
        since = getattr(self.request, "since", None)
        self.began = time.thread_time() if since is None else since

    def __exit__(self, *_):
        # rest the next edit now; request_ended adds the answer's CPU
        self.rest_until = time.monotonic() + self._rest(time.thread_time() - self.began)
        self.request.edited = True
        self.lock.release()


class Items:
    # images whose parsed size, type, EXIF and embedded XMP are kept
    CACHED_EXAMINED = 512

    def __init__(self, tree, catalog, config):
        self.tree = tree
        self.catalog = catalog
        self.clock = catalog.clock
        self.xmp_shown = catalog.xmp_shown  # other tools' XMP is shown
        # the words live only in the XMP sidecar (LENSLET_WORDS=xmp)
        self.own = self.xmp_shown == listing_pages.WORDS
        self.writing = config.writes_xmp
        self.map_link = config.map_link
        self.examined = Recent(self.CACHED_EXAMINED)  # (storage identity, key, Stat) -> examined
        self.turns = Turns()

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
        if self.own:  # If-Match then names the XMP sidecar's version
            version, problem = (examined[1][0] or {}).get("version"), None
        body = self._answer(path, stat, sidecar or sidecars.defaults(), examined)
        if body.get("hash") is None:  # without a sidecar the hash is in the listing only
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
        """A video's length in seconds, as its poster records it, or None."""
        try:
            data, _ = place.storage.read_small(place.storage.derived_key(thumb_of(place.key)), thumbs.MAX_THUMB_BYTES)
        except LensletError:
            return None
        return thumbs.duration_of(data) if data is not None and data[:4] == b"RIFF" else None

    def trash_origin(self, path):
        """Where a trashed image came from, as its sidecar says, or None."""
        place = self.tree.locate(path, is_file=True)
        return store.sidecar_fields(place.storage, place.key).get("originalPosition")

    def _examine(self, place, stat):
        """Return what the image says, kept while its Stat holds, and what its XMP says."""
        memo_key = (place.storage.identity, place.key, stat)
        known = self.examined.get(memo_key)
        if known is None:
            known = originals.examine(place.storage, place.key, self.xmp_shown)
            if "error" not in known[0]:  # unreadable or busy: retry next time
                self.examined.put(memo_key, known)
        probed, embedded = known
        return probed, (store.xmp_of(place.storage, place.key, embedded) if self.xmp_shown else None)

    def _answer(self, path, stat, sidecar, examined):
        """Return the sidecar merged with what the image and XMP say."""
        probed, found = examined
        if self.own:
            sidecar = store.words_in(found[0], sidecar)
        turn = sidecar.get("turn", 1)
        width, height = (probed["h"], probed["w"]) if turn in QUARTER_TURNS else (probed["w"], probed["h"])
        body = dict(sidecar, path=path, size=stat.size, mtime=stat.mtime, type=probed["type"] or mime_of(path),
                    w=width, h=height, exif={**sidecar["exif"], **probed["exif"]},
                    orientation=sidecars.then(probed.get("orientation") or 1, turn))
        if "error" in probed:
            body["error"] = probed["error"]
        body.pop("place", None)  # kept as its parts; shown as the listing shows it
        person, camera = sidecars.taken_set(sidecar), dates.camera_date(body["exif"])
        body.update(takenAt=person or camera, dateSource="person" if person else "exif" if camera else None)
        body.update({key: value for key, value in sidecars.place_listed(sidecar).items() if value is not None})
        if not body.get("placeSet"):
            position = exif.gps(body["exif"].get("latitude"), body["exif"].get("longitude"))
            body.update(listing_pages.place_fields(position))
        people = regions.own_people(sidecar)
        if self.xmp_shown:
            # where the XMP sidecar holds the words, lenslet's earlier writes there are no base
            base = None if self.own else xmp.base_of(sidecar)
            view = xmp.shown(sidecar["tags"], sidecar["star"], listing_pages.readings(*found), base)
            body.update({name: view[name] for name in ("tags", "star", "rejected", "label", "title", "description",
                                                       "sources")}, xmpPaths=view["paths"])
            people = regions.united(people, view["people"])
            if view["problems"]:
                body["error"] = "; ".join(filter(None, [body.get("error"), *view["problems"]]))
        if people:
            body["people"] = listing_pages.people_shown(people, probed, turn)
        return sidecars.with_aliases(body)

    def put(self, path, body, who, if_match=None, overwrite=False):
        """Create or replace a sidecar; an edit made on an older copy is merged, not lost.
        overwrite: replace an unreadable sidecar, keeping its bytes beside it."""
        incoming = sidecars.check_put(body)
        self._place_kept(incoming)
        who = incoming.get("updatedBy") or who
        place, stat = self.tree.locate_image(path, writing=True)
        examined = self._examine(place, stat)
        kept = listing_pages.not_written(examined[1], self.writing)
        return self._write(path, place, stat, examined, if_match, lambda stored: sidecars.merge_put(
            stored, xmp.own_part(incoming, stored or sidecars.defaults(), kept), self.clock(), who), overwrite)

    def rename_person(self, paths, name, new_name, who):
        """Give a person another name (one already given merges them) on each photo; return the paths refused."""
        change = regions.check_edit({"removePeople": [name], "addPeople": [{"name": new_name}]})
        refused = []
        for path in paths:
            people = self.get(path)[0].get("people", ())
            shown = {regions.name_key(person["name"]): person.get("box") for person in people}
            box = shown.get(regions.name_key(name)) or shown.get(regions.name_key(new_name))
            try:
                self.patch(path, {"removePeople": change["removePeople"], "addPeople": [
                    {"name": change["addPeople"][0][0], **({"box": box} if box else {})}]}, who)
            except Conflict as ex:
                refused.append({"path": path, "description": ex.description})
        return refused

    def _place_kept(self, change):
        """Refuse a place or date where lenslet keeps no sidecar (LENSLET_WORDS=xmp), rather than drop it."""
        for field in (*sidecars.PERSONS, "addPeople", "removePeople") if self.own else ():
            if change.get(field) is not None:
                raise Conflict(f"with LENSLET_WORDS=xmp lenslet keeps no sidecars, and a photo's {field} is kept in "
                               "one: nothing was changed", field=field)

    def shift(self, paths, amount, who):
        """Move the dates of images by one amount: every image and its new date checked first, then each written."""
        shift = dates.check_shift(amount)
        self._place_kept({"takenAt": amount})
        found = []
        for path in dict.fromkeys(paths):  # a photo named twice moves once
            place, stat = self.tree.locate_image(path, writing=True)
            examined = self._examine(place, stat)
            camera = dates.camera_date(examined[0]["exif"]) or dates.file_date(stat.mtime)
            data, _ = place.storage.read_versioned(sidecar_of(place.key))
            stored = sidecars.parse(data) if data is not None else sidecars.defaults()
            if stored is None:  # refused here, before any photo is shifted, not midway
                raise Unreadable(UNREADABLE, path=path)
            dates.shifted(sidecars.taken_set(stored) or camera, shift)
            found.append((path, place, stat, examined, camera))
        return [self._write(path, place, stat, examined, None, lambda stored, camera=camera: sidecars.shift_taken(
            stored, camera, shift, self.clock(), who))[0] for path, place, stat, examined, camera in found]

    def patch(self, path, body, who, if_match=None):
        """Apply field operations to the current sidecar atomically."""
        ops, people_ops = sidecars.check_patch(body), regions.check_edit(body)
        self._place_kept({**ops, **people_ops})
        place, stat = self.tree.locate_image(path, writing=True)
        examined = self._examine(place, stat)
        kept = listing_pages.not_written(examined[1], self.writing)
        removed = {regions.name_key(name) for name in people_ops.get("removePeople", ())}
        elsewhere = [name for _, said in kept for name, _, _ in said.people if regions.name_key(name) in removed]
        if elsewhere:  # the original is never changed, nor an XMP sidecar lenslet only reads
            raise Conflict("lenslet cannot remove these people: another tool's XMP names them", people=elsewhere)
        held = xmp.held(ops.get("removeTags", ()), listing_pages.not_written(examined[1], self.writing))
        if held:
            # the original is never changed, nor an XMP sidecar lenslet only reads
            raise Conflict("lenslet cannot remove these tags: " + "; ".join(
                f"{tag} is kept in {' and '.join(_said(source) for source in sources)}"
                for tag, sources in held.items()), tags=list(held))
        camera = examined[0].get("orientation") or 1
        size = (examined[0].get("w"), examined[0].get("h"))
        stored_size = size[::-1] if camera in QUARTER_TURNS else size  # MWG's regions are of the stored pixels

        def make(stored):
            changed = sidecars.apply_patch(stored, ops, self.clock(), who)
            return regions.edited(changed, people_ops, sidecars.then(camera, changed.get("turn", 1))) \
                if people_ops else changed
        return self._write(path, place, stat, examined, if_match, make, removed=ops.get("removeTags", ()),
                           people=(stored_size if all(stored_size) else None, removed, camera) if people_ops else None)

    def rotate(self, path, body, who, if_match=None):
        """Turn or flip how an image is shown, over its camera's orientation; the original is never changed."""
        rotation = sidecars.check_rotation(body)
        if self.own:
            raise Conflict("with LENSLET_WORDS=xmp lenslet keeps no sidecars, and a turn is kept in one: "
                           "nothing was changed", field="turn")
        place, stat = self.tree.locate_image(path, writing=True)
        examined = self._examine(place, stat)
        camera = examined[0].get("orientation") or 1
        thumb = place.storage.derived_key(thumb_of(place.key))
        with suppress(NotFound):  # first too: a link or folder in its place refuses the turn before it is stored
            place.storage.delete(thumb)
        answer = self._write(path, place, stat, examined, if_match, camera=camera,
                             make=lambda stored: sidecars.rotated(stored, rotation, camera, self.clock(), who))
        with suppress(NotFound):  # made again turned; previews are named by the turn
            place.storage.delete(thumb)
        return answer

    def delete(self, path, if_match=None):
        """Remove an image's sidecar, never the image (with LENSLET_WORDS=xmp, the words in its XMP)."""
        place, stat = self.tree.locate_image(path, writing=True)
        storage, key = place.storage, place.key
        if self.own:
            self._write(path, place, stat, self._examine(place, stat), if_match,
                        lambda stored: dict(stored, tags=[], star=None, notes=""))
            return
        with self.turns, storage.lock_images([key]):
            _still_there(storage, key, path)
            if if_match is not None:
                _, version = storage.read_versioned(sidecar_of(key))
                check_version(if_match, version)
                storage.delete_if(sidecar_of(key), version)  # refuses if it changed since
            else:
                with suppress(NotFound):
                    storage.delete(sidecar_of(key))
            self.catalog.changed(storage, key, path, None, None)

    def _write(self, path, place, stat, examined, if_match, make, overwrite=False, removed=(), camera=None,
               people=None):
        with self.turns:
            storage, key = place.storage, place.key
            probed, found = examined

            def unreadable(old):
                # never merge into what we cannot read: its tags and notes would be lost
                if not overwrite:
                    raise Unreadable(UNREADABLE, path=path)
                backup = backup_of(sidecar_of(key), self.clock())
                storage.write(backup, old)
                log.warning("%s: unreadable sidecar replaced on request; old bytes kept as %s", path, backup)
                return True

            # a first sidecar gets the hash, so its words follow the image moved by another program
            digest = None if self.own or storage.is_file(sidecar_of(key)) else originals.content_hash(storage, key)

            def change(stored, version):
                check_version(if_match, version)
                new = sidecars.check_growth(make(stored), stored)
                if new is not None and digest is not None and not new.get("hash"):
                    new = dict(new, hash=digest)
                return new

            # moves take this lock too: the edit lands where the image is, or is refused
            with storage.lock_images([key]):
                _still_there(storage, key, path)
                if self.own:
                    sidecar, version, found = store.change_xmp_words(storage, key, change, self.clock(), found[1])
                    self.catalog.changed(storage, key, path, None, None, found, probed)
                    body = self._answer(path, stat, sidecar, (probed, found))
                    return dict(body, hash=self.catalog.listed_hash(storage, key)), version or NO_SIDECAR
                mirror = mirror_to_xmp(storage, key, self.clock(), removed, camera, people) if self.writing else None
                sidecar, version = change_sidecar(storage, key, change, unreadable, mirror=mirror)
                if self.writing:  # the edit rewrote the XMP sidecar: read it again
                    found = store.xmp_of(storage, key, found[1])
                self.catalog.changed(storage, key, path, sidecar, version, found, probed)
            return self._answer(path, stat, sidecar, (probed, found)), version


def _said(source):
    return "the image itself (never modified)" if source == xmp.EMBEDDED \
        else f"the XMP sidecar {source} (LENSLET_XMP=read: lenslet does not write it)"


def _still_there(storage, key, path):
    """Refuse a change to an image that moved or went away since it was found."""
    if not storage.exists(key):
        raise NotFound("no such image (moved or deleted meanwhile)", path=path)
