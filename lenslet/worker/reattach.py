"""Give metadata left behind to the image another tool moved, found by its content hash."""

import logging
from contextlib import suppress

from lenslet import listings
from lenslet.errors import AlreadyExists, BadPath, LensletError, NotFound
from lenslet.files.operations import moves_under_way
from lenslet.formats import sidecars
from lenslet.layout import FOLDER_SIDECAR, SIDECAR, join, parent, thumb_of
from lenslet.search import rollup

log = logging.getLogger("lenslet.worker")
KEPT = 200  # re-attachments remembered for the health report


def reattach(runner):
    """Give orphan sidecars and thumbnails to their moved images; return (moves done, duplicates)."""
    storage = runner.storage
    # a move through lenslet has its files apart for a moment: they are not orphans
    orphans, covers = ({}, {}) if moves_under_way(storage) else (_orphans_by_hash(storage, runner.summaries),
                                                                 _covers_left(storage, runner.summaries))
    groups = _rollup_by_hash(storage, set(orphans) | set(covers.values()))
    duplicates = {digest: sorted(paths) for digest, paths in groups.items() if len(paths) > 1}
    done = []
    for digest, orphan_images in orphans.items():
        for orphan in orphan_images:
            for target in _homes_of(storage, orphan, digest, groups.get(digest, ())):
                if _adopt(runner, orphan, target):
                    done.append({"from": orphan, "to": target, "kind": "moved"})
                    break
    _bring_covers(runner, done, {folder: groups.get(digest, ()) for folder, digest in covers.items()})
    return done, duplicates


def _orphans_by_hash(storage, scan):
    """{hash: [keys of images gone that left a sidecar]} from the scanner's summaries."""
    found = {}
    for summary in scan.values():
        for key in summary.get("orphanSidecars", ()):
            try:
                sidecar = sidecars.parse(storage.read(key))
            except LensletError:
                continue
            digest = sidecar.get("hash") if sidecar else None
            image = key[:-len(SIDECAR)]
            if isinstance(digest, str) and not _there(storage, image):
                found.setdefault(digest, []).append(image)
    return found


def _covers_left(storage, scan):
    """{lost folder with a picked cover: the picked image's hash from its old listing}."""
    found = {}
    for folder, summary in scan.items():
        name = listings.read_cover(storage, folder) if summary.get("orphanCover") else None
        if name is not None:
            digest = next((item.get("hash") for item in _items(storage, folder) if item.get("name") == name), None)
            if isinstance(digest, str):
                found[folder] = digest
    return found


def _rollup_by_hash(storage, wanted):
    """{hash: [paths]} from the rollup: the hashes wanted, and every shared one."""
    groups = {}

    def collect(items):
        for item in items:
            digest = item.get("hash")
            if isinstance(digest, str) and isinstance(item.get("path"), str):
                groups.setdefault(digest, []).append(item["path"])

    try:
        loaded, _ = rollup.load(storage, rollup.stat(storage), collect)
        loaded.stream.close()
    except (LensletError, ValueError):
        return {}
    return {digest: paths for digest, paths in groups.items() if digest in wanted or len(paths) > 1}


def _homes_of(storage, orphan, digest, anywhere):
    """Yield images of the orphan's hash: in its own folder first, then anywhere."""
    folder = parent(orphan)
    here = [item["path"] for item in listings.stored_items(storage, folder)
            if item.get("hash") == digest and isinstance(item.get("path"), str)]
    seen = set()
    for path in here + sorted(anywhere, key=lambda path: (parent(path) != folder, path)):
        if path not in seen and path != orphan and storage.exists(path):
            seen.add(path)
            yield path


def _adopt(runner, source, target):
    storage = runner.storage
    try:
        if not runner.catalog.adopt(storage, source, target):
            return False
        _bring_thumb(storage, source, target)
    except LensletError as ex:
        log.warning("cannot give %s the metadata of %s: %s", target, source, ex.description)
        return False
    log.info("moved the metadata of %s to %s", source, target)
    return True


def _bring_covers(runner, done, picked):
    """Move a lost folder's picked cover to the one folder its images all went to, if that is the folder
    renamed (same photo names) and has no pick of its own."""
    storage = runner.storage
    went = {}
    for move in done:
        went.setdefault(parent(move["from"]), set()).add(parent(move["to"]))
    for old, paths in picked.items():
        went.setdefault(old, {parent(path) for path in paths})
    for old, new in went.items():
        if len(new) != 1 or _is_folder(storage, old):
            continue
        new = new.pop()
        if _names(storage, new) != _names(storage, old):
            continue  # photos moved into another folder, not a rename
        try:
            storage.rename(join(old, FOLDER_SIDECAR), join(new, FOLDER_SIDECAR))
        except (NotFound, AlreadyExists):
            continue  # no pick there, or the folder has its own
        except LensletError as ex:
            log.warning("cannot give %s the cover picked for %s: %s", new or "/", old or "/", ex.description)
            continue
        log.info("moved the cover picked for %s to %s", old or "/", new or "/")
        runner.catalog.listings.listing_changed()  # counts are worked out again


def _names(storage, folder):
    return {item.get("name") for item in _items(storage, folder)}


def _items(storage, folder):
    try:
        return listings.stored_items(storage, folder)
    except LensletError:
        return []  # e.g. its folder is now a link out of the library


def _there(storage, key):
    try:
        return storage.exists(key)
    except BadPath:
        return False  # its folder is now a link out of the library


def _is_folder(storage, key):
    try:
        return storage.stat(key).is_dir
    except (NotFound, BadPath):
        return False


def _bring_thumb(storage, source, target):
    """Move the orphan's thumbnail with its sidecar, unless the image has one already."""
    old, new = storage.derived_key(thumb_of(source)), storage.derived_key(thumb_of(target))
    with suppress(NotFound):
        if storage.exists(new):
            storage.delete(old)
        else:
            storage.rename(old, new)
