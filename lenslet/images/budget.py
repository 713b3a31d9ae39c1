"""Pixel budgets that bound the memory of concurrent decodes."""

import math
import threading
import time

from lenslet.images.pillow import OverBudget


class Pixels:
    def __init__(self, total):
        self.total = self.left = total
        self.freed = threading.Condition()

    def take(self, cost, until=None):
        """Hold cost pixels, waiting until `until` (None: not at all); return whether taken."""
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
        return Share(self, time.monotonic() + max(0.0, seconds))


class Share:
    """The pixels one decode holds; always release() them."""

    def __init__(self, pixels, until):
        self.pixels = pixels
        self.until = until  # time.monotonic()
        self.held = 0

    def take(self, cost):
        """Hold cost pixels or raise OverBudget."""
        if cost > self.pixels.total:
            raise OverBudget(f"{cost:,} pixels to decode, more than {self.pixels.total:,}")
        if not self.pixels.take(cost, self.until):
            raise OverBudget(f"{cost:,} pixels to decode while others hold the rest")
        self.held += cost

    def release(self):
        held, self.held = self.held, 0
        if held:
            self.pixels.give(held)
