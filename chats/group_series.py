"""Group series (issue 21; the Red Cross formats of brochure 003): a weekly group open to anyone
("viikoittain … suomen ja englannin kielellä") and a closed series of 5–8 meetings sharing one
invitation ("kokoontuu 5-8 kertaa").

`make_meetings(series, now)` adds the series' next meetings as GroupSession rows, numbered;
a meeting that falls on a closure of the line (scheduling.services.closed_on: a closure or a
public holiday) is not made and is reported, so the coordinator sees it. A closed series keeps
its N meetings: a skipped week moves its remaining meetings on by a week. Making meetings twice
adds nothing. `meeting_of(session)` is "meeting 3 of 8" for members.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from scheduling import hours
from scheduling.services import closed_on

from .group_schedule import new_invite  # one rule for invitations (issue 18)
from .models import GroupSeries, GroupSession

# How far ahead a weekly group's meetings are made (the job runs daily; coordinators see them).
WEEKS_AHEAD = 4
# A closed series stops looking for free weeks after this many skipped ones.
MAX_SKIPPED = 8


@dataclass
class Made:
    created: list[GroupSession] = field(default_factory=list)
    skipped: list[date] = field(default_factory=list)  # days on a closure: no meeting made


def _days(series: GroupSeries):
    """The series' weekdays from its first day on."""
    day = series.first_day + timedelta(days=(series.weekday - series.first_day.weekday()) % 7)
    while True:
        yield day
        day += timedelta(weeks=1)


def _span(series: GroupSeries, day: date) -> tuple[datetime, datetime]:
    return hours.span(day, hours.DailyHours(series.starts, series.ends))


def _create(series: GroupSeries, day: date, number: int | None) -> GroupSession:
    starts_at, ends_at = _span(series, day)
    session = GroupSession.objects.create(
        line=series.line,
        series=series,
        number=number,
        title=series.title,
        language=series.language,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=series.capacity,
        invite=series.invite,
    )
    session.moderators.set(series.moderators.all())
    return session


def make_meetings(series: GroupSeries, now: datetime | None = None) -> Made:
    """Add the series' missing meetings (see the module's docstring); nothing for an inactive
    series (an example to copy)."""
    now = now or timezone.now()
    made = Made()
    if not series.active:
        return made
    today = timezone.localdate(now)
    with transaction.atomic():
        series = GroupSeries.objects.select_for_update().get(pk=series.pk)
        existing = {
            timezone.localdate(s.starts_at): s for s in GroupSession.objects.filter(series=series)
        }
        if series.kind == GroupSeries.Kind.CLOSED:
            _make_closed(series, existing, made)
        else:
            _make_weekly(series, existing, today, made)
    return made


def _make_closed(series: GroupSeries, existing: dict, made: Made) -> None:
    if not series.invite:
        series.invite = new_invite()
        series.save(update_fields=["invite"])
    number = 0
    for day in _days(series):
        if number >= series.meetings or len(made.skipped) > MAX_SKIPPED:
            return
        if day in existing:
            number += 1
            continue
        if closed_on(series.line, day):
            made.skipped.append(day)
            continue
        number += 1
        made.created.append(_create(series, day, number))


def _make_weekly(series: GroupSeries, existing: dict, today: date, made: Made) -> None:
    horizon = min(series.until, today + timedelta(weeks=WEEKS_AHEAD))
    for day in _days(series):
        if day > horizon:
            return
        if day < today or day in existing:
            continue
        if closed_on(series.line, day):
            made.skipped.append(day)
            continue
        made.created.append(_create(series, day, None))


def meeting_of(session: GroupSession) -> tuple[int, int] | None:
    """(3, 8) for the third of a closed series' eight meetings; None for other sessions."""
    if session.series_id is None or session.number is None:
        return None
    total = session.series.meetings
    return (session.number, total) if total else None


def make_all(now: datetime | None = None) -> list[tuple[GroupSeries, Made]]:
    """Every active series (the daily job `makegroupmeetings`)."""
    return [
        (series, make_meetings(series, now)) for series in GroupSeries.objects.filter(active=True)
    ]
