"""The work queue, kept in storage so every web process and worker sees it.

A job is a small file under .lenslet/jobs/ whose name sorts by priority, so a
listing is the queue in order. Enqueueing is an exclusive create: asking twice
for one (kind, path) makes one job. A worker claims a job by exclusively creating
.lenslet/claims/<job>, holding a lease, and then removes the job file, so a new
request for the same work made while it runs queues a fresh job. A claim whose
lease ran out (its worker died) is turned back into a job by recover().
Exclusive create and delete-if-unchanged are all it needs, which S3's
conditional writes provide too.
"""

import time
from collections import Counter

import orjson

from .errors import AlreadyExists, LensletError, NotFound, PreconditionFailed
from .storage import STATE, join, version_of

JOBS = f"{STATE}/jobs"
CLAIMS = f"{STATE}/claims"
# Thumbnails first: a person may be waiting for them.
PRIORITY = {"thumb": 0, "thumbs": 0, "index": 1, "rollup": 2, "health": 3}

def job_name(kind, path, part=""):
    """The queue file name of a job: priority, kind, and a digest of what it is about."""
    digest = version_of("\0".join((path, part)).encode())
    return f"{PRIORITY[kind]}-{kind}-{digest}.json"

def enqueue(storage, kind, path, clock=time.time, part="", **payload):
    """Queue a job once; a second request for the same work while it waits is the same job."""
    job = {"kind": kind, "path": path, "queuedAt": clock(), **payload}
    try:
        storage.create(join(JOBS, job_name(kind, path, part)), orjson.dumps(job))
    except AlreadyExists:
        pass

def waiting(storage):
    """Names of the queued jobs, most urgent first."""
    try:
        return sorted(e.name for e in storage.list_folder(JOBS) if e.name.endswith(".json"))
    except NotFound:
        return []

def backlog(storage):
    """Queued and running jobs by kind."""
    counts = Counter(name.split("-")[1] for name in waiting(storage))
    try:
        counts.update(e.name.split("-")[1] for e in storage.list_folder(CLAIMS) if e.name.endswith(".json"))
    except NotFound:
        pass
    return dict(counts)

def claim(storage, name, worker, lease, clock=time.time, ready=None):
    """Take a queued job for `lease` seconds; None when someone else has it, it is gone,
    or ready(job) says it is not due yet."""
    try:
        job = orjson.loads(storage.read(join(JOBS, name)))
    except (NotFound, orjson.JSONDecodeError):
        return None
    if ready is not None and not ready(job):
        return None
    mine = dict(job, worker=worker, until=clock() + lease)
    try:
        storage.create(join(CLAIMS, name), orjson.dumps(mine))
    except AlreadyExists:
        return None  # running elsewhere; recover() deals with it if its worker died
    try:
        storage.delete(join(JOBS, name))
    except NotFound:
        pass
    return mine

def finish(storage, name):
    """Drop the claim of a job that ran (whether it succeeded or failed for good)."""
    try:
        storage.delete(join(CLAIMS, name))
    except NotFound:
        pass

def requeue(storage, name, job):
    plain = {key: value for key, value in job.items() if key not in ("worker", "until")}
    try:
        storage.create(join(JOBS, name), orjson.dumps(plain))
    except AlreadyExists:
        pass  # asked for again meanwhile: that job will do

def recover(storage, clock=time.time):
    """Turn claims whose lease ran out back into queued jobs; return how many."""
    try:
        names = [e.name for e in storage.list_folder(CLAIMS) if e.name.endswith(".json")]
    except NotFound:
        return 0
    recovered = 0
    for name in names:
        data, version = storage.read_versioned(join(CLAIMS, name))
        try:
            job = orjson.loads(data) if data is not None else None
        except orjson.JSONDecodeError:
            job = None
        if job is None or job.get("until", 0) > clock():
            continue
        try:
            storage.delete_if(join(CLAIMS, name), version)
        except (PreconditionFailed, LensletError):
            continue  # renewed or taken over meanwhile
        requeue(storage, name, job)
        recovered += 1
    return recovered
