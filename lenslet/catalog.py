"""The catalog: the one place that passes a change on to listings, search and jobs."""

import logging
import time
from contextlib import suppress

from lenslet import jobs, listings
from lenslet.errors import LensletError, NotFound, PreconditionFailed
from lenslet.formats import listing_pages, sidecars, xmp
from lenslet.images import originals
from lenslet.layout import first_page_names, join, name_of, parent, sidecar_of
from lenslet.listings import Folders
from lenslet.search.rollup import note_changes
from lenslet.sidecar import store

HASHED_AT_ONCE = 50  # images whose edits wait while the worker records their hashes and patches the listing
log = logging.getLogger("lenslet")

class Catalog:
    def __init__(self, tree, config, clock=time.time):
        self.tree = tree
        self.root = tree.root
        # whether other tools' XMP is shown
        self.xmp_shown = listing_pages.xmp_shown(config.xmp, config.words)
        self.clock = clock
        # a rebuild may find other programs' changes for search
        self.listings = Folders(tree, config, clock)

    def shown(self, storage, key, sidecar, version=None, found=None, probed=None):
        """Return an image's listing and search fields, with its XMP merged in when shown.
        probed: the image's orientation and size, without which its listing entry keeps the people it has."""
        if self.xmp_shown and found is None:
            found = store.xmp_of(storage, key)
        return listing_pages.shown(sidecar, version, found if self.xmp_shown else None,
                                   self.xmp_shown == listing_pages.WORDS, probed)

    def changed(self, storage, key, path, sidecar, version, found=None, probed=None):
        """Update an image's listing entry and search; the caller holds the image's lock."""
        listed, searched = self.shown(storage, key, sidecar, version, found, probed)
        # the words live in XMP: leave these entry fields alone
        if self.xmp_shown == listing_pages.WORDS:
            for name in ("hash", "hasMeta", "metaMtime", "metaVersion"):
                listed.pop(name)
        elif sidecar is not None and listed.get("hash") is None:
            listed.pop("hash", None)  # the sidecar predates the hash
        listings.try_update_entries(storage, parent(key), {name_of(key): listed},
                                    lambda: note_changes(self.root, {path: searched}, self.clock))

    def added(self, storage, key, path, digest, opened=None):
        """Record an uploaded, hashed image (read at Stat `opened`) in its sidecar, listing and search."""
        probed = originals.probe(storage, key, self.xmp_shown)
        found = store.xmp_of(storage, key, probed.get("embedded") or xmp.Metadata().to_dict()) \
            if self.xmp_shown else None
        sidecar, version = store.record_hash(storage, key, digest, opened)
        searched = self.shown(storage, key, sidecar or store.sidecar_fields(storage, key), version, found)[1]
        if sidecar is not None or not self.listings.add_image(storage, key, probed, digest):
            self.relist(storage, parent(key), {name_of(key): (probed, (sidecar, version))})
            if sidecar is None:  # the listing entry holds the hash instead
                listings.try_update_entries(storage, parent(key), {name_of(key): {"hash": digest}})
        note_changes(self.root, {path: searched}, self.clock)

    def hashed(self, storage, folder, digests, opened=None, looks=None):
        """Record hashes found while making thumbnails in sidecars, then the listing with the thumbnails' looks;
        `opened`: {name: the Stat the image was hashed at}, and an image changed since is left to whoever changed
        it."""
        pages = [storage.derived_key(join(folder, name)) for name in first_page_names()]
        if digests and not any(storage.is_file(page) for page in pages):
            # images without a sidecar need a listing to hold their hashes
            self.relist(storage, folder)
        found = list(digests.items())
        for start in range(0, len(found), HASHED_AT_ONCE):
            chunk = dict(found[start:start + HASHED_AT_ONCE])
            try:
                # the words listed are patched under the images' locks, as an edit's are, so none is patched over
                with storage.lock_images([join(folder, name) for name in chunk]):
                    listings.try_update_entries(storage, folder, self._hashes_recorded(
                        storage, folder, chunk, opened or {}, looks or {}))
            except LensletError as ex:
                log.warning("%s: hashes not recorded: %s", folder or "/", ex.description)
        self.listings.ask_for_rollup()

    def _hashes_recorded(self, storage, folder, digests, opened, looks):
        """Record hashes in sidecars; return the listing entries to patch."""
        entries = {}
        for name, digest in digests.items():
            image = join(folder, name)
            try:
                sidecar, version = store.record_hash(storage, image, digest, opened.get(name))
            except NotFound:
                continue
            except LensletError as ex:
                log.warning("%s: hash not recorded: %s", image, ex.description)
                continue
            entries[name] = {"hash": digest, "hasThumb": True, **looks.get(name, {})}
            if sidecar is not None:  # an unreadable sidecar is left alone
                entries[name].update(self.shown(storage, image, sidecar, version)[0], hash=digest)
        return entries

    def looked(self, storage, folder, looks):
        """Record the looks of thumbnails made before they were kept in the listing."""
        if looks:
            listings.try_update_entries(storage, folder, looks)
            self.listings.ask_for_rollup()

    def adopt(self, storage, source, image):
        """Give a moved image the sidecar left at its old name (source); False when it has one of its own.
        Only a sidecar holding nothing but lenslet's hash is replaced."""
        with storage.lock_images([source, image]):
            data, source_version = storage.read_versioned(sidecar_of(source))
            adopted = sidecars.parse(data) if data is not None else None
            if adopted is None or storage.exists(source) or not storage.exists(image):
                return False  # nothing to give, or an image came back or left
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
            with suppress(NotFound, PreconditionFailed):
                storage.delete_if(sidecar_of(source), source_version)
            self.changed(storage, image, image, sidecar, version)
            note_changes(self.root, {source: {"gone": True}}, self.clock)
        return True

    def relist(self, storage, folder, known=None):
        """Rebuild a folder's listing now."""
        try:
            self.listings.refresh(storage, folder, None, known=known)
        except LensletError as ex:
            log.warning("%s: listing not rebuilt after a change: %s", folder or "/", ex.description)

    def listed_hash(self, storage, key):
        return listings.listed_hash(storage, key)

    def listed_hashes(self, storage, folder):
        try:
            items = listings.stored_items(storage, folder)
        except LensletError:
            return {}
        return {item["name"]: item["hash"] for item in items
                if isinstance(item.get("name"), str) and isinstance(item.get("hash"), str)}

    def folder_moved(self, storage, folder):
        """Repath the listings of a moved folder and of those below it."""
        try:
            listings.repath(storage, folder)
        except LensletError as ex:
            log.warning("%s: listings of a moved folder are rebuilt when read: %s", folder, ex.description)

    def operation_done(self, folders, notes, rollup=False, hashes=None):
        """Relist the folders an operation changed, carry moved images' hashes, tell search."""
        for storage, folder in folders:
            self.relist(storage, folder)
            if carried := (hashes or {}).get((storage.identity, folder)):
                listings.try_update_entries(storage, folder,
                                            {name: {"hash": digest} for name, digest in carried.items()})
        note_changes(self.root, notes, self.clock)
        if rollup and not notes:
            jobs.ask_for_rollup(self.root, self.clock)


def found_hashes(job):
    """Return the valid {name: digest} of an older lenslet's "hashes" job."""
    given = job.get("hashes")
    return {name: digest for name, digest in given.items() if jobs.is_found_hash(name, digest)} \
        if isinstance(given, dict) else {}
