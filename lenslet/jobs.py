"""The work queue, kept in storage so every web process and worker sees it.

A job is a small file under .lenslet/jobs/ whose name sorts by priority, so a
listing is the queue in order. Enqueueing is an exclusive create: asking twice
for one (kind, path) makes one job. A worker claims a job by exclusively creating
.lenslet/claims/<job>, holding a lease, and then removes the job file at the
version it read, so a new request for the same work made while it runs queues a
fresh job, and a job someone else claimed and finished meanwhile is not run twice.
A worker renews the leases of the jobs in hand; a claim whose lease ran out (its
worker died) is turned back into a job by recover(). Exclusive create and
delete-if-unchanged are all it needs, which S3's conditional writes provide too.

Claiming must not cost a listing of the whole queue (20,000 folders queue 20,000
index jobs): a worker keeps a Cursor, one listing taken in order and claimed job by
job, listed again when it runs out. Jobs more urgent than the one at hand (a
thumbnail someone waits for) are looked for at most every URGENT_CHECK seconds by
listing only their priorities (a name prefix: a small LIST on S3). Each worker
shuffles the jobs of one priority so two workers rarely reach for the same one; the
claim protocol above keeps them right when they do.

A job file is input too: one that is torn, not an object, or of a kind this version does not
know (a newer lenslet's, another program's) is set aside in .lenslet/jobs/rejected/, logged and
reported in /health, never run and never dropped as if done. A kind renamed since (RENAMED) is
read in today's terms, so work queued before an upgrade still runs.
"""

import logging
import random
import threading
import time
from collections import Counter

import orjson

from lenslet.errors import AlreadyExists, LensletError, NotFound, PreconditionFailed
from lenslet.formats import records, sidecars
from lenslet.layout import CLAIMS, FOUND, JOBS, join
from lenslet.storage import set_aside, version_of

log = logging.getLogger("lenslet")

# Every kind of job and its priority (queue file names begin with it, so a listing is the queue in
# order). Here, below web and worker alike: the web queues jobs, the worker runs them with the
# handler of each kind (lenslet/worker/runner.py HANDLERS, which must name exactly these kinds).
# Thumbnails a person asked for first; those an index job found missing ("missing") after the rollup, so
# a new library is listed and searchable before its thumbnails are all made.
PRIORITY = {"thumbs": 0, "preview": 0, "index": 1, "hashes": 1, "rollup": 2, "health": 3, "missing": 3, "rethumb": 4}
# Kinds queued under an older name -> today's: a queue left by an older lenslet still runs.
RENAMED = {"thumb": "thumbs"}
URGENT_CHECK = 1.0  # seconds between looks for more urgent jobs while a listing lasts


def parsed(data):
    """A job or claim file's content as a dict; None when it is missing, torn or not an object."""
    try:
        value = orjson.loads(data) if data is not None else None
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def upgrade(job):
    """A job read from the queue in today's terms, or None when this version cannot run it (not a job,
    or of a kind it does not know). A queuedAt of another shape counts as long ago (0.0)."""
    if job is None or not isinstance(job.get("path"), str):
        return None
    if job.get("kind") == "thumb":  # one image named by its path: a thumbs job of one name now
        folder, _, name = job["path"].rpartition("/")
        job = dict(job, kind="thumbs", path=folder, names=[name])
    if job.get("kind") not in PRIORITY:
        return None
    if not records.is_number(job.get("queuedAt")):
        job = dict(job, queuedAt=0.0)
    return job


def kind_in(name):
    """The kind of a queue file name in today's terms, or None when it names no kind this version knows."""
    kind = name.split("-", 2)[1] if name.count("-") >= 2 else None
    kind = RENAMED.get(kind, kind)
    return kind if kind in PRIORITY else None


def job_name(kind, path, part=""):
    """The queue file name of a job: priority, kind, and a digest of what it is about."""
    digest = version_of("\0".join((path, part)).encode())
    return f"{PRIORITY[kind]}-{kind}-{digest}.json"


def enqueue(storage, kind, path, clock=time.time, part="", **payload):
    """Queue a job once; a second request for the same work while it waits is the same job."""
    key = join(JOBS, job_name(kind, path, part))
    # Looked for first: a create that finds the job there has already written (and synced)
    # a whole temp file, and an index job asks for the one rollup job every time. Seen
    # queued, the job has not been claimed yet, so whoever runs it runs it after now.
    if storage.exists(key):
        return
    job = {"kind": kind, "path": path, "queuedAt": clock(), **payload}
    try:
        storage.create(key, orjson.dumps(job))
    except AlreadyExists:
        pass


