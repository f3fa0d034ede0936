"""When a service line is open: pure functions over plain values, no models, no clock.

A line's week is a set of `DailyHours` per weekday (0 = Monday). Finnish public holidays close
the line. An `Exception` replaces the regular hours for a date range: either closed, or other
hours (optionally on weekdays only). Later-entered exceptions win where ranges overlap.
All instants are aware datetimes; the answer is computed on Helsinki wall-clock time, so a
daylight-saving change moves the UTC instant of 12:00, not the opening time.
"""

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

HELSINKI = ZoneInfo("Europe/Helsinki")
UTC = ZoneInfo("UTC")
LOOKAHEAD_DAYS = 400


@dataclass(frozen=True)
class DailyHours:
    opens: time
    closes: time  # time(0) means midnight at the end of the day

    def __post_init__(self):
        if self.closes != time(0) and self.closes <= self.opens:
            raise ValueError("closing time must be after opening time")


@dataclass(frozen=True)
class HoursException:
    first_day: date
    last_day: date
    hours: DailyHours | None  # None: closed
    weekdays_only: bool = True

    def covers(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


@dataclass(frozen=True)
class Status:
    open: bool
    opens_at: datetime | None  # the next opening when closed
    closes_at: datetime | None  # the current closing time when open


def hours_on(
    day: date,
    week: Mapping[int, DailyHours],
    exceptions: Sequence[HoursException] = (),
    holidays: Container[date] = (),
) -> DailyHours | None:
    """The hours the line keeps on a Helsinki calendar day, or None when it stays closed."""
    for exception in reversed(exceptions):
        if exception.covers(day):
            if exception.hours is None:
                return None
            if exception.weekdays_only and (day.weekday() >= 5 or day in holidays):
                return None
            return exception.hours
    if day in holidays:
        return None
    return week.get(day.weekday())


def span(day: date, hours: DailyHours) -> tuple[datetime, datetime]:
    """The aware start and end instants of `hours` kept on a Helsinki calendar `day`."""
    start = datetime.combine(day, hours.opens, tzinfo=HELSINKI)
    end_day = day + timedelta(days=1) if hours.closes == time(0) else day
    end = datetime.combine(end_day, hours.closes, tzinfo=HELSINKI)
    # Wall-clock times that fall into a DST gap or fold are normalised through UTC.
    return _normalise(start), _normalise(end)


def _normalise(moment: datetime) -> datetime:
    return moment.astimezone(UTC).astimezone(HELSINKI)


def status_at(
    at: datetime,
    week: Mapping[int, DailyHours],
    exceptions: Sequence[HoursException] = (),
    holidays: Container[date] = (),
) -> Status:
    """Is the line open at `at`; if so until when, if not when does it next open."""
    if at.tzinfo is None:
        raise ValueError("status_at needs an aware datetime")
    # Compared in UTC: two datetimes with the same tzinfo compare by wall clock, which is wrong
    # in the hour that repeats when summer time ends.
    now = at.astimezone(UTC)
    today = at.astimezone(HELSINKI).date()
    # Yesterday's hours may run past midnight (closes at 00:00).
    for offset in (-1, 0):
        day = today + timedelta(days=offset)
        hours = hours_on(day, week, exceptions, holidays)
        if hours:
            start, end = span(day, hours)
            if start <= now < end:
                return Status(True, None, _closing(day, end, week, exceptions, holidays))
    for offset in range(LOOKAHEAD_DAYS):
        day = today + timedelta(days=offset)
        hours = hours_on(day, week, exceptions, holidays)
        if hours:
            start, _end = span(day, hours)
            if start > now:
                return Status(False, start, None)
    return Status(False, None, None)


def _closing(day, end, week, exceptions, holidays) -> datetime:
    """Hours that close at midnight and reopen at once (open around the clock) run on."""
    for _ in range(LOOKAHEAD_DAYS):
        day += timedelta(days=1)
        hours = hours_on(day, week, exceptions, holidays)
        if not hours:
            break
        start, next_end = span(day, hours)
        if start != end:
            break
        end = next_end
    return end


def is_open(at: datetime, week, exceptions=(), holidays=()) -> bool:
    return status_at(at, week, exceptions, holidays).open
