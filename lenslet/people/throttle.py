"""Pure rules for slowing failed sign-ins per address and per name."""

import hashlib
import ipaddress
import math
import re

from lenslet.formats import records
from lenslet.formats.records import BadRecord, dumps  # noqa: F401 - named here by the store and tests

FREE = 10
DRAIN = 6.0
ALLOWANCE = FREE + 1
MAX_LEVEL = 60
FORGET_AFTER = MAX_LEVEL * DRAIN
AHEAD = 300.0  # allowed clock skew between hosts
KNOWN_FOR = 30 * 24 * 3600.0  # seconds a sign-in lets its address skip the name's count
MAX_BYTES = 256
VERSION = 1

_NAME = re.compile(r"[0-9a-f]{32}\.json")
_KEYS = frozenset(("v", "level", "at"))



def address_key(address):
    """Return whom an address's failures count against (an IPv6 /64)."""
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
    return "account\n" + name.casefold()


def signed_in_key(name, address):
    return "signed-in\n" + name.casefold() + "\n" + address_key(address)


def signed_in(now):
    return {"v": VERSION, "level": 0, "at": now}


def known(record, now):
    return record is not None and now - record["at"] < KNOWN_FOR


def record_name(address):
    return hashlib.blake2b(address.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest() + ".json"


def is_record_name(name):
    return _NAME.fullmatch(name) is not None


def level(record, now):
    if record is None:
        return 0.0
    return max(0.0, record["level"] - max(0.0, now - record["at"]) / DRAIN)


def wait(record, now):
    """Return seconds until the next attempt may be made."""
    over = level(record, now) - FREE
    return 0 if over <= 0 else math.ceil(over * DRAIN)


def failed(record, now):
    return {"v": VERSION, "level": min(MAX_LEVEL, level(record, now) + 1), "at": now}


def spent(now):
    """Return a spent record, so an unreadable file never lets more through."""
    return {"v": VERSION, "level": FREE + 1, "at": now}


def forgotten(record, now):
    return level(record, now) == 0


def loads(data, now):
    """Parse a record, or raise BadRecord."""
    record = records.loads(data, _KEYS, VERSION, MAX_BYTES)
    if not records.is_number(record["level"]) or not 0 <= record["level"] <= MAX_LEVEL:
        raise BadRecord(f"level {record['level']!r} is not a number from 0 to {MAX_LEVEL}")
    if not records.is_number(record["at"]) or not 0 < record["at"] <= now + AHEAD:
        raise BadRecord(f"time {record['at']!r} is not a time up to now")
    return record

