"""Sign-in sessions: tokens, their records and how long they last, kept in the state folder so every process and host
sees a sign-out at once."""

import hashlib
import json
import logging
import re
import time
from contextlib import suppress

from lenslet.errors import BadRequest, Foreign, LensletError, NotFound, PreconditionFailed, TooLarge
from lenslet.formats import records
from lenslet.formats.records import BadRecord, dumps
from lenslet.layout import SESSIONS, STATE, join, name_of
from lenslet.people.users import new_token
from lenslet.storage import SweepGate, names_older_than, set_aside

log = logging.getLogger("lenslet")

VERSION = 1
MAX_BYTES = 512
TOUCH_EVERY = 300.0  # seconds; limits writes of seenAt
AHEAD = 300.0  # allowed clock skew between hosts
MAX_TOKEN = 128
SWEEP_EVERY = 600.0  # seconds between sweeps of old records in one process
SWEEP_MAX = 1_000
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
_NAME = re.compile(r"^[0-9a-f]{64}\.json$")
_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_STAMP = re.compile(r"^[0-9a-f]{16}$")
_KEYS = frozenset(("v", "user", "stamp", "createdAt", "seenAt"))


def record_name(token):
    """Return a token's record file name, or None if not a token."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN or not _TOKEN.match(token):
        return None
    return hashlib.sha256(token.encode()).hexdigest() + ".json"


def stamp_of(user):
    """Digest the entry, so editing the user ends their sessions."""
    about = [user.stamp, user.role, list(user.folders)] + ([user.user_id] if user.user_id else [])
    about = json.dumps(about, ensure_ascii=False).encode()
    return hashlib.blake2b(about, digest_size=8).hexdigest()


def opens(record, user, now, idle, longest):
    """Whether a record still opens for user (None: removed)."""
    return (user is not None and stamp_of(user) == record["stamp"] and now - record["seenAt"] < idle
            and now - record["createdAt"] < longest)


def loads(data, now):
    """Parse a record, or raise BadRecord."""
    record = records.loads(data, _KEYS, VERSION, MAX_BYTES)
    if not isinstance(record["user"], str) or not _USER.match(record["user"]):
        raise BadRecord("no user's name")
    if not isinstance(record["stamp"], str) or not _STAMP.match(record["stamp"]):
        raise BadRecord("no stamp of 16 hex digits")
    for name in ("createdAt", "seenAt"):
        value = record[name]
        if not records.is_number(value) or not 0 < value <= now + AHEAD:
            raise BadRecord(f"{name} {value!r} is not a time up to now")
    if record["seenAt"] < record["createdAt"]:
        raise BadRecord("seen before it was made")
    return record


class Sessions:
    def __init__(self, storage, idle, longest, clock=time.time):
        self.storage, self.clock = storage, clock
        self.idle, self.longest = idle, longest  # seconds: a session unused that long, or that old, is over
        self.sweeps = SweepGate(SWEEP_EVERY)

    def start(self, user):
        """Start a session of user and return its token."""
        now, token = self.clock(), new_token()
        key = join(SESSIONS, record_name(token))
        record = dumps({"v": VERSION, "user": user.name, "stamp": stamp_of(user), "createdAt": now, "seenAt": now})
        try:
            self.storage.create(key, record)
        except (Foreign, BadRequest) as ex:
            set_aside(self.storage, STATE, name_of(SESSIONS), f"not the sessions folder ({ex.description})")
            self.storage.create(key, record)
        self._sweep()
        return token

    def open(self, token, users):
        """Return the user a session token opens now, or None."""
        found = self._read(token)
        if found is None:
            return None
        record, version, key = found
        now, user = self.clock(), users.get(record["user"])
        if not opens(record, user, now, self.idle, self.longest):
            return None
        if now - record["seenAt"] >= TOUCH_EVERY:  # noted at most once every TOUCH_EVERY
            try:
                self.storage.replace_if(key, dumps({**record, "seenAt": now}), version)
            except PreconditionFailed:
                pass  # another request wrote meanwhile
            except LensletError as ex:  # the session still opens until its idle time is up
                log.warning("cannot note the use of a session: %s", ex.description)
        return user

    def end(self, token):
        """End a session everywhere at once."""
        name = record_name(token)
        if name is None:
            return
        try:
            self.storage.delete(join(SESSIONS, name))
        except NotFound:
            pass
        except (Foreign, BadRequest) as ex:
            log.error("%s is not a session lenslet made (%s)", join(SESSIONS, name), ex.description)

    def _read(self, token):
        """Return (record, version, key) of a token's session, or None."""
        name = record_name(token)
        if name is None:
            return None
        key = join(SESSIONS, name)
        try:
            data, version = self.storage.read_small(key, MAX_BYTES)
            return None if data is None else (loads(data, self.clock()), version, key)
        except (Foreign, TooLarge, BadRecord) as ex:
            reason = getattr(ex, "description", ex)
        except BadRequest as ex:
            log.error("sessions cannot be read (%s): nobody is signed in by a session", ex.description)
            return None
        set_aside(self.storage, SESSIONS, name, f"not a session record ({reason}): it opens nothing")
        return None

    def _sweep(self):
        """Remove records of sessions that are over, at most once every SWEEP_EVERY."""
        now = self.clock()
        if not self.sweeps.due(now):
            return
        # A record's mtime may lag its last use by up to TOUCH_EVERY.
        over = now - min(self.idle, self.longest) - TOUCH_EVERY
        for name in names_older_than(self.storage, SESSIONS, over, "sessions past their time", _NAME.match, SWEEP_MAX):
            with suppress(LensletError):
                self.storage.delete(join(SESSIONS, name))
