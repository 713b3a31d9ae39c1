"""Units of work shared by the worker and the web processes."""

import os
import socket
import time

import orjson

from . import __version__
from .errors import LensletError
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
