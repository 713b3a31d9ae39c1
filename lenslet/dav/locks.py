"""WebDAV locks, one record a locked place in the state folder, so every process and host honours them."""

import hashlib
import re
import secrets
import time
import unicodedata
from contextlib import suppress

from lenslet.errors import (
    AlreadyExists,
    BadRequest,
    Conflict,
    Forbidden,
    Foreign,
    LensletError,
    Locked,
    NotFound,
    PreconditionFailed,
    TooLarge,
)
from lenslet.formats import records
from lenslet.formats.records import BadRecord, dumps
from lenslet.layout import STATE, join, parent
from lenslet.storage import set_aside

LOCKS = f"{STATE}/dav-locks"  # named by the locked place's hash
VERSION = 1
MAX_BYTES = 8192
LONGEST = 3600  # seconds a lock lasts unless refreshed
# Live locks one person holds, and locks on the members of one folder: every record is read to find those inside a
# folder, so these bound that read.
PER_PERSON = 100
PER_FOLDER = 100
MAX_OWNER = 1024  # characters of the client's note of who locks
_KEYS = frozenset(("v", "path", "token", "user", "depth", "owner", "expires"))
_TOKEN = re.compile(r"opaquelocktoken:[0-9a-f]{32}")


def record_name(path):
    return hashlib.sha256(path.encode("utf-8", "surrogatepass")).hexdigest() + ".json"


def timeout_of(header):
    """Return the seconds a Timeout header asks for, at most LONGEST."""
    for part in (header or "").split(","):
        part = part.strip()
        if part.lower().startswith("second-") and part[7:].isascii() and part[7:].isdigit():
            return max(1, min(int(part[7:]), LONGEST))
    return LONGEST  # absent or Infinite


def inside(path, folder):
    return folder == "" or path.startswith(folder + "/")


def covers(record, path):
    """Whether a lock holds a path: its own, or one inside a folder locked with depth infinity."""
    return record["path"] == path or (record["depth"] == "infinity" and inside(path, record["path"]))


def above(path):
    """Return a path and every folder above it, up to the root."""
    found = [path]
    while path:
        path = parent(path)
        found.append(path)
    return found


