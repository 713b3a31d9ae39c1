"""Metadata follows an image moved or copied by another tool, found by its content hash.

After each rollup the worker looks at the orphan sidecars the scanner found (a
sidecar whose image is gone): an image with the sidecar's `hash` and no
description of its own gets it, looked for in the same folder first, then
anywhere in the tree through the rollup. An image that is a copy of a described
one (same hash) gets a copy of its metadata; the original keeps its own.
"""

import logging

from .. import folders, rollup, sidecars
from ..errors import LensletError, NotFound
from ..files import moves_under_way
from ..items import adopt_sidecar
from ..layout import SIDECAR, parent, thumb_of

log = logging.getLogger("lenslet.worker")
KEPT = 200  # re-attachments remembered for the health report


def reattach(runner):
    """Give orphan sidecars (and thumbnails) to their moved images, metadata to copies; return what was done."""
    storage = runner.storage
    if moves_under_way(storage):
        return []  # a move through lenslet has its files apart for a moment: not orphans
    orphans = _orphans_by_hash(storage, runner.scan)
    groups = _rollup_by_hash(storage, set(orphans))
    done = []
    for digest, orphan_images in orphans.items():
        for orphan in orphan_images:
            target = _home_of(storage, orphan, digest, groups.get(digest, ()))
            if target is not None and _adopt(runner, orphan, target, keep=False):
                done.append({"from": orphan, "to": target, "kind": "moved"})
    for digest, paths in groups.items():
        if digest in orphans or len(paths) < 2:
            continue
        done += _copy_to_copies(runner, paths)
    return done


def _orphans_by_hash(storage, scan):
    """{hash: [image keys whose sidecar is left without its image]} from the scanner's summaries."""
    found = {}
    for summary in scan.values():
        for key in summary.get("orphanSidecars", ()):
            try:
                sidecar = sidecars.parse(storage.read(key))
            except LensletError:
                continue
            digest = sidecar.get("hash") if sidecar else None
            image = key[:-len(SIDECAR)]
            if isinstance(digest, str) and not storage.exists(image):
                found.setdefault(digest, []).append(image)
    return found


def _rollup_by_hash(storage, wanted):
    """{hash: [paths]} from the rollup: the hashes asked for, and every hash two images share."""
    groups = {}

    def collect(items):
        for item in items:
            digest = item.get("hash")
            if isinstance(digest, str) and isinstance(item.get("path"), str):
                groups.setdefault(digest, []).append(item["path"])
        return None

    try:
        loaded, _ = rollup.load(storage, rollup.stat(storage), collect)
        loaded.stream.close()
    except (NotFound, LensletError, ValueError):
        return {}
    return {digest: paths for digest, paths in groups.items() if digest in wanted or len(paths) > 1}


def _home_of(storage, orphan, digest, anywhere):
    """The image an orphan sidecar belongs to: one with its hash in its own folder first, then anywhere."""
    folder = parent(orphan)
    here = [item["path"] for item in folders.stored_items(storage, folder)
            if item.get("hash") == digest and isinstance(item.get("path"), str)]
    for path in here + sorted(anywhere, key=lambda path: (parent(path) != folder, path)):
        if path != orphan and storage.exists(path):
            return path
    return None


def _copy_to_copies(runner, paths):
    """Give each undescribed image of one content a copy of the described one's metadata."""
    storage = runner.storage
    described = [path for path in paths if _described(storage, path)]
    if not described:
        return []
    done = []
    for path in paths:
        if path not in described and _adopt(runner, described[0], path, keep=True):
            done.append({"from": described[0], "to": path, "kind": "copied"})
    return done


def _described(storage, path):
    try:
        sidecar = sidecars.parse(storage.read(path + SIDECAR))
    except LensletError:
        return False
    return sidecar is not None and bool(sidecar["tags"] or sidecar["notes"] or sidecar["star"] is not None)


def _adopt(runner, source, target, keep):
    storage = runner.storage
    try:
        if not adopt_sidecar(storage, storage, source, target, keep, runner.clock):
            return False
        if not keep:
            _bring_thumb(storage, source, target)
    except LensletError as ex:
        log.warning("cannot give %s the metadata of %s: %s", target, source, ex.description)
        return False
    log.info("%s the metadata of %s to %s", "copied" if keep else "moved", source, target)
    return True


def _bring_thumb(storage, source, target):
    """The orphan's thumbnail goes with its sidecar, unless the image has a fresh one already."""
    old, new = storage.derived_key(thumb_of(source)), storage.derived_key(thumb_of(target))
    try:
        if storage.exists(new):
            storage.delete(old)
        else:
            storage.rename(old, new)
    except NotFound:
        pass
