"""The work queue: job files in storage, claimed by exclusive create."""

import logging
import random
import threading
import time
from collections import Counter
from contextlib import suppress

import orjson

from lenslet.errors import AlreadyExists, LensletError, NotFound, PreconditionFailed
from lenslet.formats import records, sidecars
from lenslet.layout import CLAIMS, FOUND, JOBS, join
from lenslet.storage import Stat, set_aside, version_of

log = logging.getLogger("lenslet")

# file names start with the priority, so a listing is the queue in order; runner.HANDLERS must match
# missing thumbnails after the rollup: a new library is searchable first
PRIORITY = {"thumbs": 0, "preview": 0, "index": 1, "hashes": 1, "rollup": 2, "health": 3, "missing": 3, "rethumb": 4,
            "places": 4}
# kinds an older lenslet queued under another name
RENAMED = {"thumb": "thumbs"}
URGENT_CHECK = 1.0  # seconds
MAX_NOTE = 4096  # bytes; far more than lenslet writes


def parsed(data):
    """Return a job or claim file's dict, or None."""
    try:
        value = orjson.loads(data) if data is not None else None
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def upgrade(job):
    """Return a queued job in today's terms, or None when this version cannot run it."""
    if job is None or not isinstance(job.get("path"), str):
        return None
    if job.get("kind") == "thumb":
        folder, _, name = job["path"].rpartition("/")
        job = dict(job, kind="thumbs", path=folder, names=[name])
    if not isinstance(job.get("kind"), str) or job["kind"] not in PRIORITY:
        return None
    if not records.is_number(job.get("queuedAt")):
        job = dict(job, queuedAt=0.0)
    return job


def kind_in(name):
    """Return a queue file name's kind in today's terms, or None when unknown."""
    kind = name.split("-", 2)[1] if name.count("-") >= 2 else None
    kind = RENAMED.get(kind, kind)
    return kind if kind in PRIORITY else None


def job_name(kind, path, part=""):
    """Name a job's queue file: priority, kind and a digest of what it is about."""
    digest = version_of("\0".join((path, part)).encode())
    return f"{PRIORITY[kind]}-{kind}-{digest}.json"


def enqueue(storage, kind, path, clock=time.time, part="", durable=True, **payload):
    """Queue a job once: asking again while it waits makes no second job."""
    key = join(JOBS, job_name(kind, path, part))
    # cheaper than a failed create; a job still queued runs after this change anyway
    if storage.is_file(key):
        return
    job = {"kind": kind, "path": path, "queuedAt": clock(), **payload}
    with suppress(AlreadyExists):
        storage.create(key, orjson.dumps(job), durable=durable)


def ask_for_rollup(storage, clock=time.time):
    """Queue the rollup that updates search from the listings; never fails the caller."""
    try:
        enqueue(storage, "rollup", "", clock)
    except LensletError as ex:
        log.warning("search sees a change with the next rollup only: %s", ex.description)


def note_found_hash(storage, folder, name, digest, read_at, clock=time.time):
    """Note a hash a read found in its folder's spool, with the Stat the image was read at, then queue one
    `hashes` job for the folder. The note comes first, so a worker that already took the job still finds it."""
    note = join(join(FOUND, version_of(folder.encode())), version_of(name.encode()) + ".json")
    storage.write(note, orjson.dumps({"folder": folder, "name": name, "hash": digest, "readAt": list(read_at)}),
                  durable=False)
    enqueue(storage, "hashes", folder, clock)


def is_found_hash(name, digest):
    """Return whether name is an image's name in its folder and digest a content hash."""
    return isinstance(name, str) and name and "/" not in name and isinstance(digest, str) \
        and sidecars.HASH.fullmatch(digest)


def take_found_hashes(storage, folder):
    """Return a folder's noted hashes, the Stats their images were read at (none in an older lenslet's notes),
    and their notes for drop_notes; bad notes are set aside."""
    spool = join(FOUND, version_of(folder.encode()))
    found, read_at, notes = {}, {}, []
    for name in _json_names(storage.list_names, spool):
        key = join(spool, name)
        try:
            data, version = storage.read_small(key, MAX_NOTE)
        except LensletError as ex:
            set_aside(storage, spool, name, f"not a found hash lenslet wrote: {ex.description}")
            continue
        if data is None:
            continue  # taken meanwhile
        record = parsed(data) or {}
        found_name, digest, stat = record.get("name"), record.get("hash"), stat_of(record.get("readAt", ()))
        if record.get("folder") != folder or not is_found_hash(found_name, digest) or stat is None:
            set_aside(storage, spool, name, "not a found hash lenslet wrote")
            continue
        found[found_name] = digest
        if stat:
            read_at[found_name] = stat
        notes.append((key, version))
    return found, read_at, notes


