"""The work queue, kept in storage so every web process and worker sees it.

A job is a small file under .lenslet/jobs/ whose name orders it by priority;
enqueueing is an exclusive create, so asking twice for one job makes one.
"""

import orjson

from .errors import AlreadyExists
from .storage import STATE, version_of

JOBS = f"{STATE}/jobs"
# Thumbnails first: a person is waiting for them.
PRIORITY = {"thumb": 0, "index": 1, "rollup": 2, "health": 3}


def job_name(kind, path):
    """The queue file name of a job: priority, kind, and a digest of the path."""
    return f"{PRIORITY[kind]}-{kind}-{version_of(path.encode())}.json"


def enqueue(storage, kind, path, clock):
    """Queue a job once: a second request for the same (kind, path) is the same job."""
    try:
        storage.create(f"{JOBS}/{job_name(kind, path)}",
                       orjson.dumps({"kind": kind, "path": path, "queuedAt": clock()}))
    except AlreadyExists:
        pass
