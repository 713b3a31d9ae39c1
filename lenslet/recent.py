"""A process's memos: the values used last, a bounded number of them, for any thread.

Listings (pages, answers, counts, orders), thumbnails, what an image says of itself and the credentials a
process counted already each keep one; past its capacity the one used longest ago goes first.
"""

import threading
from collections import OrderedDict

_NONE = object()


class Recent:
    """A bounded map whose least recently used key goes first once it holds more than capacity."""

    def __init__(self, capacity):
        self.capacity = capacity
        self._values = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, default=None):
        """The value kept for key (now the most recently used), or default."""
        with self._lock:
            value = self._values.get(key, _NONE)
            if value is _NONE:
                return default
            self._values.move_to_end(key)
            return value

    def put(self, key, value):
        """Keep value for key, as the most recently used; the least recently used go past capacity."""
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.capacity:
                self._values.popitem(last=False)

    def clear(self):
        """Forget every value."""
        with self._lock:
            self._values.clear()

    def __len__(self):
        return len(self._values)
