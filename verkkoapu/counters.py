"""The one per-address window counter: every limit that counts events per key and time window.

Chat starts, unknown tokens, group joins, wrong invitations, logins, feedback sends
(`chats.AddressCounter`, one row per kind, key and window) and wrong follow-up codes
(`chats.CodeGuess`, its own window) all count through `WindowCounter`:

- `take(key, now, limit)`: reserve one attempt unless the window already holds `limit`, in one
  statement (a row comes back only when the attempt was taken), so simultaneous attempts on any
  number of processes never get more than `limit` looks. Call before the secret is checked.
- `give_back(key, now)`: the attempt turned out right (a login, a code): it does not count.
- `bump(key, now)`: count an event whatever the limit; the count including it. Inside a
  transaction the row stays locked until it ends (PostgreSQL): one key's events take turns.
- `count`, `forget` (every window of a key), `purge` (windows that are over).

`CacheWindowCounter` has the same `take` in the Django cache (memory or Redis), never the
database: for feedback, whose row would tell when an answer was given.

A key is what the row stores: `address_hash(ip)` (the address rule: an IPv6 /64 is one
address), another keyed hash, or a session's id. Never an address.

Windows of an hour or less are aligned on the hour and never cross one (the counters' purge
forgets past hours); longer ones are aligned on the epoch.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.core.cache import cache
from django.db import connection
from django.db.models import F

HOUR = timedelta(hours=1)


def window_start(now: datetime, length: timedelta = HOUR) -> datetime:
    """The start of the window of `length` that `now` falls in."""
    seconds = length.total_seconds()
    if seconds <= HOUR.total_seconds():
        hour = datetime.fromtimestamp(now.timestamp() // 3600 * 3600, tz=now.tzinfo)
        return hour + timedelta(seconds=(now - hour).total_seconds() // seconds * seconds)
    return datetime.fromtimestamp(now.timestamp() // seconds * seconds, tz=now.tzinfo)


# One statement on both databases (SQLite 3.35+, PostgreSQL): the first event of a window
# creates the row, later ones count on it, and with a limit only while it is below it. The row's
# lock (PostgreSQL) or the database's write lock (SQLite) makes simultaneous events take turns.
_COUNT_SQL = """
INSERT INTO {table} ({keys}, count) VALUES ({marks}, 1)
ON CONFLICT ({keys}) DO UPDATE SET count = {table}.count + 1{below}
RETURNING count
"""


@dataclass(frozen=True)
class WindowCounter:
    """Events per key and window in a counter table (`label`, with a `kind` column when the
    table holds several counts). `seconds` is the window's length, or a function that reads it
    from the settings at the time of the call."""

    label: str
    kind: str | None = None
    seconds: int | Callable[[], int] = 3600

    @property
    def model(self):
        return apps.get_model(self.label)

    def length(self) -> timedelta:
        return timedelta(seconds=self.seconds() if callable(self.seconds) else self.seconds)

    def start(self, now: datetime) -> datetime:
        return window_start(now, self.length())

    def cell(self, key: str, now: datetime | None = None) -> dict:
        """The row's unique columns (without the window when `now` is None: every window)."""
        cell = {} if self.kind is None else {"kind": self.kind}
        cell["address_hash"] = key
        if now is not None:
            cell["window_start"] = self.start(now)
        return cell

    def _add(self, key: str, now: datetime, limit: int | None) -> int | None:
        cell = self.cell(key, now)
        quote = connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        below = "" if limit is None else f" WHERE {table}.count < %s"
        sql = _COUNT_SQL.format(
            table=table,
            keys=", ".join(quote(name) for name in cell),
            marks=", ".join(["%s"] * len(cell)),
            below=below,
        )
        adapt = connection.ops.adapt_datetimefield_value
        values = [adapt(v) if isinstance(v, datetime) else v for v in cell.values()]
        with connection.cursor() as cursor:
            cursor.execute(sql, values if limit is None else [*values, limit])
            row = cursor.fetchone()
        return None if row is None else row[0]

    def bump(self, key: str, now: datetime) -> int:
        """Count one event in the key's current window; the count including it."""
        return self._add(key, now, None)

    def take(self, key: str, now: datetime, limit: int) -> bool:
        """Reserve one attempt unless the window already holds `limit`: whether it was taken."""
        return limit >= 1 and self._add(key, now, limit) is not None

    def give_back(self, key: str, now: datetime) -> None:
        """An attempt (or event) that does not count after all."""
        rows = self.model.objects.filter(count__gt=0, **self.cell(key, now))
        rows.update(count=F("count") - 1)

    def count(self, key: str, now: datetime) -> int:
        rows = self.model.objects.filter(**self.cell(key, now))
        return rows.values_list("count", flat=True).first() or 0

    def forget(self, key: str) -> None:
        """Every window of this key (a login that succeeded forgets its earlier mistakes)."""
        self.model.objects.filter(**self.cell(key)).delete()

    def over(self, now: datetime):
        """The rows of this table whose window is over (for every kind of the table)."""
        return self.model.objects.filter(window_start__lt=self.start(now))


@dataclass(frozen=True)
class CacheWindowCounter:
    """`WindowCounter.take` in the cache: an entry per key that expires `seconds` after the
    key's first event (one atomic add/incr; a refused event is given back at once)."""

    kind: str
    seconds: int | Callable[[], int]

    def take(self, key: str, now: datetime, limit: int) -> bool:
        name = f"{self.kind}:{key[:32]}"
        timeout = self.seconds() if callable(self.seconds) else self.seconds
        if cache.add(name, 1, timeout=timeout):
            return limit >= 1
        try:
            count = cache.incr(name)
        except ValueError:  # expired between add and incr
            cache.add(name, 1, timeout=timeout)
            return limit >= 1
        if count > limit:
            cache.decr(name)
            return False
        return True
