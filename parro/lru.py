"""A bounded cache of rendered HTML, per worker process (feed cards, chat messages)."""

from __future__ import annotations

import threading
from collections import OrderedDict


class LRU:
    """Keeps the `size` most recently used entries."""

    def __init__(self):
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()  # the development server runs requests in threads

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value, size: int) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
