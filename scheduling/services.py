"""Scheduling rules from the database, answered by the pure functions of hours.py; shifts."""

import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays as holidays_lib
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from chats.models import Chat, DutySession, HelperProfile, ServiceLine
from verkkoapu.recent import Recent

from . import hours
from .booking import BookingError, _double_booking, check_booking, slot_span  # noqa: F401
from .models import Debrief, HoursException, OpeningHours, ShiftBooking, ShiftSlot


@lru_cache(maxsize=8)
def finnish_holidays(first_year: int, last_year: int):
    return holidays_lib.Finland(years=range(first_year, last_year + 1))


# A start asks whether its line is open; an opening's burst asked hundreds of times a second.
RULES_CACHE_SECONDS = 10.0
_rules = Recent(RULES_CACHE_SECONDS)


def rules_for(line: ServiceLine):
    """The line's week and its exceptions (and every line's), in the order they apply.

    Kept `RULES_CACHE_SECONDS` per process: a change saved in admin applies at once in the
    process that saved it and within that time in the others (scheduling/signals.py)."""
    return _rules.get(line.pk, lambda: _read_rules(line))


forget_rules = _rules.forget


def _read_rules(line: ServiceLine):
    week = {
        row.weekday: hours.DailyHours(row.opens, row.closes)
        for row in OpeningHours.objects.filter(line=line)
    }
    exceptions = [
        hours.HoursException(
            row.first_day,
            row.last_day,
            None if row.closed else hours.DailyHours(row.opens, row.closes),
            row.weekdays_only,
        )
        for row in HoursException.objects.filter(Q(line=line) | Q(line=None)).order_by(
            "created_at", "pk"
        )
    ]
    return week, exceptions


def line_status(line: ServiceLine, at: datetime | None = None) -> hours.Status:
    """Is the line open at `at` (default now), and when does it next open or close."""
    at = at or timezone.now()
    week, exceptions = rules_for(line)
    year = at.astimezone(hours.HELSINKI).year
    return hours.status_at(at, week, exceptions, finnish_holidays(year, year + 1))


TIMETABLE_DAYS = 60


def timetable(line: ServiceLine, today: date | None = None) -> dict:
    """The line's weekly hours and the exceptions of the coming `TIMETABLE_DAYS` (for askers).

    Times are Helsinki wall-clock `HH:MM` (closing `00:00` is midnight); an exception that
    covers several lines is listed for each. Public holidays close every line (not listed)."""
    today = today or timezone.localdate()
    week, exceptions = rules_for(line)
    horizon = today + timedelta(days=TIMETABLE_DAYS)
    return {
        "week": [
            {"weekday": day, "opens": _hhmm(kept.opens), "closes": _hhmm(kept.closes)}
            for day, kept in sorted(week.items())
        ],
        "exceptions": [
            {
                "first_day": exception.first_day.isoformat(),
                "last_day": exception.last_day.isoformat(),
                "closed": exception.hours is None,
                "opens": _hhmm(exception.hours.opens) if exception.hours else None,
                "closes": _hhmm(exception.hours.closes) if exception.hours else None,
                "weekdays_only": exception.weekdays_only,
            }
            for exception in sorted(exceptions, key=lambda found: found.first_day)
            if exception.last_day >= today and exception.first_day <= horizon
        ],
    }


def _hhmm(moment: time) -> str:
    return f"{moment:%H:%M}"


def closed_on(line: ServiceLine, day: date) -> bool:
    """Is the line closed for the whole of Helsinki calendar day `day` by an exception (a
    closure of the line or of every line) or a Finnish public holiday? Group series skip such
    days (chats/group_series.py); a weekday without regular hours is not a closure."""
    _week, exceptions = rules_for(line)
    if day in finnish_holidays(day.year, day.year):
        return True
    for exception in reversed(exceptions):
        if exception.covers(day):
            return exception.hours is None
    return False


# --- Closing time ------------------------------------------------------------------------------


def helpers_present(line: ServiceLine, now: datetime):
    """Console connections of the line's helpers seen within the reconnect grace period."""
    return DutySession.objects.present(now).filter(helper__lines=line)


def unserved_lines(now: datetime) -> list[tuple[ServiceLine, hours.Status]]:
    """One-to-one lines with askers queued that have closed and have no helper left to take
    them, with their status (when they open again).

    Before closing time the queue waits for a helper; after it, newcomers are refused (see
    chats.asking.enqueue_asker) and those already queued are served while a helper of the line
    is on duty. When the last one has gone, chats' sweep tells each waiting asker so plainly
    (`closed_text`) and ends the chat (chats/sweeps.py: scheduling answers, chats decides).
    """
    waiting_lines = ServiceLine.objects.filter(
        pk__in=Chat.objects.queued().values("line_id"), kind=ServiceLine.Kind.ONE_TO_ONE
    )
    found = []
    for line in waiting_lines:
        status = line_status(line, now)
        if not status.open and not helpers_present(line, now).exists():
            found.append((line, status))
    return found


def closed_text(opens_at: datetime | None) -> str:
    if opens_at is None:
        return _(
            "The chat has closed and no helper is available to answer you any more. "
            "We are sorry that you were not answered this time."
        )
    when = formats.date_format(timezone.localtime(opens_at), "DATETIME_FORMAT")
    return _(
        "The chat has closed and no helper is available to answer you any more. "
        "We are sorry that you were not answered this time. The chat opens again on %(when)s."
    ) % {"when": when}


# --- Shifts ------------------------------------------------------------------------------------


