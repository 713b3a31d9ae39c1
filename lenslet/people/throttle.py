"""Failed sign-ins slowed per client address, in bounded memory. Pure: the clock is given.

Each address has a level that a failure raises by one and that drains by one every DRAIN
seconds. Up to FREE failures in a row pass; past them every attempt with a token or a share
key is refused (429) until the level has drained below FREE again, so a guesser gets about
one try every DRAIN seconds, while a person who mistypes a few times is never held up.
The same wrong credential again is not a new guess (a page loading fifty thumbnails with a revoked
share link): each (address, credential digest) counts once while remembered. At most CAPACITY
addresses and CAPACITY such pairs are remembered, the least recently failed forgotten first.
"""

import math
import threading
from collections import OrderedDict

FREE = 10
DRAIN = 6.0
CAPACITY = 10_000


class Throttle:
    def __init__(self, clock, free=FREE, drain=DRAIN, capacity=CAPACITY):
        self.clock, self.free, self.drain, self.capacity = clock, free, drain, capacity
        self.levels = OrderedDict()  # address -> (level, when it was that)
        self.counted = OrderedDict()  # (address, digest of a credential) -> None: failures counted already
        self.lock = threading.Lock()

    def _level(self, address, now):
        level, at = self.levels.get(address, (0.0, now))
        return max(0.0, level - (now - at) / self.drain)

    def wait(self, address):
        """Seconds the address must wait before its next attempt (0: it may try now)."""
        with self.lock:
            now = self.clock()
            over = self._level(address, now) - self.free
            return 0 if over < 0 else max(1, math.ceil((over + 1e-9) * self.drain))

    def failed(self, address, credential=""):
        """Count a failed attempt from address (once for each credential, given as a digest)."""
        with self.lock:
            now = self.clock()
            if credential:
                if (address, credential) in self.counted:
                    self.counted.move_to_end((address, credential))
                    return
                self.counted[(address, credential)] = None
                while len(self.counted) > self.capacity:
                    self.counted.popitem(last=False)
            self.levels[address] = (self._level(address, now) + 1, now)
            self.levels.move_to_end(address)
            while len(self.levels) > self.capacity:
                self.levels.popitem(last=False)
