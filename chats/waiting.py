"""Honest waiting: an estimated wait as a range, and a queue that stops before it is hopeless.

Pace of a line
    `handle` (minutes) is an exponentially weighted average of how long the line's answered
    chats last, from assignment to end: h ← h + α·(d − h) with α = 0.2 (the last ten or so
    chats weigh most), d clamped to 1–120 minutes so one forgotten chat does not swamp it. It
    lives in one LineLoad row per line; before the first answered chat h is
    CHAT_DEFAULT_HANDLE_MINUTES. `slots` is how many chats the line's helpers on duty (not on a
    break) may hold at once (chats/duty.py), `free` how many of those are free now.

Estimate for the asker at `position` (1 = next)
    The first `free` askers get a free helper at once: 0–5 minutes (someone has to click).
    Behind them, an asker needs n = position − free chats to finish; with `slots` chats going
    on and each lasting h on average, that takes about m = n·h/slots minutes. The asker sees
    m·0.5 … m·1.5, rounded out to whole 5 minutes, never a single number and never a promise.
    With nobody on duty there is no estimate (null).

Cut-off before closing
    The askers the line can still answer before it closes are
        N = free + minutes_left · slots / h
    the free places plus the chats its helpers finish before closing (minutes until closing
    times the helpers' places, divided by the average chat). When the queue already holds N
    askers or more (waiting ≥ N), a newcomer is refused with `queue_full` before joining, told
    the next opening and shown other services; below N the newcomer joins (a fraction of a place
    left is a fair chance, not a promise). With nobody on duty the rule assumes one helper with
    one place comes (slots = 1, free = 0): the line is open and the rota says someone is on the
    way, so an empty queue always takes a newcomer while the line is open.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from scheduling import hours
from scheduling import services as scheduling
from verkkoapu.recent import Recent

from . import duty, protocol
from .errors import ChatError
from .models import Chat, LineLoad, PreparedText, ServiceLine

ALPHA = 0.2
SHORTEST = timedelta(minutes=1)
LONGEST = timedelta(minutes=120)
SPREAD = 0.5  # the range is the mean ×(1 − SPREAD) … ×(1 + SPREAD)
ROUND_TO = 5  # minutes
PACE_CACHE_SECONDS = 1.0  # a burst of starts or of queue moves reads the pace once a second


@dataclass(frozen=True)
class Pace:
    slots: int  # chats the line's helpers on duty may hold at once
    free: int  # of those, free now
    handle_minutes: float  # average length of an answered chat


# --- Pure: the estimate and the cut-off -----------------------------------------------------------


def estimate_range(position: int, pace: Pace) -> tuple[int, int] | None:
    """Minutes (low, high) until the asker at `position` is answered; None with nobody on duty."""
    if pace.slots <= 0:
        return None
    if position <= pace.free:
        return 0, ROUND_TO
    mean = (position - pace.free) * pace.handle_minutes / pace.slots
    low = math.floor(mean * (1 - SPREAD) / ROUND_TO) * ROUND_TO
    high = math.ceil(mean * (1 + SPREAD) / ROUND_TO) * ROUND_TO
    return low, max(high, low + ROUND_TO)


def can_serve_before_closing(
    waiting: int, minutes_left: float, slots: int, free: int, handle_minutes: float
) -> bool:
    """Does the queue leave a newcomer behind `waiting` askers a chance before closing?"""
    if minutes_left <= 0:
        return False
    if slots <= 0:
        slots, free = 1, 0  # nobody on duty: assume one helper comes (see the module's text)
    return waiting < free + minutes_left * slots / handle_minutes


# --- The line's average chat ----------------------------------------------------------------------


def handle_minutes(line_id: int) -> float:
    seconds = LineLoad.objects.filter(line_id=line_id).values_list("handle_seconds", flat=True)
    found = seconds.first()
    return (found if found is not None else _default_seconds()) / 60


def _default_seconds() -> float:
    return settings.CHAT_DEFAULT_HANDLE_MINUTES * 60.0


def record_duration(line_id: int, duration: timedelta, now: datetime) -> None:
    """An answered chat ended: move the line's average towards its length (one UPDATE)."""
    sample = min(max(duration, SHORTEST), LONGEST).total_seconds()
    row = LineLoad.objects.filter(line_id=line_id)
    moved = {
        "handle_seconds": F("handle_seconds") * (1 - ALPHA) + sample * ALPHA,
        "samples": F("samples") + 1,
        "updated_at": now,
    }
    if row.update(**moved):
        return
    try:
        with transaction.atomic():
            LineLoad.objects.create(
                line_id=line_id,
                handle_seconds=_default_seconds() * (1 - ALPHA) + sample * ALPHA,
                samples=1,
                updated_at=now,
            )
    except IntegrityError:
        # Another process counted the line's first chat at the same moment: add to theirs.
        row.update(**moved)


