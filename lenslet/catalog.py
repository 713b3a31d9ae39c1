"""The catalog: the one door for every change.

A service changes one stored thing (a sidecar, an image's file, a folder) and tells the catalog
what changed: an image's sidecar is now this, an image was added or hashed or is gone, a folder
changed. The catalog sends every notice that follows: the image's listing entry, the listing of
its folder, search's journal and the rollup job, the job that records a hash found by a read.
Nothing else sends them. Built once by create_app and once by the worker, and injected.
"""

import logging
import time

from lenslet import jobs
from lenslet.errors import LensletError, NotFound, PreconditionFailed
from lenslet.formats import manifests, sidecars, xmp
from lenslet.images import originals
from lenslet.layout import first_page_names, join, name_of, parent, sidecar_of
from lenslet.manifest import listings
from lenslet.manifest.listings import Folders
from lenslet.search.rollup import note_changes
from lenslet.sidecar import store

log = logging.getLogger("lenslet")

class Catalog:
    def __init__(self, tree, config, clock=time.time):
        self.tree = tree
        self.root = tree.root  # the tree's own storage: search's journal and the jobs live there
        # other tools' XMP is shown, merged into tags and star; or it holds the words (manifests.WORDS)
        self.reading = manifests.xmp_shown(config.xmp, config.words)
        self.clock = clock
        # The listings are the catalog's: a listing rebuilt by a read is search's news too (search is
        # built from listings, and a rebuild may hold what another program changed, which no edit told).
        self.listings = Folders(tree, config, clock)

    # -- an image ------------------------------------------------------------

    def shown(self, storage, key, sidecar, version=None, found=None):
        """An image's listing fields and searched fields from its sidecar (None: it has none) at
        version, with what XMP says merged in when reading (found: store.xmp_of as the caller read it)."""
        if self.reading and found is None:
            found = store.xmp_of(storage, key)
        return manifests.shown(sidecar, version, found if self.reading else None, self.reading == manifests.WORDS)

    def changed(self, storage, key, path, sidecar, version, found=None):
        """An image's sidecar is now `sidecar` at `version` (None: it has none): its listing entry and search.

        The caller holds the image's lock, so entries follow the order of the writes; one another
        program makes meanwhile shows in the listing by its version (see manifests.derived_from).
        found: what XMP says of the image, as the caller read it for this change (else read here).
        """
        listed, searched = self.shown(storage, key, sidecar, version, found)
        # (words kept in XMP sidecars leave lenslet's sidecar, if any, and the hash as they are)
        if self.reading == manifests.WORDS:
            for name in ("hash", "hasMeta", "metaMtime", "metaVersion"):
                listed.pop(name)
        elif sidecar is not None and listed.get("hash") is None:
            listed.pop("hash", None)  # the entry's own stays (a sidecar written before the image was hashed)
        # Search hears of it once the listing holds it (whichever thread writes the entry tells it).
        listings.update_entries_quietly(storage, parent(key), {name_of(key): listed},
                                        lambda: note_changes(self.root, {path: searched}, self.clock))

    def added(self, storage, key, path, digest):
        """An image was added (an upload) and hashed: its sidecar holds the hash, its folder's listing shows
        it (what was read of it here is not read again), search hears of it. One call."""
        probed = originals.probe(storage, key, self.reading)
        found = store.xmp_of(storage, key, probed.get("embedded") or xmp.Metadata().to_dict()) \
            if self.reading else None
        sidecar, version = store.record_hash(storage, key, digest)
        searched = manifests.shown(sidecar or store.sidecar_fields(storage, key), version, found,
                                   self.reading == manifests.WORDS)[1]
        known = {name_of(key): (probed, (sidecar, version))} if sidecar is not None else {}
        self.relist(storage, parent(key), known)
        if sidecar is None:  # no sidecar holds the hash of an image nobody described: its entry does
            listings.update_entries_quietly(storage, parent(key), {name_of(key): {"hash": digest}})
        note_changes(self.root, {path: searched}, self.clock)

    def hashed(self, storage, folder, digests):
        """Originals were hashed (name -> digest) where their thumbnails were made: the hashes go into
        their sidecars, then into their listing entries in one pass over the folder's listing."""
        entries = {}
        for name, digest in digests.items():
            image = join(folder, name)
            try:
                sidecar, version = store.record_hash(storage, image, digest)
            except NotFound:
                continue  # the image went away meanwhile
            except LensletError as ex:
                log.warning("%s: hash not recorded: %s", image, ex.description)
                continue
            entries[name] = {"hash": digest, "hasThumb": True}
            if sidecar is not None:  # (an unreadable one is left as it is, and so is its entry)
                # The entry's fields all from the version stored, never a version beside older fields.
                entries[name].update(self.shown(storage, image, sidecar, version)[0], hash=digest)
        pages = [storage.derived_key(join(folder, name)) for name in first_page_names()]
        if entries and not any(storage.exists(page) for page in pages):
            # No listing yet to hold the hashes of images nobody described (they have no sidecar): one is built.
            self.relist(storage, folder)
        listings.update_entries_quietly(storage, folder, entries)
        jobs.ask_for_rollup(self.root, self.clock)

    def hash_found(self, path, digest):
        """A read (a first thumbnail) found an original's hash: the worker records it with the others found
        in its folder, in one pass, as it records the hashes of the thumbnails it makes. A read itself
        never writes a sidecar or a listing."""
        folder, _, name = path.rpartition("/")
        try:
            jobs.note_found_hash(self.root, folder, name, digest, self.clock)
        except LensletError as ex:
            log.warning("%s: its hash waits for the next index: %s", path, ex.description)

    def adopt(self, storage, source, image):
        """Give a moved image the sidecar left at its old name (source); False when it has one of its own.

        Re-attachment only fills an empty place: the image's sidecar is replaced only while it holds
        nothing but what lenslet made (the hash), never a description, another program's keys, or
        where a trashed image came from.
        """
        with storage.lock_images([source, image]):
            data, source_version = storage.read_versioned(sidecar_of(source))
            adopted = sidecars.parse(data) if data is not None else None
            if adopted is None or storage.exists(source) or not storage.exists(image):
                return False  # nothing to give, or the image came back, or the moved one left again
            taken = []

            def change(stored, version):
                if stored is not None and not sidecars.blank(stored):
                    taken.append(True)
                    return None
                return dict(adopted, hash=(stored or {}).get("hash") or adopted.get("hash"))

            def unreadable(old):
                taken.append(True)  # what cannot be read is never replaced
                return False

            sidecar, version = store.change_sidecar(storage, image, change, unreadable)
            if taken:
                return False
            try:
                storage.delete_if(sidecar_of(source), source_version)
            except (NotFound, PreconditionFailed):
                pass  # changed or removed meanwhile: it stays an orphan, reported as one
            self.changed(storage, image, image, sidecar, version)
            note_changes(self.root, {source: {"gone": True}}, self.clock)  # search forgets the old path at once
        return True

    # -- folders -------------------------------------------------------------

    def relist(self, storage, folder, known=None):
        """A folder's files changed: rebuild its listing now, so the next listing shows the change
        (known: what was just read of some of its images, see listings.build)."""
        try:
            self.listings.refresh(storage, folder, None, known=known)
        except LensletError as ex:
            log.warning("%s: listing not rebuilt after a change: %s", folder or "/", ex.description)

    def listed_hash(self, storage, key):
        """The content hash an image's listing entry holds, or None (see listings.listed_hash)."""
        return listings.listed_hash(storage, key)

    def listed_hashes(self, storage, folder):
        """{name: content hash} of a folder's images as its stored listing holds them ({} without one)."""
        try:
            items = listings.stored_items(storage, folder)
        except LensletError:
            return {}
        return {item["name"]: item["hash"] for item in items
                if isinstance(item.get("name"), str) and isinstance(item.get("hash"), str)}

    def folder_moved(self, storage, folder):
        """A folder was moved or renamed to folder: its listings, and those below it, name where they are now."""
        try:
            listings.repath(storage, folder)
        except LensletError as ex:
            log.warning("%s: listings of a moved folder are rebuilt when read: %s", folder, ex.description)

    def operation_done(self, folders, notes, rollup=False, hashes=None):
        """A file operation ended (also part way): relist the folders it changed ((storage, folder)
        pairs), give moved images the hashes their old listing held (hashes: (storage identity, folder)
        -> {name: digest}) and tell search of its images (path -> searched fields, or {"gone": True})."""
        hashes = hashes or {}
        for storage, folder in folders:
            self.relist(storage, folder)
            carried = hashes.get((storage.identity, folder))
            if carried:
                listings.update_entries_quietly(storage, folder, {name: {"hash": digest}
                                                                  for name, digest in carried.items()})
        note_changes(self.root, notes, self.clock)
        if rollup and not notes:
            jobs.ask_for_rollup(self.root, self.clock)


def found_hashes(job):
    """The hashes a "hashes" job of an older lenslet names ({name: digest}), those of their shape only: a
    job file is input. (Today's jobs name only their folder; the hashes wait in its spool, jobs.py.)"""
    given = job.get("hashes")
    if not isinstance(given, dict):
        return {}
    return {name: digest for name, digest in given.items()
            if isinstance(name, str) and "/" not in name and name and isinstance(digest, str)
            and sidecars.HASH.fullmatch(digest)}
