"""Values read from the database and kept a few seconds per process.

A chat start reads its line, the line's opening rules and the pace of its helpers; an opening's
burst of starts read the same rows hundreds of times a second (docs/performance.md, item 18).
A `Recent` keeps each value for `seconds`: a change saved in this process clears it at once
(`forget`, connected to the models' signals by the apps), one saved in another process is seen
within `seconds`.
"""

import threading
import time
from collections.abc import Callable, Hashable


class Recent:
    every: list["Recent"] = []  # for tests, which start each from nothing

    KEYS_KEPT = 1000  # past this, old values go: keys from the network (slugs) are unbounded

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.values: dict[Hashable, tuple[float, object]] = {}
        self.lock = threading.Lock()
        Recent.every.append(self)

    def get(self, key: Hashable, read: Callable[[], object]):
        """The value kept for `key`, or `read()` (kept from now) when there is none or it is old."""
        stamp, value = self.values.get(key, (0.0, None))
        if value is None or time.monotonic() - stamp > self.seconds:
            value = read()
            with self.lock:
                if len(self.values) >= self.KEYS_KEPT:
                    self._drop_old()
                self.values[key] = (time.monotonic(), value)
        return value

    def _drop_old(self):
        oldest = time.monotonic() - self.seconds
        self.values = {k: kept for k, kept in self.values.items() if kept[0] >= oldest}
        if len(self.values) >= self.KEYS_KEPT:  # all fresh: a flood of new keys
            self.values.clear()

    def forget(self, *args, **kwargs):
        """Drop every value (a signal receiver: the arguments say what changed)."""
        with self.lock:
            self.values.clear()

    @classmethod
    def forget_all(cls):
        for recent in cls.every:
            recent.forget()