def stat_of(value):
    """Return the Stat a note holds, () for none, or None when it is not one lenslet wrote."""
    if value == ():
        return ()
    if not isinstance(value, list) or len(value) != len(Stat._fields):
        return None
    size, mtime, is_dir, changed, tag = value
    if type(size) is not int or not records.is_number(mtime) or is_dir is not False \
            or not records.is_number(changed) or not (tag is None or isinstance(tag, str)):
        return None
    return Stat(*value)


def drop_notes(storage, notes):
    """Remove the notes of recorded hashes; one written again meanwhile stays."""
    for key, version in notes:
        with suppress(NotFound, PreconditionFailed):
            storage.delete_if(key, version)


def enqueue_thumbs(storage, folder, names, clock=time.time):
    """Queue one thumbnails job for some images of one folder."""
    # Without fsync: a job lost to a power cut leaves a thumbnail made when first asked for.
    enqueue(storage, "thumbs", folder, clock, part="\0".join(names), durable=False, names=list(names))


def _json_names(list_names, folder):
    """Return the .json names a folder lists, or none when it is missing."""
    try:
        return [name for name in list_names(folder) if name.endswith(".json")]
    except NotFound:
        return []


def _claim_names(storage):
    return _json_names(lambda folder: [e.name for e in storage.list_folder(folder)], CLAIMS)


def waiting(storage):
    """Return the queued job names, most urgent first."""
    return _json_names(storage.list_names, JOBS)


def backlog(storage):
    """Count queued and running jobs by kind."""
    names = waiting(storage) + _claim_names(storage)
    # unknown kinds: the next claim sets them aside
    return dict(Counter(kind for kind in map(kind_in, names) if kind is not None))


def claim(storage, name, worker, lease, clock=time.time, ready=None):
    """Take a queued job for `lease` seconds, or None; a job this version cannot run is set aside."""
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
        return None  # running elsewhere; recover() frees it if its worker died
    try:
        # only the version read: a job run and queued afresh since is not ours
        storage.delete_if(join(JOBS, name), version)
    except (PreconditionFailed, NotFound):
        finish(storage, name)  # give the claim back
        return None
    return mine


def renew(storage, name, worker, lease, clock=time.time):
    """Extend a held job's lease; False when the claim is no longer this worker's."""
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
    """Whether a due job more urgent than one of `kind` waits."""
    for name in _queued_before(storage, str(PRIORITY[kind])):
        if ready is None:
            return True
        try:
            job = upgrade(parsed(storage.read(join(JOBS, name))))
        except LensletError:
            continue  # taken meanwhile
        if job is not None and ready(job):
            return True
    return False


def _queued_before(storage, head):
    """Yield the queued job names of the levels before `head`, a file name's priority, most urgent first."""
    for level in sorted(set(PRIORITY.values())):
        if str(level) < head:
            yield from (name for name in storage.list_names(JOBS, prefix=f"{level}-") if name.endswith(".json"))


class Cursor:
    """One worker's way through the queue: a listing serves many claims."""

    def __init__(self, storage, urgent_check=URGENT_CHECK, clock=time.monotonic, shuffle=None):
        self.storage = storage
        self.urgent_check = urgent_check
        self.clock = clock
        self.shuffle = shuffle or random.Random().shuffle
        self.ahead = []  # most urgent last
        self.checked = 0.0
        self.lock = threading.Lock()  # shared by the job threads

    def next_job(self, worker, lease, clock=time.time, ready=None):
        """Claim the most urgent due job nobody holds; (name, job) or (None, None)."""
        fresh = False  # list at most once per call
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
        urgent = list(_queued_before(self.storage, self.ahead[-1].partition("-")[0]))
        if urgent:
            known = set(self.ahead)
            self.ahead.extend(self._ordered([name for name in urgent if name not in known]))

    def _ordered(self, names):
        """Order names most urgent last, each priority shuffled for this worker."""
        groups = {}
        for name in names:
            groups.setdefault(name.partition("-")[0], []).append(name)
        ahead = []
        for level in sorted(groups, reverse=True):
            self.shuffle(groups[level])
            ahead.extend(groups[level])
        return ahead


def finish(storage, name):
    """Drop the claim of a job that ran, whether it succeeded or failed for good."""
    with suppress(NotFound):
        storage.delete(join(CLAIMS, name))


def requeue(storage, name, job):
    plain = {key: value for key, value in job.items() if key not in ("worker", "until")}
    with suppress(AlreadyExists):  # asked for again meanwhile
        storage.create(join(JOBS, name), orjson.dumps(plain))


def recover(storage, clock=time.time):
    """Turn claims whose lease ran out back into queued jobs; return how many."""
    recovered = 0
    for name in _claim_names(storage):
        data, version = storage.read_versioned(join(CLAIMS, name))
        job = parsed(data)
        until = job.get("until", 0) if job is not None else 0
        if job is None or (isinstance(until, (int, float)) and until > clock()):
            continue
        try:
            storage.delete_if(join(CLAIMS, name), version)
        except LensletError:
            continue  # renewed or taken over meanwhile
        requeue(storage, name, job)
        recovered += 1
    return recovered
