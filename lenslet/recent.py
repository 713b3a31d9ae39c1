"""A thread-safe, bounded memo of the values used last."""

import threading
from collections import OrderedDict

_NONE = object()


class Recent:
    """A bounded map that drops its least recently used key past capacity."""

    def __init__(self, capacity, budget=None, weigh=len):
        """budget: what the values may weigh together (by weigh); one over a third of it is not kept."""
        self.capacity, self.budget, self.weigh = capacity, budget, weigh
        self._values, self._weights, self._weight = OrderedDict(), {}, 0
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
        weight = 0 if self.budget is None else self.weigh(value)
        with self._lock:
            self._weight -= self._weights.pop(key, 0)
            self._values.pop(key, None)
            if self.budget is not None and weight * 3 > self.budget:
                return  # it would crowd out the rest
            self._values[key], self._weights[key] = value, weight
            self._weight += weight
            while len(self._values) > self.capacity or self._weight > (self.budget or 0):
                self._weight -= self._weights.pop(self._values.popitem(last=False)[0])

    def clear(self):
        with self._lock:
            self._values.clear()
            self._weights.clear()
            self._weight = 0

    def __len__(self):
        return len(self._values)