SLOT_PATTERN = re.compile(r"^\s*(\d{1,2})(?:[:.](\d{2}))?\s*[-–]\s*(\d{1,2})(?:[:.](\d{2}))?\s*$")


def parse_slot_label(label: str) -> tuple[time, time]:
    """`12-14`, `12:00-14:00`, `12–14` or `22-24` as (starts, ends); ends 00:00 is midnight."""
    match = SLOT_PATTERN.match(label or "")
    if not match:
        raise BookingError(
            _("Cannot read the slot '%(label)s'; write it like 12-14.") % {"label": label}
        )
    start_h, start_m, end_h, end_m = (int(part or 0) for part in match.groups())
    if start_h > 23 or end_h > 24 or start_m > 59 or end_m > 59 or (end_h == 24 and end_m):
        raise BookingError(
            _("Cannot read the slot '%(label)s'; write it like 12-14.") % {"label": label}
        )
    return time(start_h, start_m), time(end_h % 24, end_m)


def get_slot(line: ServiceLine, label: str) -> ShiftSlot:
    starts, ends = parse_slot_label(label)
    slot = ShiftSlot.objects.filter(line=line, starts=starts, ends=ends, active=True).first()
    if slot is None:
        known = ", ".join(s.label for s in ShiftSlot.objects.filter(line=line, active=True))
        raise BookingError(
            _("%(line)s has no slot '%(label)s'; its slots are: %(known)s.")
            % {"line": line.slug, "label": label, "known": known or "–"}
        )
    return slot


def _line(line: ServiceLine | str) -> ServiceLine:
    if isinstance(line, ServiceLine):
        return line
    found = ServiceLine.objects.filter(slug=line, kind=ServiceLine.Kind.ONE_TO_ONE).first()
    if found is None:
        raise BookingError(_("Unknown service '%(line)s'.") % {"line": line})
    return found


def book_shift(
    helper: HelperProfile,
    line: ServiceLine | str,
    day: date,
    slot: ShiftSlot | str,
    now: datetime | None = None,
) -> ShiftBooking:
    """Book `slot` (a ShiftSlot or a label like "12-14") of `line` on `day` for `helper`.

    Raises BookingError, with a message fit to show as is, and changes nothing when the helper
    is not on the line, the slot is unknown or over, or the helper already has it.
    """
    line = _line(line)
    if isinstance(slot, str):
        slot = get_slot(line, slot)
    elif slot.line_id != line.pk:
        raise BookingError(
            _("The slot %(slot)s is not a slot of %(line)s.")
            % {"slot": slot.label, "line": line.slug}
        )
    check_booking(helper, slot, day, now=now)
    try:
        with transaction.atomic():
            return ShiftBooking.objects.create(slot=slot, day=day, helper=helper)
    except IntegrityError:
        # Two requests raced past the check: the unique constraint has the last word.
        raise BookingError(_double_booking(helper.display_name, line, slot, day)) from None


def cancel_shift(helper: HelperProfile, booking_id: int, now: datetime | None = None) -> None:
    """A helper cancels one of their own shifts that has not started yet."""
    now = now or timezone.now()
    booking = (
        ShiftBooking.objects.select_related("slot").filter(pk=booking_id, helper=helper).first()
    )
    if booking is None:
        raise BookingError(_("No such shift of yours."))
    if slot_span(booking.slot, booking.day)[0] <= now:
        raise BookingError(_("A shift that has started can no longer be cancelled."))
    booking.delete()


def shift_containing(
    helper: HelperProfile, line: ServiceLine, at: datetime
) -> tuple[datetime, datetime] | None:
    """The start and end of the helper's own booked shift on `line` that contains `at`.

    Back-to-back bookings (12–14 and 14–16) make one shift (12–16). None when `at` is outside
    every booked shift of the helper on that line.
    """
    local_day = at.astimezone(hours.HELSINKI).date()
    bookings = ShiftBooking.objects.filter(
        helper=helper,
        slot__line=line,
        # A shift may run across midnight, and back-to-back ones may join over it.
        day__range=(local_day - timedelta(days=1), local_day + timedelta(days=1)),
    ).select_related("slot")
    spans = sorted(slot_span(booking.slot, booking.day) for booking in bookings)
    merged: list[list[datetime]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    moment = at.astimezone(hours.UTC)  # compare instants, not Helsinki wall-clock times
    for start, end in merged:
        if start <= moment < end:
            return start, end
    return None


def record_debrief(
    professional: HelperProfile, booking_id: int, *, held_at=None, now=None
) -> Debrief:
    """A professional of the line records that the closing debrief of a peer's shift was held."""
    now = now or timezone.now()
    booking = (
        ShiftBooking.objects.select_related("slot__line", "helper").filter(pk=booking_id).first()
    )
    if booking is None or booking.helper.role != HelperProfile.Role.PEER:
        raise BookingError(_("No such peer shift."))
    if professional.role != HelperProfile.Role.PROFESSIONAL:
        raise BookingError(_("Only a professional records a debrief."))
    if not professional.lines.filter(pk=booking.slot.line_id).exists():
        raise BookingError(
            _("%(name)s is not a helper of %(line)s.")
            % {"name": professional.display_name, "line": booking.slot.line.slug}
        )
    if slot_span(booking.slot, booking.day)[0] > now:
        raise BookingError(_("That shift has not started yet."))
    try:
        with transaction.atomic():
            return Debrief.objects.create(
                booking=booking, held_at=held_at or now, recorded_by=professional
            )
    except IntegrityError:
        raise BookingError(_("The debrief of that shift is already recorded.")) from None
