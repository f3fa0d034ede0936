"""What the calendar, the console and the coordinators see: read-only views of the rota.

A booking is the plan; a console connection (chats.models.DutySession) is who is actually on
duty. These functions put the two side by side. The writes live in services.py.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from chats.models import DutySession, HelperProfile, ServiceLine

from . import hours
from .models import ShiftBooking, ShiftSlot
from .services import finnish_holidays, rules_for, slot_span

PEER = HelperProfile.Role.PEER
PROFESSIONAL = HelperProfile.Role.PROFESSIONAL


@dataclass
class Cell:
    """One slot on one day: who booked it, and what it needs."""

    slot: ShiftSlot
    day: date
    start: datetime
    end: datetime
    bookings: list[ShiftBooking] = field(default_factory=list)
    mine: ShiftBooking | None = None
    over: bool = False  # the slot has ended (or, for booking, started)
    started: bool = False

    @property
    def peers(self):
        return [b.helper for b in self.bookings if b.helper.role == PEER]

    @property
    def professionals(self):
        return [b.helper for b in self.bookings if b.helper.role == PROFESSIONAL]

    @property
    def needs_professional(self) -> bool:
        """Someone whose role needs a professional on this line (its pairing rule: peers, and
        volunteers where the line says so) has booked the slot and no professional has."""
        line = self.slot.line
        paired = any(line.needs_professional(b.helper.role) for b in self.bookings)
        return paired and not self.professionals

    @property
    def empty(self) -> bool:
        return not self.bookings


@dataclass
class Day:
    day: date
    open_hours: hours.DailyHours | None
    cells: list[Cell]

    @property
    def closed(self) -> bool:
        return self.open_hours is None


@dataclass
class LineCalendar:
    line: ServiceLine
    days: list[Day]

    @property
    def gaps(self) -> list[Cell]:
        return [cell for day in self.days for cell in day.cells if cell.needs_professional]

    @property
    def weeks(self) -> list[list[Day]]:
        """The days in weeks of seven, for a month-like grid (the calendar starts on a Monday)."""
        return [self.days[i : i + 7] for i in range(0, len(self.days), 7)]


def line_calendar(
    line: ServiceLine, first_day: date, days: int, *, helper=None, now=None
) -> LineCalendar:
    """The line's slots day by day from `first_day`, with bookings; `helper` marks their own."""
    now = now or timezone.now()
    last_day = first_day + timedelta(days=days - 1)
    slots = list(ShiftSlot.objects.filter(line=line, active=True).select_related("line"))
    bookings = defaultdict(list)
    for booking in (
        ShiftBooking.objects.filter(slot__line=line, day__range=(first_day, last_day))
        .select_related("helper", "slot")
        .order_by("helper__role", "helper__display_name")
    ):
        bookings[(booking.slot_id, booking.day)].append(booking)
    week, exceptions = rules_for(line)
    public_holidays = finnish_holidays(first_day.year, last_day.year)
    result = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        open_hours = hours.hours_on(day, week, exceptions, public_holidays)
        cells = []
        for slot in slots:
            booked = bookings.get((slot.pk, day), [])
            if open_hours is None and not booked:
                continue  # a closed day shows only bookings someone made anyway
            start, end = slot_span(slot, day)
            mine = next((b for b in booked if helper and b.helper_id == helper.pk), None)
            cells.append(Cell(slot, day, start, end, booked, mine, end <= now, start <= now))
        result.append(Day(day, open_hours, cells))
    return LineCalendar(line, result)


@dataclass
class Shift:
    line: ServiceLine
    start: datetime
    end: datetime
    bookings: list[ShiftBooking]


def helper_shifts(helper: HelperProfile, first_day: date, last_day: date) -> list[Shift]:
    """The helper's booked shifts, back-to-back slots of one line joined into one shift."""
    shifts: list[Shift] = []
    bookings = (
        ShiftBooking.objects.filter(helper=helper, day__range=(first_day, last_day))
        .select_related("slot__line")
        .order_by("day", "slot__starts")
    )
    for booking in sorted(bookings, key=lambda b: (b.slot.line_id, slot_span(b.slot, b.day))):
        start, end = slot_span(booking.slot, booking.day)
        last = shifts[-1] if shifts else None
        if last and last.line.pk == booking.slot.line_id and start <= last.end:
            last.end = max(last.end, end)
            last.bookings.append(booking)
        else:
            shifts.append(Shift(booking.slot.line, start, end, [booking]))
    return sorted(shifts, key=lambda shift: shift.start)


