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


def close_unserved_queues(now: datetime | None = None) -> int:
    """End queued chats of lines that have closed and have no helper left to take them.

    Before closing time the queue waits for a helper; after it, newcomers are refused (see
    enqueue_asker) and those already queued are served while a helper of the line is on duty.
    When the last one has gone, each waiting asker is told so plainly and the chat ends.
    Returns how many chats ended.
    """
    from chats import services as chats  # chats.services imports this module

    now = now or timezone.now()
    ended = 0
    waiting_lines = ServiceLine.objects.filter(
        pk__in=Chat.objects.queued().values("line_id"), kind=ServiceLine.Kind.ONE_TO_ONE
    )
    for line in waiting_lines:
        status = line_status(line, now)
        if status.open or helpers_present(line, now).exists():
            continue
        # Follow-up askers are not in the general queue: they wait for their own helper inside
        # the booked shift, whatever the line's hours, until chats/followups.py releases them.
        for chat_id in Chat.objects.general_queue(line.pk).values_list("pk", flat=True):
            with transaction.atomic():
                # Locked while queued: a helper who arrives this instant cannot take it halfway.
                chat = Chat.objects.select_for_update().filter(pk=chat_id).queued().first()
                if chat is None:
                    continue
                chats.system_message(chat, lambda opens=status.opens_at: _closed_text(opens))
                ended += chats.end_chat(chat.pk, by="system", now=now)
    return ended


def _closed_text(opens_at: datetime | None) -> str:
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


class BookingError(Exception):
    """A booking that cannot be made or cancelled; the message is shown to the person as is."""


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


def slot_span(slot: ShiftSlot, day: date) -> tuple[datetime, datetime]:
    """Aware Helsinki start and end of `slot` on `day` (a DST change moves the UTC instant)."""
    return hours.span(day, hours.DailyHours(slot.starts, slot.ends))


def check_booking(
    helper: HelperProfile, slot: ShiftSlot, day: date, *, booking=None, now=None
) -> None:
    """Raise BookingError when `helper` may not have `slot` on `day`; `booking` is being edited."""
    now = now or timezone.now()
    line = slot.line
    name = helper.display_name
    if not slot.active:
        raise BookingError(
            _("The slot %(slot)s of %(line)s can no longer be booked.")
            % {"slot": slot.label, "line": line.slug}
        )
    if not helper.lines.filter(pk=line.pk).exists():
        raise BookingError(
            _("%(name)s is not a helper of %(line)s.") % {"name": name, "line": line.slug}
        )
    if booking is None or booking.pk is None:
        # Editing an old booking in the admin stays possible; new ones are for the future.
        if day < timezone.localdate(now):
            raise BookingError(_("%(day)s is in the past.") % {"day": f"{day:%d.%m.%Y}"})
        if slot_span(slot, day)[1] <= now:
            raise BookingError(
                _("The shift %(slot)s on %(day)s is already over.")
                % {"slot": slot.label, "day": f"{day:%d.%m.%Y}"}
            )
    twins = ShiftBooking.objects.filter(slot=slot, day=day, helper=helper)
    if booking is not None and booking.pk is not None:
        twins = twins.exclude(pk=booking.pk)
    if twins.exists():
        raise BookingError(_double_booking(name, line, slot, day))


def _double_booking(name, line, slot, day) -> str:
    return _("%(name)s has already booked %(line)s %(slot)s on %(day)s.") % {
        "name": name,
        "line": line.slug,
        "slot": slot.label,
        "day": f"{day:%d.%m.%Y}",
    }


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