def ask_for_rollup(storage, clock=time.time):
    """Queue the rollup (once, however often asked before it runs): search catches up with the listings.
    The one way anything asks for it; never fails the caller (the change shows with the next rollup)."""
    try:
        enqueue(storage, "rollup", "", clock)
    except LensletError as ex:
        log.warning("search sees a change with the next rollup only: %s", ex.description)


MAX_NOTE = 4096  # bytes of one found hash's note: far more than lenslet writes


def note_found_hash(storage, folder, name, digest, clock=time.time):
    """Hand the worker a hash a read found: noted in the folder's spool, then one `hashes` job for the
    folder (a folder browsed for the first time queues one job, however many thumbnails it shows, and
    the worker records them all in one pass). The note comes first: a worker that took the job before
    it looks at the spool after taking it, or the job is queued again."""
    note = join(join(FOUND, version_of(folder.encode())), version_of(name.encode()) + ".json")
    storage.write(note, orjson.dumps({"folder": folder, "name": name, "hash": digest}), durable=False)
    enqueue(storage, "hashes", folder, clock)


def found_hash(record, folder):
    """(name, digest) of a found hash's record for folder, or None when it is not of that shape."""
    if not isinstance(record, dict) or record.get("folder") != folder:
        return None
    name, digest = record.get("name"), record.get("hash")
    if isinstance(name, str) and name and "/" not in name and isinstance(digest, str) \
            and sidecars.HASH.fullmatch(digest):
        return name, digest
    return None


def take_found_hashes(storage, folder):
    """The hashes noted for a folder ({name: digest}) and their notes ((key, version) pairs, for
    drop_notes once recorded). A note is input: one of another shape, too big, a link or a FIFO in
    its place, is set aside (reported in /health) and records nothing."""
    spool = join(FOUND, version_of(folder.encode()))
    try:
        names = [name for name in storage.list_names(spool) if name.endswith(".json")]
    except NotFound:
        return {}, []
    found, notes = {}, []
    for name in names:
        key = join(spool, name)
        try:
            data, version = storage.read_small(key, MAX_NOTE)
        except LensletError as ex:
            set_aside(storage, spool, name, f"not a found hash lenslet wrote: {ex.description}")
            continue
        if data is None:
            continue  # taken by another worker meanwhile
        pair = found_hash(parsed(data), folder)
        if pair is None:
            set_aside(storage, spool, name, "not a found hash lenslet wrote")
            continue
        found[pair[0]] = pair[1]
        notes.append((key, version))
    return found, notes


def drop_notes(storage, notes):
    """Remove the notes of hashes recorded; one written again meanwhile (found again) stays for next time."""
    for key, version in notes:
        try:
            storage.delete_if(key, version)
        except (NotFound, PreconditionFailed):
            pass


def enqueue_thumbs(storage, folder, names, clock=time.time):
    """Queue the thumbnails of some images of one folder (one job, named by all of them, so a request
    for one image and an index job's batch are never taken for each other)."""
    enqueue(storage, "thumbs", folder, clock, part="\0".join(names), names=list(names))


def waiting(storage):
    """Names of the queued jobs, most urgent first."""
    try:
        return [name for name in storage.list_names(JOBS) if name.endswith(".json")]
    except NotFound:
        return []


def backlog(storage):
    """Queued and running jobs by kind."""
    names = waiting(storage)
    try:
        names += [e.name for e in storage.list_folder(CLAIMS) if e.name.endswith(".json")]
    except NotFound:
        pass
    # Files of unknown kinds are not counted: the next claim sets them aside (reported in /health).
    return dict(Counter(kind for kind in map(kind_in, names) if kind is not None))


def claim(storage, name, worker, lease, clock=time.time, ready=None):
    """Take a queued job for `lease` seconds; None when someone else has it, it is gone,
    ready(job) says it is not due yet, or it is no job this version can run (then it is set aside)."""
    data, version = storage.read_versioned(join(JOBS, name))
    if data is None:
        return None
    job = upgrade(parsed(data))
    if job is None:
        set_aside(storage, JOBS, name, "not a job this version of lenslet can run (torn, or of an unknown kind)")
        return None
    if ready is not None and not ready(job):
        return None
    mine = dict(job, worker=worker, until=clock() + lease)
    try:
        storage.create(join(CLAIMS, name), orjson.dumps(mine))
    except AlreadyExists:
        return None  # running elsewhere; recover() deals with it if its worker died
    try:
        # Only the job we read: if another worker claimed, ran and finished it since,
        # it is gone (or queued afresh) and is not ours to run.
        storage.delete_if(join(JOBS, name), version)
    except (PreconditionFailed, NotFound):
        finish(storage, name)  # give the claim back
        return None
    return mine


