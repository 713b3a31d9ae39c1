"""Sessions: what signing in with a name and a password makes, the rule of how long one lasts, and the
record kept of it. Pure: the time is given (the wall clock, so that every process and host agree).

A session is a random token (256 bits) sent as a cookie that page scripts cannot read (HttpOnly). The
state folder keeps only its SHA-256, as the record's file name (`.lenslet/sessions/<64 hex>.json`):

    {"v": 1, "user": "ann", "stamp": "<16 hex>", "createdAt": <seconds>, "seenAt": <seconds>}

The record's stamp is a digest of the user's entry as it was at the sign-in: their stamp (new with every
password, role or folders lenslet sets), role, folders (so an edit by hand counts too) and id (a user added
again under a removed one's name is another person). A session
opens while its user is in the users file with that very digest (a new password, role or folders, or the
user's removal, ends it everywhere at once), it was used within the
idle time (sliding: each use moves seenAt, written at most every TOUCH_EVERY seconds), and it is younger
than the hard maximum whatever its use. Signing out removes its record. A file in a record's place is
input: what is not exactly such a record opens nothing.
"""

import hashlib
import json
import re
import secrets

from lenslet.formats import records
from lenslet.formats.records import BadRecord, dumps  # noqa: F401 - named here by the store and tests

VERSION = 1
MAX_BYTES = 512  # a record is about 120 bytes: a bigger file is not one, and is never read whole
TOUCH_EVERY = 300.0  # seconds: a session's use is written down at most this often
AHEAD = 300.0  # seconds a record's times may be ahead of this host's clock (another host's clock)
MAX_TOKEN = 128  # characters of a cookie's value looked at at most
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
_NAME = re.compile(r"^[0-9a-f]{64}\.json$")
_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_STAMP = re.compile(r"^[0-9a-f]{16}$")
_KEYS = frozenset(("v", "user", "stamp", "createdAt", "seenAt"))



def new_token():
    """A fresh session token: sent once, in the cookie, and kept only as its hash."""
    return secrets.token_urlsafe(32)


def record_name(token):
    """The file name of a token's record (its SHA-256), or None when the token is none lenslet gives."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN or not _TOKEN.match(token):
        return None
    return hashlib.sha256(token.encode()).hexdigest() + ".json"


def is_record_name(name):
    return _NAME.match(name) is not None


def made(user, now):
    """The record of a session a user starts now."""
    return {"v": VERSION, "user": user.name, "stamp": stamp_of(user), "createdAt": now, "seenAt": now}


def stamp_of(user):
    """What a session of user's keeps of their entry: a digest of their stamp, role, folders and id (an entry
    without an id: of the others alone, as the last release's sessions were made)."""
    about = [user.stamp, user.role, list(user.folders)] + ([user.user_id] if user.user_id else [])
    about = json.dumps(about, ensure_ascii=False).encode()
    return hashlib.blake2b(about, digest_size=8).hexdigest()


def opens(record, user, now, idle, longest):
    """Whether a session's record opens for the user of its name (None: removed) now: the same stamp_of,
    used within idle seconds, younger than longest seconds."""
    return (user is not None and stamp_of(user) == record["stamp"] and now - record["seenAt"] < idle
            and now - record["createdAt"] < longest)


def seen(record, now):
    """The record after a use now, or None when its last use is recent enough to leave it as it is."""
    if now - record["seenAt"] < TOUCH_EVERY:
        return None
    return {**record, "seenAt": now}


def loads(data, now):
    """The record in data, or BadRecord when data is not exactly one lenslet writes."""
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
