"""Slow failed sign-ins per address and per name, counted in the state folder so every process and host shares one
count."""

import hashlib
import ipaddress
import logging
import math
import random
import re
import time
from contextlib import suppress

from lenslet.errors import BadRequest, Foreign, LensletError, PreconditionFailed, TooLarge, Unavailable
from lenslet.formats import records
from lenslet.formats.records import BadRecord, dumps
from lenslet.layout import SIGNED_IN, STATE, THROTTLE, join, name_of
from lenslet.recent import Recent
from lenslet.storage import SweepGate, names_older_than, set_aside

log = logging.getLogger("lenslet")

FREE = 10
DRAIN = 6.0
ALLOWANCE = FREE + 1
MAX_LEVEL = 60
FORGET_AFTER = MAX_LEVEL * DRAIN
AHEAD = 300.0  # allowed clock skew between hosts
KNOWN_FOR = 30 * 24 * 3600.0  # seconds a sign-in lets its address skip the name's count
MAX_BYTES = 256
VERSION = 1
CAPACITY = 10_000
WRITE_TRIES = 20
SWEEP_EVERY = 60.0  # seconds between sweeps of drained records in one process
SWEEP_MAX = 1_000
STUCK = object()  # version of a record that could not be set aside: its address is held back

_NAME = re.compile(r"[0-9a-f]{32}\.json")
_KEYS = frozenset(("v", "level", "at"))


def address_key(address):
    """Return whom an address's failures count against (an IPv6 /64)."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return address
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip if ip.version == 4 else ip.ipv4_mapped)


def account_key(name):
    return "account\n" + name.casefold()


def signed_in_key(name, address):
    return "signed-in\n" + name.casefold() + "\n" + address_key(address)


def record_name(address):
    return hashlib.blake2b(address.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest() + ".json"


def is_record_name(name):
    return _NAME.fullmatch(name) is not None


def level(record, now):
    return 0.0 if record is None else max(0.0, record["level"] - max(0.0, now - record["at"]) / DRAIN)


def seconds_to_wait(record, now):
    """Return seconds until the next attempt may be made."""
    over = level(record, now) - FREE
    return 0 if over <= 0 else math.ceil(over * DRAIN)


def after_failure(record, now):
    return {"v": VERSION, "level": min(MAX_LEVEL, level(record, now) + 1), "at": now}


def blocking_record(now):
    """Return a record past the free attempts, so an unreadable file never lets more through."""
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


class Throttle:
    def __init__(self, storage, clock=time.time):
        self.storage, self.clock = storage, clock
        # A page resending one wrong credential makes one guess, so count each once.
        self.counted = Recent(CAPACITY)
        self.sweeps = SweepGate(SWEEP_EVERY)

    def wait(self, address):
        return self._wait(address_key(address))

    def account_wait(self, name):
        """Return seconds until a password for this name may be tried."""
        return self._wait(account_key(name))

    def failed(self, address, credential=""):
        """Count a failed attempt from address, once per credential digest."""
        self._count(address_key(address), credential)

    def account_failed(self, name, credential=""):
        """Count a wrong password for a name, once per credential digest."""
        self._count(account_key(name), credential)

    def known(self, name, address):
        key = join(SIGNED_IN, record_name(signed_in_key(name, address)))
        try:
            data, _ = self.storage.read_small(key, MAX_BYTES)
            return data is not None and self.clock() - loads(data, self.clock())["at"] < KNOWN_FOR
        except (LensletError, BadRecord) as ex:
            log.warning("not a record of a sign-in, taken for none: %s", getattr(ex, "description", ex))
            return False

    def signed_in(self, name, address):
        key = join(SIGNED_IN, record_name(signed_in_key(name, address)))
        try:
            self.storage.write(key, dumps({"v": VERSION, "level": 0, "at": self.clock()}), durable=False)
        except LensletError as ex:
            log.warning("cannot keep where %s signed in from: %s", name[:64], ex.description)

    def _wait(self, key):
        record, _ = self._load(record_name(key))
        return seconds_to_wait(record, self.clock())

    def _count(self, key, credential):
        pair = (key, credential)
        if credential and self.counted.get(pair):
            return
        name = record_name(key)
        for attempt in range(WRITE_TRIES):
            record, version = self._load(name)
            if version is STUCK:
                return  # held back for as long as that file is there
            try:
                self.storage.replace_if(join(THROTTLE, name), dumps(after_failure(record, self.clock())), version)
                break
            except PreconditionFailed:  # another process counted meanwhile: count on top
                time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 6)))
        else:
            raise Unavailable("too many failed attempts at once to count them; try again")
        if credential:
            self.counted.put(pair, True)
        self._sweep()

    def _load(self, name, settle=True):
        """Return (record, version) for a record name, or (None, None); a bad file counts as a blocking record."""
        key = join(THROTTLE, name)
        try:
            data, version = self.storage.read_small(key, MAX_BYTES)
            return (None, None) if data is None else (loads(data, self.clock()), version)
        except (Foreign, TooLarge, BadRecord) as ex:
            place, reason = (THROTTLE, name), getattr(ex, "description", ex)
        except BadRequest as ex:
            place, reason = (STATE, name_of(THROTTLE)), ex.description
        blocked = blocking_record(self.clock())
        if set_aside(self.storage, *place, f"not a record of failed sign-ins ({reason})") is None:
            return blocked, STUCK
        try:
            return blocked, self.storage.replace_if(key, dumps(blocked), None)
        except PreconditionFailed:  # another process wrote one meanwhile: theirs counts
            return self._load(name, settle=False) if settle else (blocked, STUCK)

    def _sweep(self):
        """Remove drained records, and sign-ins older than KNOWN_FOR, at most once every SWEEP_EVERY."""
        now = self.clock()
        if not self.sweeps.due(now):
            return
        # Only records older than FORGET_AFTER can have drained.
        for name in names_older_than(self.storage, THROTTLE, now - FORGET_AFTER,
                                     "drained records of failed sign-ins", is_record_name, SWEEP_MAX):
            key = join(THROTTLE, name)
            with suppress(LensletError, BadRecord):
                data, version = self.storage.read_small(key, MAX_BYTES)
                if data is not None and forgotten(loads(data, now), now):
                    self.storage.delete_if(key, version)  # unless a failure was counted meanwhile
        for name in names_older_than(self.storage, SIGNED_IN, now - KNOWN_FOR, "old records of sign-ins",
                                     most=SWEEP_MAX):
            with suppress(LensletError):
                self.storage.delete(join(SIGNED_IN, name))