# --- From the database ----------------------------------------------------------------------------


def pace_of(line: ServiceLine, now: datetime | None = None) -> Pace:

    total, free = duty.slots(line, now)
    return Pace(total, free, handle_minutes(line.pk))


_paces = Recent(PACE_CACHE_SECONDS)


def cached_pace(line: ServiceLine) -> Pace:
    """The pace, read at most every few seconds per process: every waiting asker's socket asks
    for it whenever the queue moves, and every start for its estimate."""
    return _paces.get(line.pk, lambda: pace_of(line))


def estimate_field(position: int, pace: Pace) -> dict | None:
    found = estimate_range(position, pace)
    return None if found is None else {"min_minutes": found[0], "max_minutes": found[1]}


def estimate_for(line: ServiceLine, position: int) -> dict | None:
    """The `estimate` field of `queued` and `position` frames: on the pace read within the last
    second (a queued asker's heartbeat and every resume ask for it)."""
    return estimate_field(position, cached_pace(line))


@dataclass(frozen=True)
class Outlook:
    status: hours.Status
    queue_length: int
    pace: Pace
    accepting: bool
    newcomer_estimate: dict | None


def outlook(line: ServiceLine, now: datetime | None = None, status=None) -> Outlook:
    """What a newcomer would meet on the line now: open, queue, pace, accepted or not."""
    now = now or timezone.now()
    status = status or scheduling.line_status(line, now)
    queue_length = Chat.objects.general_queue(line.pk).count()
    pace = pace_of(line, now)
    estimate = estimate_field(queue_length + 1, pace) if status.open else None
    return Outlook(status, queue_length, pace, accepting(status, queue_length, pace, now), estimate)


def accepting(status: hours.Status, queue_length: int, pace: Pace, now: datetime) -> bool:
    """Whether the line takes one more into a queue this long: open, and (with a closing time)
    the helpers can answer it before closing."""
    if not status.open or status.closes_at is None:
        return status.open
    minutes_left = (status.closes_at - now).total_seconds() / 60
    return can_serve_before_closing(
        queue_length, minutes_left, pace.slots, pace.free, pace.handle_minutes
    )


def refuse_if_full(
    line: ServiceLine, status: hours.Status, language: str, now: datetime, *, ahead: int
) -> Pace:
    """`queue_full`, with the next opening and other services, when the `ahead` askers in
    front of a newcomer are past the cut-off; else the line's pace, for the newcomer's estimate.

    A newcomer is let in on the pace read in the last second (`cached_pace`): an opening's
    burst reads it once, not once per asker. Only a refusal waits for a fresh reading: refusing
    on a stale pace would not be fair.
    """
    for read in (lambda: cached_pace(line), lambda: pace_of(line, now)):
        pace = read()
        if accepting(status, ahead, pace, now):
            return pace
    opens_at = scheduling.line_status(line, status.closes_at).opens_at if status.closes_at else None
    with translation.override(language):
        message = _(
            "The queue is already longer than the helpers can answer before the chat closes "
            "today, so we cannot take you into it. Please come back when the chat opens again, "
            "or see the other services below."
        )
    raise ChatError(
        "queue_full",
        message,
        opens_at=protocol.iso(opens_at),
        referrals=referrals_for(line),
    )


def referrals_for(line: ServiceLine) -> list[dict]:
    """Other services an asker can turn to: the referral texts of the line and of every line."""
    texts = PreparedText.objects.filter(
        Q(line=line) | Q(line__isnull=True), kind=PreparedText.Kind.REFERRAL, active=True
    )
    return [{"title": text.title, "text": text.text, "url": text.url} for text in texts]
