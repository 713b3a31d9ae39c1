"""Worker heartbeats and the health report (`_health.json`)."""

import os
import socket
import time
from contextlib import suppress

import orjson

from lenslet import __version__
from lenslet.errors import LensletError
from lenslet.layout import HEALTH, HEARTBEATS, JOBS_REJECTED, JOURNAL_REJECTED, MOVES_REJECTED, join

# a worker is alive while its last heartbeat is at most this many beats old
ALIVE_BEATS = 3
# heartbeats older than this are no longer reported
FORGET_AFTER = 3600
MAX_REPORTED = 200  # files named per problem; the counts stay complete
MIN_FREE = 64 * 1024  # bytes left under which the disk is full
DISK_FULL_FOR = 30.0  # seconds a failed write's "disk full" lasts


def worker_id():
    """Name this worker process uniquely across hosts sharing one tree."""
    return f"{socket.gethostname()}-{os.getpid()}"


def write_heartbeat(storage, wid, started_at, backlog=0, clock=time.time):
    """Record that this worker is alive, for GET /health in any web process."""
    beat = {"worker": wid, "pid": os.getpid(), "version": __version__,
            "startedAt": started_at, "beatAt": clock(), "backlog": backlog}
    storage.write(join(HEARTBEATS, f"{wid}.json"), orjson.dumps(beat))


def clear_heartbeat(storage, wid):
    with suppress(LensletError):
        storage.delete(join(HEARTBEATS, f"{wid}.json"))


def disk_full(free_bytes, free_files, full_at):
    """Tell whether the disk is full: too few bytes or files free (None: unknown), or a write refused lately."""
    low = (free_bytes is not None and free_bytes < MIN_FREE) or free_files == 0
    return low or (full_at is not None and time.monotonic() - full_at < DISK_FULL_FOR)


def worker_status(storage, heartbeat, clock=time.time):
    """Summarize the workers' heartbeats for GET /health."""
    now = clock()
    beats, entries = [], []
    with suppress(LensletError):
        entries = storage.list_folder(HEARTBEATS)
    for entry in entries:
        if entry.is_dir or not entry.name.endswith(".json") or now - entry.mtime > FORGET_AFTER:
            continue
        try:
            beat = orjson.loads(storage.read(join(HEARTBEATS, entry.name)))
        except (LensletError, orjson.JSONDecodeError):
            continue
        if isinstance(beat, dict) and _number(beat.get("beatAt")):
            beats.append(beat if _number(beat.get("backlog", 0)) else dict(beat, backlog=0))
        # a state file is input: other shapes are ignored
    alive = [b for b in beats if now - b["beatAt"] <= heartbeat * ALIVE_BEATS]
    last = max((b["beatAt"] for b in beats), default=None)
    return {
        "alive": bool(alive),
        "workers": len(alive),
        "lastHeartbeat": last,
        "secondsSinceHeartbeat": None if last is None else round(now - last, 3),
        "backlog": sum(b.get("backlog", 0) for b in alive),
    }


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def report(stats, scan, thumb_errors, backlog, runs, clock=time.time, trash=None, thumbnails=None):
    """Build the report for _health.json: counts first, then the files behind them."""
    orphan_sidecars = sorted(path for summary in scan.values() for path in summary.get("orphanSidecars", ()))
    orphan_thumbs = sorted(path for summary in scan.values() for path in summary.get("orphanThumbs", ()))
    pointers = {folder: summary["pointer"] for folder, summary in scan.items()
                if isinstance(summary.get("pointer"), dict)}
    errors = dict(stats.get("unreadable", {}))
    errors.update(thumb_errors)
    loops = sorted(folder for folder, summary in scan.items() if summary.get("repeats"))
    xmp_errors = stats.get("unreadableXmp", {})
    # both foo.jpg.xmp and foo.xmp: lenslet uses the first, another tool may read the second
    two_xmps = sorted(path for summary in scan.values() for path in summary.get("twoXmps", ()))
    folders_gone = sorted(folder for folder, summary in scan.items() if summary.get("folderGone"))
    return {
        "v": 1,
        "generatedAt": clock(),
        "images": sum(summary.get("images", 0) for summary in scan.values()) or stats.get("images", 0),
        "missingThumbs": stats.get("missingThumbs"),
        "orphanSidecars": len(orphan_sidecars),
        "orphanThumbs": len(orphan_thumbs),
        "foldersGone": len(folders_gone),
        "brokenPointers": sum(1 for p in pointers.values() if p.get("problem") == "broken"),
        "pointerLoops": sum(1 for p in pointers.values() if p.get("problem") == "loop"),
        "fileErrors": len(errors),
        "folderRepeats": len(loops),
        "xmpErrors": len(xmp_errors),
        "twoXmps": len(two_xmps),
        "reattached": len(stats.get("reattached", ())),
        # copies keep their own metadata; reported so a person can tidy up
        "duplicates": sum(len(paths) - 1 for paths in stats.get("duplicates", {}).values()),
        "backlog": backlog,
        "thumbnails": thumbnails or {},
        "lastRuns": runs,
        "trash": trash or {},
        "files": {
            "orphanSidecars": orphan_sidecars[:MAX_REPORTED],
            "orphanThumbs": orphan_thumbs[:MAX_REPORTED],
            # state folders whose library folder is gone; kept until their images are found again
            "foldersGone": folders_gone[:MAX_REPORTED],
            "pointers": dict(list(pointers.items())[:MAX_REPORTED]),
            "errors": dict(sorted(errors.items())[:MAX_REPORTED]),
            "unindexedFolders": stats.get("unindexedFolders", [])[:MAX_REPORTED],
            # folders reached again through a link: walked once only
            "folderRepeats": {folder: scan[folder]["repeats"] for folder in loops[:MAX_REPORTED]},
            "reattached": stats.get("reattached", [])[-MAX_REPORTED:],
            "duplicates": dict(sorted(stats.get("duplicates", {}).items())[:MAX_REPORTED]),
            "xmpErrors": dict(sorted(xmp_errors.items())[:MAX_REPORTED]),
            "twoXmps": two_xmps[:MAX_REPORTED],
        },
    }


def write_report(storage, report_):
    # no fsync: the next health run writes it again
    storage.write(storage.root_file_key(HEALTH), orjson.dumps(report_), durable=False)


def read_report(storage):
    """Return _health.json without its file lists, or None before the worker wrote one."""
    try:
        stored = orjson.loads(storage.read(storage.root_file_key(HEALTH)))
    except (LensletError, orjson.JSONDecodeError):
        return None
    if not isinstance(stored, dict):
        return None  # the worker replaces it on its next run
    return {key: value for key, value in stored.items() if key != "files"}


def rejected_files(storage):
    """List the journals and job files set aside as malformed, for GET /health."""
    files = []
    for folder in (MOVES_REJECTED, JOURNAL_REJECTED, JOBS_REJECTED):
        with suppress(LensletError):  # none yet, or storage unavailable
            files += [join(folder, entry.name) for entry in storage.list_folder(folder) if not entry.is_dir]
    return {"count": len(files), "files": sorted(files)[:MAX_REPORTED]}
