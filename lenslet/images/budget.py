"""The pixels a process's decodes hold at once: what bounds the memory of thumbnails and previews.

A decode holds about 4 bytes a pixel, one that is converted twice that
(decode.decode_cost says what each image costs). Slots and processes bound how many
decodes run at once; a budget of pixels bounds their memory, whatever their sizes:
a web process's inline decodes (thumbs.py) and a pool's processes (pool.py) each
take their share before a decode starts and give it back when it ends.
"""

import math
import threading
import time

from lenslet.images.decode import OverBudget


class Pixels:
    """A budget of pixels, taken and given back by the decodes of one process or pool."""

    def __init__(self, total):
        self.total = self.left = total
        self.freed = threading.Condition()

    def take(self, cost, until=None):
        """Hold cost pixels, waiting for others to give theirs back until `until` (time.monotonic();
        None: not at all, math.inf: as long as it takes); whether they were taken. A cost above
        the total is taken as the whole budget: that decode runs alone."""
        cost = min(cost, self.total)
        with self.freed:
            while self.left < cost:
                left = until - time.monotonic() if until is not None else 0
                if left <= 0:
                    return False
                self.freed.wait(None if math.isinf(left) else left)
            self.left -= cost
            return True

    def give(self, cost):
        with self.freed:
            self.left += min(cost, self.total)
            self.freed.notify_all()

    def share(self, seconds):
        """One decode's share for a client who waits, waiting at most seconds for other decodes."""
        return Share(self, time.monotonic() + max(0.0, seconds))


class Share:
    """What one decode made while a client waits holds of Pixels: take(cost) once its size is known
    (decode.make_thumbnail's budget), release() always."""

    def __init__(self, pixels, until):
        self.pixels = pixels
        self.until = until  # time.monotonic(): a wait that never ends on a caller's fake clock
        self.held = 0

    def take(self, cost):
        """Hold cost pixels; OverBudget if cost is more than the budget may ever hold (such an image
        is made elsewhere, never alone here) or the wait runs out."""
        if cost > self.pixels.total:
            raise OverBudget(f"{cost:,} pixels to decode, more than {self.pixels.total:,}")
        if not self.pixels.take(cost, self.until):
            raise OverBudget(f"{cost:,} pixels to decode while others hold the rest")
        self.held += cost

    def release(self):
        held, self.held = self.held, 0
        if held:
            self.pixels.give(held)