def renew(storage, name, worker, lease, clock=time.time):
    """Extend the lease of a job in hand; False when the claim is no longer this worker's."""
    data, version = storage.read_versioned(join(CLAIMS, name))
    held = parsed(data)
    if held is None or held.get("worker") != worker:
        return False
    try:
        storage.replace_if(join(CLAIMS, name), orjson.dumps(dict(held, until=clock() + lease)), version)
    except (PreconditionFailed, NotFound):
        return False
    return True


def more_urgent(storage, kind, ready=None):
    """Whether a job more urgent than one of `kind` waits and is due (ready(job), when given).

    Lists only the more urgent priorities (a name prefix each), and reads only jobs
    that ready() must judge: what a long job asks between its steps.
    """
    for level in sorted(set(PRIORITY.values())):
        if level >= PRIORITY[kind]:
            return False
        for name in storage.list_names(JOBS, prefix=f"{level}-"):
            if not name.endswith(".json"):
                continue
            if ready is None:
                return True
            try:
                job = upgrade(parsed(storage.read(join(JOBS, name))))
            except LensletError:
                continue  # taken meanwhile: not a reason to stop
            if job is not None and ready(job):  # (one that is no job is set aside by the next claim)
                return True
    return False


class Cursor:
    """One worker's way through the queue: a listing serves many claims (see the module's notes)."""

    def __init__(self, storage, urgent_check=URGENT_CHECK, clock=time.monotonic, shuffle=None):
        self.storage = storage
        self.urgent_check = urgent_check
        self.clock = clock
        self.shuffle = shuffle or random.Random().shuffle
        self.ahead = []  # names still to try, the most urgent last (popped from the end)
        self.checked = 0.0
        self.lock = threading.Lock()  # the worker's job threads share one cursor

    def next_job(self, worker, lease, clock=time.time, ready=None):
        """Claim the most urgent due job nobody holds; (name, job) or (None, None)."""
        fresh = False  # list at most once per call: a queue of jobs not due yet ends the call
        while True:
            name, fresh = self._pop(fresh)
            if name is None:
                return None, None
            job = claim(self.storage, name, worker, lease, clock, ready)
            if job is not None:
                return name, job

    def _pop(self, fresh):
        with self.lock:
            if not self.ahead:
                if fresh:
                    return None, fresh
                self.ahead, fresh = self._ordered(waiting(self.storage)), True
                self.checked = self.clock()
            elif self.clock() - self.checked >= self.urgent_check:
                self.checked = self.clock()
                self._take_urgent()
            return (self.ahead.pop() if self.ahead else None), fresh

    def _take_urgent(self):
        """Put queued jobs more urgent than the next one ahead of it."""
        head = self.ahead[-1].partition("-")[0]
        urgent = [name for level in sorted(set(PRIORITY.values())) if str(level) < head
                  for name in self.storage.list_names(JOBS, prefix=f"{level}-") if name.endswith(".json")]
        if urgent:
            known = set(self.ahead)
            self.ahead.extend(self._ordered([name for name in urgent if name not in known]))

    def _ordered(self, names):
        """Most urgent last; jobs of one priority in this worker's own random order."""
        groups = {}
        for name in names:
            groups.setdefault(name.partition("-")[0], []).append(name)
        ahead = []
        for level in sorted(groups, reverse=True):
            self.shuffle(groups[level])
            ahead.extend(groups[level])
        return ahead


def finish(storage, name):
    """Drop the claim of a job that ran (whether it succeeded or failed for good)."""
    try:
        storage.delete(join(CLAIMS, name))
    except NotFound:
        pass


def requeue(storage, name, job):
    """Queue a claimed job again, as it was before it was claimed."""
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
        job = parsed(data)
        until = job.get("until", 0) if job is not None else 0
        if job is None or (isinstance(until, (int, float)) and until > clock()):
            continue
        try:
            storage.delete_if(join(CLAIMS, name), version)
        except (PreconditionFailed, LensletError):
            continue  # renewed or taken over meanwhile
        requeue(storage, name, job)
        recovered += 1
    return recovered
