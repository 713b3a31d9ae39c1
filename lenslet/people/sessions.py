"""Sign-in sessions: records and how long they last."""

import hashlib
import json
import re
import secrets

from lenslet.formats import records
from lenslet.formats.records import BadRecord, dumps  # noqa: F401 - named here by the store and tests

VERSION = 1
MAX_BYTES = 512
TOUCH_EVERY = 300.0  # seconds; limits writes of seenAt
AHEAD = 300.0  # allowed clock skew between hosts
MAX_TOKEN = 128
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
_NAME = re.compile(r"^[0-9a-f]{64}\.json$")
_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_STAMP = re.compile(r"^[0-9a-f]{16}$")
_KEYS = frozenset(("v", "user", "stamp", "createdAt", "seenAt"))



def new_token():
    return secrets.token_urlsafe(32)


def record_name(token):
    """Return a token's record file name, or None if not a token."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN or not _TOKEN.match(token):
        return None
    return hashlib.sha256(token.encode()).hexdigest() + ".json"


def is_record_name(name):
    return _NAME.match(name) is not None


def made(user, now):
    return {"v": VERSION, "user": user.name, "stamp": stamp_of(user), "createdAt": now, "seenAt": now}


def stamp_of(user):
    """Digest the entry, so editing the user ends their sessions."""
    about = [user.stamp, user.role, list(user.folders)] + ([user.user_id] if user.user_id else [])
    about = json.dumps(about, ensure_ascii=False).encode()
    return hashlib.blake2b(about, digest_size=8).hexdigest()


def opens(record, user, now, idle, longest):
    """Whether a record still opens for user (None: removed)."""
    return (user is not None and stamp_of(user) == record["stamp"] and now - record["seenAt"] < idle
            and now - record["createdAt"] < longest)


def seen(record, now):
    """Return the used record, or None if unchanged."""
    if now - record["seenAt"] < TOUCH_EVERY:
        return None
    return {**record, "seenAt": now}


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