class Locks:
    def __init__(self, storage, clock=time.time, opened=lambda path: path):
        """opened: the place storage opens for a path, which its lock is kept by (a photo's two paths share one)."""
        self.storage, self.clock, self.opened = storage, clock, opened

    def lock(self, path, user, depth, owner, seconds):
        """Lock a path for a person; raise Locked while another live lock holds it, a folder above it or (depth
        infinity) a path inside it, and Conflict past the person's or the folder's number of locks."""
        self.check(path, user, set(), below=depth == "infinity")
        path = self.opened(path)
        record = {"v": VERSION, "path": path, "token": "opaquelocktoken:" + secrets.token_hex(16), "user": user,
                  "depth": depth, "owner": owner[:MAX_OWNER], "expires": self.clock() + seconds}
        key = join(LOCKS, record_name(path))
        for _ in range(2):
            try:
                self.storage.create(key, dumps(record))
            except (AlreadyExists, Foreign, BadRequest):
                if self._read(path) is not None:
                    raise Locked("another client locked it meanwhile", path=path) from None
                set_aside(self.storage, LOCKS, record_name(path), "not a lock record lenslet can read: it locks "
                                                                  "nothing")
                continue
            every = list(self._every())  # counted once this one is kept, so LOCKs racing anywhere count each other
            mine = sum(record["user"] == user for record in every) > PER_PERSON
            if mine or sum(parent(record["path"]) == parent(path) for record in every) > PER_FOLDER:
                with suppress(LensletError):
                    self.storage.delete(key)
                raise Conflict(f"you hold {PER_PERSON} locks already: unlock some first" if mine else
                               f"{PER_FOLDER} locks hold this folder's files already: try again later", path=path)
            return record
        raise Locked("another client keeps locking it", path=path)

    def refresh(self, path, tokens, user, seconds):
        """Make a lock that holds the path, named by the If header, last `seconds` more."""
        record, version = self._named(path, tokens, user, PreconditionFailed("no lock of this token holds the path: "
                                                                            "lock it again", path=path))
        record = dict(record, expires=self.clock() + seconds)
        try:
            self.storage.replace_if(join(LOCKS, record_name(record["path"])), dumps(record), version)
        except PreconditionFailed:
            raise Conflict("the lock changed meanwhile: lock it again", path=path) from None
        return record

    def unlock(self, path, token, user):
        record, version = self._named(path, {token}, user, Conflict("no lock of this token holds the path",
                                                                    path=path))
        with suppress(NotFound):
            self.storage.delete_if(join(LOCKS, record_name(record["path"])), version)

    def holding(self, path):
        """Return the live locks that hold a path: its own, and those of the folders above it locked with depth
        infinity, each looked up by name."""
        return [found[0] for found in self._holding(path)]

    def below(self, folder):
        """Return the live locks on paths inside a folder."""
        every = list(self._every())
        place = self.opened(folder) if every else folder
        return [record for record in every if record["path"] != place and inside(record["path"], place)]

    def check(self, path, user, tokens, below=False):
        """Raise Locked unless the person named the token of every live lock that holds the path or, with below, a
        path inside it."""
        for record in self.holding(path) + (self.below(path) if below else []):
            if record["token"] not in tokens or record["user"] != user:
                raise Locked("another client holds a lock on it: it is being written", path=path)

    def _named(self, path, tokens, user, missing):
        """Return (record, version) of the lock holding the path whose token is named, or raise missing."""
        for record, version in self._holding(path):
            if record["token"] in tokens:
                if record["user"] != user:
                    raise Forbidden("that lock is another person's", path=path)
                return record, version
        raise missing

    def _holding(self, path):
        try:
            names = set(self.storage.list_names(LOCKS))
        except LensletError:
            names = None  # not listed: each name is looked up
        if names == set():
            return []  # no lock at all
        # A write lands on whichever Unicode spelling of the name is in use (macOS sends NFD, others NFC).
        places = dict.fromkeys(map(self.opened, (path, unicodedata.normalize("NFC", path),
                                                 unicodedata.normalize("NFD", path))))
        wanted = dict.fromkeys(one for place in places for one in above(place))
        found = (self._read(one) for one in wanted if names is None or record_name(one) in names)
        return [each for each in found if each is not None and any(covers(each[0], place) for place in places)]

    def _every(self):
        """Yield every live lock: a few per person, PER_PERSON each at the very most."""
        try:
            names = sorted(entry.name for entry in self.storage.list_folder(LOCKS) if not entry.is_dir)
        except (NotFound, Foreign, BadRequest):
            return  # no lock was ever taken, or the folder is not lenslet's: it holds none
        for name in names:
            found = self._read_name(name)
            if found is not None:
                yield found[0]

    def _read(self, path):
        return self._read_name(record_name(path), path)

    def _read_name(self, name, path=None):
        """Return (record, version) of a live lock, or None; an expired one is removed, a forged one set aside."""
        key = join(LOCKS, name)
        try:
            data, version = self.storage.read_small(key, MAX_BYTES)
            if data is None:
                return None
            record = records.loads(data, _KEYS, VERSION, MAX_BYTES)
            if not (isinstance(record["path"], str) and (path is None or record["path"] == path)
                    and record_name(record["path"]) == name and isinstance(record["token"], str)
                    and _TOKEN.fullmatch(record["token"]) and isinstance(record["user"], str)
                    and record["depth"] in ("0", "infinity") and isinstance(record["owner"], str)
                    and records.is_number(record["expires"])):
                raise BadRecord("not a lock lenslet wrote")
        except (Foreign, TooLarge, BadRecord) as ex:
            set_aside(self.storage, LOCKS, name, f"not a lock record ({getattr(ex, 'description', ex)}): "
                                                 "it locks nothing")
            return None
        except LensletError:
            return None
        if record["expires"] <= self.clock():
            with suppress(LensletError):
                self.storage.delete_if(key, version)
            return None
        return record, version
