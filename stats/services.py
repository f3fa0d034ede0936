"""Counting: atomic increments of (line, day, metric, key) cells."""

from datetime import date, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from chats.models import ServiceLine
from verkkoapu.recent import Recent

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


# All the cells or none: a cell missing (a new day) leaves every cell to `increment`.
_EACH_SQL = """
UPDATE {table} SET count = count + 1
WHERE line_id = %s AND day = %s AND (metric, key) IN ({cells})
AND (SELECT COUNT(*) FROM {table} WHERE line_id = %s AND day = %s AND (metric, key) IN ({cells}))
    = %s
"""


# Practice lines (ServiceLine.practice) are for training: nothing of theirs is counted. Their
# ids are kept a few seconds per process, as a start on a busy line counts every time.
_practice = Recent(10.0)


def practice_line_ids() -> frozenset[int]:
    return _practice.get(
        "ids",
        lambda: frozenset(ServiceLine.objects.filter(practice=True).values_list("pk", flat=True)),
    )


forget_practice = _practice.forget


def increment_each(line_id: int, day: date, cells: list[tuple[str, str]]) -> None:
    """Add one to each (metric, key) cell of a line's day, in one statement when they all exist
    (a chat start counts two cells, and an opening's burst counts hundreds of starts)."""
    if line_id in practice_line_ids():
        return
    pairs = ", ".join(["(%s, %s)"] * len(cells))
    flat = [value for cell in cells for value in cell]
    day_value = connection.ops.adapt_datefield_value(day)
    sql = _EACH_SQL.format(table=connection.ops.quote_name(DailyCount._meta.db_table), cells=pairs)
    with connection.cursor() as cursor:
        cursor.execute(sql, [line_id, day_value, *flat, line_id, day_value, *flat, len(cells)])
        if cursor.rowcount == len(cells):
            return
    for metric, key in cells:
        increment(line_id, day, metric, key)


def increment(line_id: int, day: date, metric: str, key: str = "", by: int = 1) -> None:
    """Add `by` to one counter cell; safe when many processes count the same cell at once."""
    if line_id in practice_line_ids():
        return
    cell = DailyCount.objects.filter(line_id=line_id, day=day, metric=metric, key=key)
    if cell.update(count=F("count") + by):
        return
    try:
        with transaction.atomic():
            DailyCount.objects.create(line_id=line_id, day=day, metric=metric, key=key, count=by)
    except IntegrityError:
        # Another process created the cell between our update and insert: add to theirs.
        cell.update(count=F("count") + by)


# --- What the counters mean ---------------------------------------------------------------------

# Every metric the code counts, in the order exports and docs list them. Keyed metrics split
# their count by `key` (a role, a bucket, a side, a topic slug); a metric found in the data but
# missing here is still exported, after these, under its own name.
METRICS = {
    "chats_started": _("Chats started (joined the queue)"),
    "contact": _("Chats started, by kind of contact"),
    "chats_answered": _("Chats answered by a helper"),
    "queue_abandoned": _("Left the queue before an answer"),
    "answered_by_role": _("Answered, by the helper's role"),
    "wait": _("Waiting time before an answer"),
    "ended_by": _("Answered chats, by who ended them"),
    "duration": _("Duration of answered chats"),
    "topic": _("Topics tagged by the helper"),
    "follow_ups_offered": _("Follow-ups offered by helpers"),
    "follow_ups_expired": _("Follow-ups not taken up (expired)"),
    "group_sessions": _("Group sessions held"),
    "group_participants": _("Group session participants (joins)"),
    "group_messages": _("Group session messages"),
    # The helper's workflow (docs/workflow.md).
    "age": _("Age range given by the asker (lines that ask it)"),
    "transfers": _("Chats handed over to a colleague, by the receiver's role"),
    # Anonymous letters (docs/letters.md).
    "letters_written": _("Letters written by askers"),
    "letter_threads": _("Letter threads started"),
    "letter_replies": _("Letter replies released, by the helper's role"),
    "letter_answer_time": _("Time from a letter to its reply"),
    "letter_topic": _("Topics chosen by letter writers"),
    "letter_threads_ended": _("Letter threads erased, by who ended them"),
}

KEY_LABELS = {
    "contact": {"first": _("first contact"), "follow_up": _("follow-up")},
    "answered_by_role": {
        "professional": _("professional"),
        "peer": _("peer helper"),
        "volunteer": _("volunteer"),
    },
    # The youth line's ranges; other lines' keys (their own settings) are listed after these.
    "age": {
        "under_13": _("under 13"),
        "13_15": _("13–15"),
        "16_17": _("16–17"),
        "18_plus": _("18 or over"),
    },
    "ended_by": {"asker": _("the asker"), "helper": _("the helper"), "system": _("the system")},
    "wait": {label: label for _limit, label in BUCKETS} | {LAST_BUCKET: LAST_BUCKET},
}
KEY_LABELS["duration"] = KEY_LABELS["wait"]
KEY_LABELS["transfers"] = KEY_LABELS["answered_by_role"]
KEY_LABELS["letter_replies"] = KEY_LABELS["answered_by_role"]
KEY_LABELS["letter_answer_time"] = {
    "<1d": _("under a day"),
    "1-3d": _("1–3 days"),
    "3-7d": _("3–7 days"),
    "7d+": _("a week or more"),
}
KEY_LABELS["letter_threads_ended"] = {
    "asker": _("the asker"),
    "helper": _("the helper"),
    "expired": _("retention ran out"),
}

# Counts that add up to another (per line and period): (total, the metrics whose cells add up to
# it). Every answered chat has one role, one wait bucket and, once it ends, one side that ended
# it and one duration; every started chat is a first contact or a follow-up, and is answered or
# abandoned. Exports use these to hide a second cell beside a lone hidden one, which could
# otherwise be worked out by subtraction (stats/export.py). The answered/ended ones are not
# exact within a day (a chat can end the next day) and are treated as exact anyway: hiding too
# much is the safe side.
RELATIONS = (
    ("chats_started", ("chats_answered", "queue_abandoned")),
    ("chats_started", ("contact",)),
    ("chats_answered", ("answered_by_role",)),
    ("chats_answered", ("wait",)),
    ("chats_answered", ("ended_by",)),
    ("chats_answered", ("duration",)),
    # The youth line's started chats by age range (a client may leave the age out: not exact,
    # treated as exact like the others).
    ("chats_started", ("age",)),
    # Every released letter reply has one role and one answer time.
    ("letter_replies", ("letter_answer_time",)),
)


def metric_order(metric: str) -> tuple[int, str]:
    known = list(METRICS)
    return (known.index(metric), "") if metric in known else (len(known), metric)


def key_order(metric: str, key: str) -> tuple[int, str]:
    labels = list(KEY_LABELS.get(metric, {}))
    return (labels.index(key), "") if key in labels else (len(labels), key)
