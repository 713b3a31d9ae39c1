"""Units of work shared by the worker and the web processes."""

import os
import socket
import time

import orjson

from . import __version__, manifests
from .errors import LensletError
from .folders import read_pages
from .storage import STATE, join

HEARTBEATS = f"{STATE}/workers"
# A worker counts as alive while its last heartbeat is younger than this many beats.
ALIVE_BEATS = 3
# Heartbeat files of workers gone longer than this are no longer reported.
FORGET_AFTER = 3600


def worker_id():
    """Name this worker process uniquely across hosts sharing one tree."""
    return f"{socket.gethostname()}-{os.getpid()}"


def write_heartbeat(storage, wid, started_at, backlog=0, clock=time.time):
    """Record that this worker is alive, for GET /health in any web process."""
    beat = {"worker": wid, "pid": os.getpid(), "version": __version__,
            "startedAt": started_at, "beatAt": clock(), "backlog": backlog}
    storage.write(join(HEARTBEATS, f"{wid}.json"), orjson.dumps(beat))


def clear_heartbeat(storage, wid):
    """Remove this worker's heartbeat on a clean exit."""
    try:
        storage.delete(join(HEARTBEATS, f"{wid}.json"))
    except LensletError:
        pass


def worker_status(storage, heartbeat, clock=time.time):
    """Summarize the workers' heartbeats: alive, last heartbeat, backlog."""
    now = clock()
    beats = []
    try:
        entries = storage.list_folder(HEARTBEATS)
    except LensletError:
        entries = []
    for entry in entries:
        if entry.is_dir or not entry.name.endswith(".json") or now - entry.mtime > FORGET_AFTER:
            continue
        try:
            beats.append(orjson.loads(storage.read(join(HEARTBEATS, entry.name))))
        except (LensletError, orjson.JSONDecodeError):
            continue  # replaced or removed while we looked
    alive = [b for b in beats if now - b.get("beatAt", 0) <= heartbeat * ALIVE_BEATS]
    last = max((b.get("beatAt", 0) for b in beats), default=None)
    return {
        "alive": bool(alive),
        "workers": len(alive),
        "lastHeartbeat": last,
        "secondsSinceHeartbeat": None if last is None else round(now - last, 3),
        "backlog": sum(b.get("backlog", 0) for b in alive),
    }


ROLLUP = "_rollup.json"
HEALTH = "_health.json"
MAX_REPORTED = 200  # files listed by name per problem in _health.json; the counts are complete


def stored_pages(storage, folder):
    """Read a folder's stored manifest pages as they are ([] when there is none usable)."""
    for first in (manifests.INDEX, "_index_0.json"):
        try:
            page = orjson.loads(storage.read_derived(join(folder, first)))
        except (LensletError, orjson.JSONDecodeError):
            continue
        return read_pages(storage, folder, page) if manifests.usable(page) else []
    return []


def stored_items(storage, folder):
    return [item for page in stored_pages(storage, folder) for item in page["items"] if isinstance(item, dict)]


def build_rollup(storage, clock=time.time):
    """Flatten the stored manifests into _rollup.json, in path order (no sidecar is read).

    Returns what it counted, for the health report.
    """
    items, unindexed, stack = [], [], [""]
    counts = {"images": 0, "missingThumbs": 0, "folders": 0}
    errors = {}
    while stack:
        folder = stack.pop()
        pages = stored_pages(storage, folder)
        if not pages:
            unindexed.append(folder)
            continue
        counts["folders"] += 1
        for page in pages:
            for item in page["items"]:
                items.append(item)
                counts["images"] += 1
                counts["missingThumbs"] += not item.get("hasThumb")
                if item.get("error"):
                    errors[item.get("path")] = item["error"]
        stack.extend(join(folder, d["name"]) for d in pages[0]["dirs"]
                     if isinstance(d, dict) and d.get("kind") != "leaf-pointer")
    items.sort(key=lambda item: item.get("path") or "")
    storage.write_derived(ROLLUP, rollup_bytes(items, clock()))
    return dict(counts, unindexedFolders=unindexed, unreadable=errors)


def rollup_bytes(items, generated_at):
    """The rollup as JSON with one item a line, so a web process can load it line by line."""
    head = orjson.dumps({"v": 1, "generatedAt": generated_at, "count": len(items)})[:-1] + b',"items":[\n'
    return head + b",\n".join(map(orjson.dumps, items)) + b"\n]}\n"


def health_report(stats, scan, thumb_errors, backlog, runs, clock=time.time):
    """The worker's report for _health.json: counts first, then the files behind them."""
    orphan_sidecars = sorted(path for summary in scan.values() for path in summary.get("orphanSidecars", ()))
    orphan_thumbs = sorted(path for summary in scan.values() for path in summary.get("orphanThumbs", ()))
    pointers = {folder: summary["pointer"] for folder, summary in scan.items()
                if isinstance(summary.get("pointer"), dict)}
    errors = dict(stats.get("unreadable", {}))
    errors.update(thumb_errors)
    return {
        "v": 1,
        "generatedAt": clock(),
        "images": sum(summary.get("images", 0) for summary in scan.values()) or stats.get("images", 0),
        "missingThumbs": stats.get("missingThumbs"),
        "orphanSidecars": len(orphan_sidecars),
        "orphanThumbs": len(orphan_thumbs),
        "brokenPointers": sum(1 for p in pointers.values() if p.get("problem") == "broken"),
        "pointerLoops": sum(1 for p in pointers.values() if p.get("problem") == "loop"),
        "fileErrors": len(errors),
        "backlog": backlog,
        "lastRuns": runs,
        "files": {
            "orphanSidecars": orphan_sidecars[:MAX_REPORTED],
            "orphanThumbs": orphan_thumbs[:MAX_REPORTED],
            "pointers": dict(list(pointers.items())[:MAX_REPORTED]),
            "errors": dict(sorted(errors.items())[:MAX_REPORTED]),
            "unindexedFolders": stats.get("unindexedFolders", [])[:MAX_REPORTED],
        },
    }


def read_health(storage):
    """The summary of _health.json for GET /health (None before the worker wrote one)."""
    try:
        report = orjson.loads(storage.read_derived(HEALTH))
    except (LensletError, orjson.JSONDecodeError):
        return None
    return {key: value for key, value in report.items() if key != "files"}
