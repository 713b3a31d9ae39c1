"""Metadata follows an image moved or copied by another tool, found by its content hash.

After each rollup the worker looks at the orphan sidecars the scanner found (a
sidecar whose image is gone): an image with the sidecar's `hash` and no
description of its own gets it, looked for in the same folder first, then
anywhere in the tree through the rollup. An image that is a copy of a described
one (same hash, and it appeared after that one was last edited) gets a copy of its
metadata; the original keeps its own.
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
            for target in _homes_of(storage, orphan, digest, groups.get(digest, ())):
                if _adopt(runner, orphan, target, keep=False):
                    done.append({"from": orphan, "to": target, "kind": "moved"})
                    break
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


def _homes_of(storage, orphan, digest, anywhere):
    """Images an orphan sidecar may belong to (same hash): in its own folder first, then anywhere."""
    folder = parent(orphan)
    here = [item["path"] for item in folders.stored_items(storage, folder)
            if item.get("hash") == digest and isinstance(item.get("path"), str)]
    seen = set()
    for path in here + sorted(anywhere, key=lambda path: (parent(path) != folder, path)):
        if path not in seen and path != orphan and storage.exists(path):
            seen.add(path)
            yield path


def _copy_to_copies(runner, paths):
    """Give each undescribed image of one content, which appeared after the described one was last
    edited, a copy of its metadata: it is taken for a copy (twins that were there before stay apart)."""
    storage = runner.storage
    edited = {path: _edited_at(storage, path) for path in paths}
    described = sorted((path for path in paths if edited[path] is not None), key=edited.get)
    if not described:
        return []
    source, done = described[0], []
    # An object's time in a bucket is in whole seconds: a copy made in the second of the edit counts.
    slack = 0.0 if storage.folder_mtimes else 1.0
    for path in paths:
        if edited[path] is not None or path == source:
            continue
        try:
            appeared = storage.stat(path).changed
        except LensletError:
            continue
        if appeared + slack > edited[source] and _adopt(runner, source, path, keep=True):
            done.append({"from": source, "to": path, "kind": "copied"})
    return done


def _edited_at(storage, path):
    """When an image's description (tags, notes, star) was last edited, or None when it has none."""
    try:
        sidecar = sidecars.parse(storage.read(path + SIDECAR))
    except LensletError:
        return None
    if sidecar is None or not (sidecar["tags"] or sidecar["notes"] or sidecar["star"] is not None):
        return None
    return sidecars.parse_time(sidecar.get("updatedAt"))


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
