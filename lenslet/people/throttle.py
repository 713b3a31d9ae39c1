"""Failed sign-ins slowed per client address, and per account name for passwords: the rule, and the record
kept for each. Pure: the time is given (the wall clock, so that every process and every host reads one count).

An address counts as its network where one household (or one attacker) holds many: an IPv6 address as its
/64, an IPv4 address (also written IPv4-mapped) as itself. A wrong password counts against the name tried
(case-folded) too, unless it came from an address that signed in as that name within KNOWN_FOR: once a
name's count is spent, a password for it from any other address is refused (429) before it is checked, so
guessing one name from many networks is as slow as from one; the address a person signed in from before
is never held back by strangers' guesses (only by its own).

Each address has a level that a failure raises by one and that drains by one every DRAIN seconds. While
the level is at most FREE an attempt with a token, a share key or a share password is answered, so a
burst of ALLOWANCE wrong ones (ten, and an eleventh) is; past that every attempt is refused (429) until
the level has drained back to FREE, so a guesser gets one try every DRAIN seconds, while a person who
mistypes a few times is never held up.

The record of one address, `{"v": 1, "level": 3.0, "at": <seconds since the epoch>}`, is kept in the
state folder under a digest of the address (lenslet/people/throttle_store.py). A file in its place is
input: what is not exactly such a record (torn, forged, of another shape, too big) is refused here.
"""

import hashlib
import ipaddress
import math
import re

from lenslet.formats import records
from lenslet.formats.records import BadRecord, dumps  # noqa: F401 - named here by the store and tests

FREE = 10
DRAIN = 6.0
ALLOWANCE = FREE + 1  # wrong attempts a burst gets answered before the first 429
MAX_LEVEL = 60  # a record's level at most: an address waits at most (MAX_LEVEL - FREE) * DRAIN seconds
FORGET_AFTER = MAX_LEVEL * DRAIN  # seconds after its last failure by which any record has drained to nothing
AHEAD = 300.0  # seconds a record's time may be ahead of this host's clock (another host's clock)
KNOWN_FOR = 30 * 24 * 3600.0  # seconds an address that signed in as a name is let past that name's count
MAX_BYTES = 256  # a record is about 60 bytes: a bigger file is not one, and is never read whole
VERSION = 1

_NAME = re.compile(r"[0-9a-f]{32}\.json")
_KEYS = frozenset(("v", "level", "at"))



def address_key(address):
    """Whom an address's failures count against: an IPv6 address's /64 (a home or a host is given a whole /64 and
    picks any address in it), an IPv4 address itself, an IPv4-mapped IPv6 address as that IPv4 address."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return address
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


def account_key(name):
    """Whom a wrong password counts against besides its address: the name tried, case-folded."""
    return "account\n" + name.casefold()


def signed_in_key(name, address):
    """The record that an address signed in as a name (kept apart from the counts)."""
    return "signed-in\n" + name.casefold() + "\n" + address_key(address)


def signed_in(now):
    """The record of a sign-in now."""
    return {"v": VERSION, "level": 0, "at": now}


def known(record, now):
    """Whether a sign-in record is recent enough to let its address past its name's count."""
    return record is not None and now - record["at"] < KNOWN_FOR


def record_name(address):
    """The file name of an address's record: a digest, so any address makes one short, safe name."""
    return hashlib.blake2b(address.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest() + ".json"


def is_record_name(name):
    return _NAME.fullmatch(name) is not None


def level(record, now):
    """An address's level now (None: it never failed, or its record is gone)."""
    if record is None:
        return 0.0
    return max(0.0, record["level"] - max(0.0, now - record["at"]) / DRAIN)


def wait(record, now):
    """Seconds the address must wait before its next attempt (0: it may try now)."""
    over = level(record, now) - FREE
    return 0 if over <= 0 else math.ceil(over * DRAIN)


def failed(record, now):
    """The record after one more failure."""
    return {"v": VERSION, "level": min(MAX_LEVEL, level(record, now) + 1), "at": now}


def spent(now):
    """The record of an address whose kept record could not be read: its allowance counts as spent, so a
    broken or forged file never lets more attempts through than a good one."""
    return {"v": VERSION, "level": FREE + 1, "at": now}


def forgotten(record, now):
    """Whether a record has drained to nothing (and may be removed)."""
    return level(record, now) == 0


def loads(data, now):
    """The record in data, or BadRecord when data is not exactly one lenslet writes."""
    record = records.loads(data, _KEYS, VERSION, MAX_BYTES)
    if not records.is_number(record["level"]) or not 0 <= record["level"] <= MAX_LEVEL:
        raise BadRecord(f"level {record['level']!r} is not a number from 0 to {MAX_LEVEL}")
    if not records.is_number(record["at"]) or not 0 < record["at"] <= now + AHEAD:
        raise BadRecord(f"time {record['at']!r} is not a time up to now")
    return record

