"""Counting: atomic increments of (line, day, metric, key) cells."""

from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F

from .models import DailyCount

# Waiting time and duration are kept as bucketed counts only (upper bounds in seconds).
BUCKETS = ((60, "<1min"), (300, "1-5min"), (900, "5-15min"), (1800, "15-30min"))
LAST_BUCKET = "30min+"


def bucket(duration: timedelta) -> str:
    seconds = duration.total_seconds()
    for limit, label in BUCKETS:
        if seconds < limit:
            return label
    return LAST_BUCKET


def increment(line_id: int, day: date, metric: str, key: str = "", by: int = 1) -> None:
    """Add `by` to one counter cell; safe when many processes count the same cell at once."""
    cell = DailyCount.objects.filter(line_id=line_id, day=day, metric=metric, key=key)
    if cell.update(count=F("count") + by):
        return
    try:
        with transaction.atomic():
            DailyCount.objects.create(line_id=line_id, day=day, metric=metric, key=key, count=by)
    except IntegrityError:
        # Another process created the cell between our update and insert: add to theirs.
        cell.update(count=F("count") + by)