def current_and_next_shift(
    helper: HelperProfile, now: datetime | None = None
) -> tuple[Shift | None, Shift | None]:
    """The shift the helper is in now (if any) and their next one (within 60 days)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    current = upcoming = None
    for shift in helper_shifts(helper, today - timedelta(days=1), today + timedelta(days=60)):
        if shift.start <= now < shift.end and current is None:
            current = shift
        elif shift.start > now and upcoming is None:
            upcoming = shift
    return current, upcoming


FOLLOW_UP_DAYS = 28
FOLLOW_UP_STEP = timedelta(minutes=30)


def follow_up_times(
    helper: HelperProfile, now: datetime | None = None
) -> dict[int, list[datetime]]:
    """When the helper may offer a follow-up, by line id: each half hour of their own shifts.

    Their booked shifts of the coming four weeks, back-to-back ones joined, future times only:
    what `chats.followups.offer` accepts, on the half hours a person would name.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    times = defaultdict(list)
    # From yesterday: a shift booked over midnight may still be under way.
    first, last = today - timedelta(days=1), today + timedelta(days=FOLLOW_UP_DAYS - 1)
    for shift in helper_shifts(helper, first, last):
        # Step in UTC: aware arithmetic in Helsinki time would add wall-clock minutes.
        at, end = shift.start.astimezone(hours.UTC), shift.end.astimezone(hours.UTC)
        while at < end:
            if at > now:
                times[shift.line.pk].append(at.astimezone(hours.HELSINKI))
            at += FOLLOW_UP_STEP
    return dict(times)


# --- On duty now -------------------------------------------------------------------------------


def on_duty_helpers(line: ServiceLine, now: datetime | None = None) -> list[HelperProfile]:
    """Helpers of the line with a live console connection (paused ones included, marked)."""
    sessions = DutySession.objects.on_duty(now).filter(helper__lines=line)
    paused = sessions.paused_helper_ids()
    helpers = list(HelperProfile.objects.filter(pk__in=sessions.values("helper_id")))
    for helper in helpers:
        helper.paused = helper.pk in paused  # only when every connection of theirs is paused
    return sorted(helpers, key=lambda h: (h.role, h.display_name))


def peer_alone(line: ServiceLine, now: datetime | None = None) -> list[HelperProfile]:
    """Helpers on duty for the line whose role needs a professional there (the line's pairing
    rule) while no professional of it is: they are to be warned."""
    present = on_duty_helpers(line, now)
    if any(helper.role == PROFESSIONAL for helper in present):
        return []
    return [helper for helper in present if line.needs_professional(helper.role)]


def lines_without_professional(helper: HelperProfile, now=None) -> list[ServiceLine]:
    """For a peer (or volunteer) on duty: their lines where no professional is on duty now."""
    if helper.role == PROFESSIONAL:
        return []
    if not DutySession.objects.on_duty(now).filter(helper=helper).exists():
        return []
    return [
        line
        for line in helper.lines.filter(active=True, kind=ServiceLine.Kind.ONE_TO_ONE)
        if helper.pk in {peer.pk for peer in peer_alone(line, now)}
    ]


def lines_lacking_professional(helper: HelperProfile, now=None) -> list[ServiceLine]:
    """For a peer (or volunteer): their lines where their role needs a professional and none
    is on duty right now (connected or not)."""
    if helper.role == PROFESSIONAL:
        return []
    return [
        line
        for line in helper.lines.filter(active=True, kind=ServiceLine.Kind.ONE_TO_ONE)
        if line.needs_professional(helper.role)
        and not any(other.role == PROFESSIONAL for other in on_duty_helpers(line, now))
    ]


