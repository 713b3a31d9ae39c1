"""Count failed sign-ins in the state folder so every process and host shares one count."""

import logging
import random
import threading
import time

from lenslet.errors import BadRequest, Foreign, LensletError, PreconditionFailed, TooLarge, Unavailable
from lenslet.layout import SIGNED_IN, STATE, THROTTLE, join, name_of
from lenslet.people import throttle
from lenslet.recent import Recent
from lenslet.storage import set_aside

log = logging.getLogger("lenslet")

CAPACITY = 10_000
WRITE_TRIES = 20
SWEEP_EVERY = 60.0  # seconds between sweeps of drained records in one process
SWEEP_MAX = 1_000
STUCK = object()  # version of a record that could not be set aside: its address is held back


class Throttle:
    def __init__(self, storage, clock=time.time):
        self.storage, self.clock = storage, clock
        # A page resending one wrong credential makes one guess, so count each once.
        self.counted = Recent(CAPACITY)
        self.lock = threading.Lock()  # for next_sweep
        self.next_sweep = float("-inf")

    def wait(self, address):
        return self._wait(throttle.address_key(address))

    def account_wait(self, name):
        """Return seconds until a password for this name may be tried."""
        return self._wait(throttle.account_key(name))

    def failed(self, address, credential=""):
        """Count a failed attempt from address, once per credential digest."""
        self._count(throttle.address_key(address), credential)

    def account_failed(self, name, credential=""):
        """Count a wrong password for a name, once per credential digest."""
        self._count(throttle.account_key(name), credential)

    def known(self, name, address):
        key = join(SIGNED_IN, throttle.record_name(throttle.signed_in_key(name, address)))
        try:
            data, _ = self.storage.read_small(key, throttle.MAX_BYTES)
            return data is not None and throttle.known(throttle.loads(data, self.clock()), self.clock())
        except (LensletError, throttle.BadRecord) as ex:
            log.warning("not a record of a sign-in, taken for none: %s", getattr(ex, "description", ex))
            return False

    def signed_in(self, name, address):
        key = join(SIGNED_IN, throttle.record_name(throttle.signed_in_key(name, address)))
        try:
            self.storage.write(key, throttle.dumps(throttle.signed_in(self.clock())), durable=False)
        except LensletError as ex:
            log.warning("cannot keep where %s signed in from: %s", name[:64], ex.description)

    def _wait(self, key):
        record, _ = self._load(throttle.record_name(key))
        return throttle.wait(record, self.clock())

    def _count(self, key, credential):
        pair = (key, credential)
        if credential and self.counted.get(pair):
            return
        name = throttle.record_name(key)
        for attempt in range(WRITE_TRIES):
            record, version = self._load(name)
            if version is STUCK:
                return  # held back for as long as that file is there
            try:
                self.storage.replace_if(join(THROTTLE, name), throttle.dumps(throttle.failed(record, self.clock())),
                                        version)
                break
            except PreconditionFailed:  # another process counted meanwhile: count on top
                time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 6)))
        else:
            raise Unavailable("too many failed attempts at once to count them; try again")
        if credential:
            self.counted.put(pair, True)
        self._sweep()

    def _load(self, name, settle=True):
        """Return (record, version) for a record name, or (None, None); a bad file counts as spent."""
        key = join(THROTTLE, name)
        try:
            data, version = self.storage.read_small(key, throttle.MAX_BYTES)
            if data is None:
                return None, None
            return throttle.loads(data, self.clock()), version
        except (Foreign, TooLarge) as ex:
            place, reason = (THROTTLE, name), ex.description
        except throttle.BadRecord as ex:
            place, reason = (THROTTLE, name), str(ex)
        except BadRequest as ex:
            place, reason = (STATE, name_of(THROTTLE)), ex.description
        spent = throttle.spent(self.clock())
        if set_aside(self.storage, *place, f"not a record of failed sign-ins ({reason})") is None:
            return spent, STUCK
        try:
            return spent, self.storage.replace_if(key, throttle.dumps(spent), None)
        except PreconditionFailed:  # another process wrote one meanwhile: theirs counts
            return self._load(name, settle=False) if settle else (spent, STUCK)

    def _sweep(self):
        """Remove records that have drained to nothing, at most once every SWEEP_EVERY."""
        now = self.clock()
        with self.lock:
            if now < self.next_sweep:
                return
            self.next_sweep = now + SWEEP_EVERY
        try:
            entries = self.storage.list_folder(THROTTLE)
        except LensletError as ex:
            log.warning("cannot look for drained records of failed sign-ins: %s", ex.description)
            return
        # Only records older than FORGET_AFTER can have drained.
        old = [entry.name for entry in entries if not entry.is_dir and throttle.is_record_name(entry.name)
               and entry.mtime < now - throttle.FORGET_AFTER]
        for name in old[:SWEEP_MAX]:
            key = join(THROTTLE, name)
            try:
                data, version = self.storage.read_small(key, throttle.MAX_BYTES)
                if data is not None and throttle.forgotten(throttle.loads(data, now), now):
                    self.storage.delete_if(key, version)  # unless a failure was counted meanwhile
            except (LensletError, throttle.BadRecord):
                continue
        self._sweep_signed_in(now)

    def _sweep_signed_in(self, now):
        """Remove sign-in records older than KNOWN_FOR."""
        try:
            entries = self.storage.list_folder(SIGNED_IN) if self.storage.exists(SIGNED_IN) else []
        except LensletError as ex:
            log.warning("cannot look for old records of sign-ins: %s", ex.description)
            return
        old = [entry.name for entry in entries if not entry.is_dir and entry.mtime < now - throttle.KNOWN_FOR]
        for name in old[:SWEEP_MAX]:
            try:
                self.storage.delete(join(SIGNED_IN, name))
            except LensletError:
                continue
