"""A thread-safe, bounded memo of the values used last."""

import threading
from collections import OrderedDict

_NONE = object()


class Recent:
    """A bounded map that drops its least recently used key past capacity."""

    def __init__(self, capacity):
        self.capacity = capacity
        self._values = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, default=None):
        """Return the value for key, now the most recent, or default."""
        with self._lock:
            value = self._values.get(key, _NONE)
            if value is _NONE:
                return default
            self._values.move_to_end(key)
            return value

    def put(self, key, value):
        """Keep value for key as the most recent, dropping the oldest past capacity."""
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.capacity:
                self._values.popitem(last=False)

    def clear(self):
        with self._lock:
            self._values.clear()

    def __len__(self):
        return len(self._values)
