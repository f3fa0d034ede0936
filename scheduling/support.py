"""The support structure of peers and volunteers (issue 21; brochure 001):

- each has a named support person, an employee (a professional) set by coordinators:
  `support_person_of(helper, now)` says who it is and whether they are on duty now;
- during a shift a peer may ask the professional(s) of the same shift of the same line for
  advice, not the whole line: `advice_recipients(peer, now)`;
- at the end of a peer's shift the peer and the professional of that shift hold the closing
  debrief: `debriefs_due(now)` lists the shifts that just ended with no debrief recorded.

Read-only questions; "on duty" is `DutySession.objects.on_duty(now)`, the one definition. The
console (wire) shows and routes these; see docs/workflow.md.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from chats.models import DutySession, HelperProfile, ServiceLine

from . import hours
from .models import ShiftBooking
from .services import slot_span

PROFESSIONAL = HelperProfile.Role.PROFESSIONAL
# How long after a peer's shift the debrief is prompted (then the missing-debrief views remain).
DEBRIEF_PROMPT = timedelta(minutes=30)


@dataclass(frozen=True)
class Support:
    person: HelperProfile | None
    on_duty: bool


def support_person_of(helper: HelperProfile, now: datetime | None = None) -> Support:
    """The helper's named support person, and whether that person's console is on duty now."""
    person = helper.support_person
    if person is None:
        return Support(None, False)
    on_duty = DutySession.objects.on_duty(now or timezone.now()).filter(helper=person).exists()
    return Support(person, on_duty)


def _bookings_under_way(helper: HelperProfile, now: datetime):
    today = timezone.localdate(now)
    bookings = ShiftBooking.objects.filter(
        helper=helper, day__range=(today - timedelta(days=1), today)
    ).select_related("slot__line")
    for booking in bookings:
        start, end = slot_span(booking.slot, booking.day)
        if start <= now < end:
            yield booking


def advice_recipients(peer: HelperProfile, now: datetime | None = None) -> list[HelperProfile]:
    """The professionals a peer's (or volunteer's) question for advice goes to: those booked on
    the same shift (slot and day) of the same line and on duty now; when none is, the
    professionals on duty now on the line(s) of the peer's shift (or, with no booked shift, of
    the peer's lines). Never other peers or volunteers."""
    now = now or timezone.now()
    if peer.role == PROFESSIONAL:
        return []
    on_duty = DutySession.objects.on_duty(now)
    professionals = HelperProfile.objects.filter(
        role=PROFESSIONAL, pk__in=on_duty.values("helper_id")
    ).order_by("display_name")
    shifts = list(_bookings_under_way(peer, now))
    pairs = {(b.slot_id, b.day) for b in shifts}
    booked = ShiftBooking.objects.filter(
        helper__in=professionals, slot_id__in=[s for s, _d in pairs], day__in=[d for _s, d in pairs]
    ).values_list("helper_id", "slot_id", "day")
    same_shift = {helper_id for helper_id, slot_id, day in booked if (slot_id, day) in pairs}
    found = [pro for pro in professionals if pro.pk in same_shift]
    if found:
        return found
    if shifts:
        lines = {b.slot.line_id for b in shifts}
    else:
        lines = set(
            peer.lines.filter(active=True, kind=ServiceLine.Kind.ONE_TO_ONE).values_list(
                "pk", flat=True
            )
        )
    return list(professionals.filter(lines__in=lines).distinct())


@dataclass(frozen=True)
class DebriefDue:
    booking: ShiftBooking  # the peer's shift that ended
    peer: HelperProfile
    professionals: list[HelperProfile]  # booked on the same shift (may be empty: coordinators)
    ended_at: datetime


def debriefs_due(now: datetime | None = None, within: timedelta = DEBRIEF_PROMPT):
    """Peers' shifts that ended in the last `within` with no debrief recorded, each with the
    professional(s) of the same shift: both consoles prompt the debrief then."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    candidates = ShiftBooking.objects.filter(
        helper__role=HelperProfile.Role.PEER,
        debrief__isnull=True,
        day__range=(today - timedelta(days=1), today),
    ).select_related("helper", "slot__line")
    due = []
    for booking in candidates:
        _start, end = slot_span(booking.slot, booking.day)
        if not (now - within < end <= now):
            continue
        professionals = list(
            HelperProfile.objects.filter(
                role=PROFESSIONAL, shifts__slot=booking.slot, shifts__day=booking.day
            ).order_by("display_name")
        )
        due.append(DebriefDue(booking, booking.helper, professionals, end.astimezone(hours.UTC)))
    return sorted(due, key=lambda item: (item.ended_at, item.peer.display_name))


def debriefs_due_for(helper: HelperProfile, now: datetime | None = None) -> list[DebriefDue]:
    """The prompts one console shows: the peer's own, or those of a professional's shift."""
    return [
        item
        for item in debriefs_due(now)
        if item.peer.pk == helper.pk or any(p.pk == helper.pk for p in item.professionals)
    ]