@dataclass
class NowRow:
    """One line right now: the slot under way, who booked it, who is actually there."""

    line: ServiceLine
    cell: Cell | None
    on_duty: list[HelperProfile]

    @property
    def booked(self) -> list[HelperProfile]:
        return [b.helper for b in self.cell.bookings] if self.cell else []

    @property
    def booked_absent(self) -> list[HelperProfile]:
        present = {helper.pk for helper in self.on_duty}
        return [helper for helper in self.booked if helper.pk not in present]

    @property
    def unbooked_present(self) -> list[HelperProfile]:
        booked = {helper.pk for helper in self.booked}
        return [helper for helper in self.on_duty if helper.pk not in booked]

    @property
    def peer_alone(self) -> bool:
        roles = {helper.role for helper in self.on_duty}
        paired = any(self.line.needs_professional(role) for role in roles)
        return paired and PROFESSIONAL not in roles


def duty_now(now: datetime | None = None) -> list[NowRow]:
    """Every one-to-one line: the slot under way against who is connected."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    rows = []
    for line in ServiceLine.objects.filter(active=True, kind=ServiceLine.Kind.ONE_TO_ONE):
        calendar = line_calendar(line, today - timedelta(days=1), 2, now=now)
        cell = next((c for day in calendar.days for c in day.cells if c.start <= now < c.end), None)
        rows.append(NowRow(line, cell, on_duty_helpers(line, now)))
    return rows


# --- Peer commitment and debriefs --------------------------------------------------------------


def minimum_shifts() -> int:
    return settings.SCHEDULING_PEER_MIN_SHIFTS_PER_MONTH


def month_starts(last_month: date, months: int) -> list[date]:
    """The first days of `months` months ending with the month of `last_month`, oldest first."""
    year, month = last_month.year, last_month.month
    starts = []
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


@dataclass
class CommitmentRow:
    helper: HelperProfile
    counts: list[int]  # one per month, oldest first
    minimum: int

    @property
    def below(self) -> list[bool]:
        return [count < self.minimum for count in self.counts]

    @property
    def cells(self) -> list[tuple[int, bool]]:
        return list(zip(self.counts, self.below, strict=True))


def peer_commitment(
    months: list[date], line: ServiceLine | None = None, minimum: int | None = None
) -> list[CommitmentRow]:
    """Each peer's booked shifts per month (one slot = one shift), flagged below the minimum."""
    minimum = minimum_shifts() if minimum is None else minimum
    first, last = months[0], months[-1]
    end = date(last.year + (last.month == 12), last.month % 12 + 1, 1)
    peers = HelperProfile.objects.filter(role=PEER, user__is_active=True)
    bookings = ShiftBooking.objects.filter(helper__role=PEER, day__gte=first, day__lt=end)
    if line is not None:
        peers = peers.filter(lines=line)
        bookings = bookings.filter(slot__line=line)
    counted = defaultdict(int)
    for row in (
        bookings.annotate(month=TruncMonth("day"))
        .values("helper_id", "month")
        .annotate(n=Count("pk"))
    ):
        counted[(row["helper_id"], _as_date(row["month"]))] = row["n"]
    return [
        CommitmentRow(peer, [counted[(peer.pk, month)] for month in months], minimum)
        for peer in peers.order_by("display_name").distinct()
    ]


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def missing_debriefs(now: datetime | None = None, since: date | None = None):
    """Peers' shifts that have ended with no debrief recorded, newest first."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    ended = Q(day__lt=local.date()) | Q(
        day=local.date(), slot__ends__lte=local.time(), slot__ends__gt="00:00"
    )
    queryset = ShiftBooking.objects.filter(ended, helper__role=PEER, debrief__isnull=True)
    if since is not None:
        queryset = queryset.filter(day__gte=since)
    return queryset.select_related("helper", "slot__line").order_by("-day", "-slot__starts")


def debriefs_to_record(professional: HelperProfile, now: datetime | None = None, days: int = 7):
    """Peers' shifts of the last `days` days on slots this professional also booked, undebriefed.

    Listed once the shift has started, so the debrief can be recorded right at its end.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    own = ShiftBooking.objects.filter(
        helper=professional, day__range=(today - timedelta(days=days), today)
    ).values_list("slot_id", "day")
    pairs = set(own)
    if not pairs:
        return []
    candidates = (
        ShiftBooking.objects.filter(
            helper__role=PEER,
            debrief__isnull=True,
            day__range=(today - timedelta(days=days), today),
        )
        .select_related("helper", "slot__line")
        .order_by("-day", "-slot__starts")
    )
    return [
        booking
        for booking in candidates
        if (booking.slot_id, booking.day) in pairs
        and slot_span(booking.slot, booking.day)[0] <= now
    ]
