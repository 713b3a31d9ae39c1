"""WebDAV locks, one record a locked path in the state folder, so every process and host honours them."""

import hashlib
import re
import secrets
import time
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
from lenslet.layout import STATE, join
from lenslet.storage import set_aside

LOCKS = f"{STATE}/dav-locks"  # named by the locked path's hash
VERSION = 1
MAX_BYTES = 8192
LONGEST = 3600  # seconds a lock lasts unless refreshed
MAX_LOCKS = 1000  # records looked at
MAX_OWNER = 1024  # characters of the client's note of who locks
_KEYS = frozenset(("v", "path", "token", "user", "depth", "owner", "expires"))
_TOKEN = re.compile(r"opaquelocktoken:[0-9a-f]{32}")


def record_name(path):
    return hashlib.sha256(path.encode("utf-8", "surrogatepass")).hexdigest() + ".json"


def timeout_of(header):
    """Return the seconds a Timeout header asks for, at most LONGEST."""
    for part in (header or "").split(","):
        part = part.strip()
        if part.lower().startswith("second-") and part[7:].isdigit():
            return max(1, min(int(part[7:]), LONGEST))
    return LONGEST  # absent or Infinite


def inside(path, folder):
    return folder == "" or path.startswith(folder + "/")


def tokens_in(header):
    """Return the lock tokens a request names (If or Lock-Token header)."""
    return set(_TOKEN.findall(header or ""))


class Locks:
    def __init__(self, storage, clock=time.time):
        self.storage, self.clock = storage, clock

    def lock(self, path, user, depth, owner, seconds):
        """Lock a path for a person; raise Locked while another live lock holds it or a folder above it."""
        self.check([path], set(), below=depth == "infinity")
        record = {"v": VERSION, "path": path, "token": "opaquelocktoken:" + secrets.token_hex(16), "user": user,
                  "depth": depth, "owner": owner[:MAX_OWNER], "expires": self.clock() + seconds}
        key = join(LOCKS, record_name(path))
        for _ in range(2):
            try:
                self.storage.create(key, dumps(record))
                return record
            except (AlreadyExists, Foreign, BadRequest):
                if self._read(path) is not None:
                    raise Locked("another client locked it meanwhile", path=path) from None
                set_aside(self.storage, LOCKS, record_name(path), "not a lock record lenslet can read: it locks "
                                                                  "nothing")
        raise Locked("another client keeps locking it", path=path)

    def refresh(self, path, tokens, user, seconds):
        """Make a lock named by the If header last `seconds` more."""
        found = self._read(path)
        if found is None or found[0]["token"] not in tokens:
            raise PreconditionFailed("no lock of this token holds the path: lock it again", path=path)
        record, version = found
        if record["user"] != user:
            raise Forbidden("that lock is another person's", path=path)
        record = dict(record, expires=self.clock() + seconds)
        try:
            self.storage.replace_if(join(LOCKS, record_name(path)), dumps(record), version)
        except PreconditionFailed:
            raise Conflict("the lock changed meanwhile: lock it again", path=path) from None
        return record

    def unlock(self, path, token, user):
        found = self._read(path)
        if found is None or found[0]["token"] != token:
            raise Conflict("no lock of this token holds the path", path=path)
        if found[0]["user"] != user:
            raise Forbidden("that lock is another person's", path=path)
        with suppress(NotFound):
            self.storage.delete_if(join(LOCKS, record_name(path)), found[1])

    def held(self, path):
        """Return the live lock record of exactly this path, or None."""
        found = self._read(path)
        return None if found is None else found[0]

    def check(self, paths, tokens, below=False):
        """Raise Locked unless every live lock on paths, on a folder above them (depth infinity) or, with below,
        inside them, is named in tokens."""
        for record in self._every():
            if record["token"] in tokens:
                continue
            for path in paths:
                if record["path"] == path or (record["depth"] == "infinity" and inside(path, record["path"])) \
                        or (below and inside(record["path"], path)):
                    raise Locked("another client holds a lock on it: it is being written", path=path)

    def _every(self):
        """Yield every live lock; there are a few at most, while a desktop writes."""
        try:
            names = sorted(entry.name for entry in self.storage.list_folder(LOCKS) if not entry.is_dir)
        except (NotFound, Foreign, BadRequest):
            return  # no lock was ever taken, or the folder is not lenslet's: it holds none
        for name in names[:MAX_LOCKS]:
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
