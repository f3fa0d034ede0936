"""Peer support in the console (issue 21; brochure 001): the helper's `support` state, the
private advice channel and the one-click debrief.

scheduling/support.py answers who (support person, advice recipients, debriefs due); this module
turns that into frames and routes: the helper socket sends what it returns. Nothing of an advice
note is stored: it is a frame, like typing.
"""

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from scheduling import services as scheduling
from scheduling import support

from . import protocol
from .errors import ChatError
from .models import HelperProfile
from .services import helpers_line

PROFESSIONAL = HelperProfile.Role.PROFESSIONAL


def support_frame(helper: HelperProfile, now: datetime | None = None) -> dict:
    """The console's peer-support state: the named support person (a peer's or volunteer's)
    and whether on duty now, and the debriefs this console should prompt now."""
    now = now or timezone.now()
    person = None
    if helper.role != PROFESSIONAL:
        found = support.support_person_of(helper, now)
        if found.person is not None:
            person = {"name": found.person.display_name, "on_duty": found.on_duty}
    debriefs = [
        {
            "booking": due.booking.pk,
            "service": due.booking.slot.line.slug,
            "line": due.booking.slot.line.name,
            "peer": due.peer.display_name,
            "professionals": [pro.display_name for pro in due.professionals],
            "ended_at": protocol.iso(due.ended_at),
            # The professional records it (scheduling's rule); the peer's console reminds.
            "can_record": helper.role == PROFESSIONAL,
        }
        for due in support.debriefs_due_for(helper, now)
    ]
    return protocol.support_frame(person, debriefs)


def supported_by(helper: HelperProfile) -> list[int]:
    """The peers and volunteers whose support person this is: their consoles show whether
    the person is on duty, so they are told when this console comes and goes."""
    if helper.role != PROFESSIONAL:
        return []
    return list(HelperProfile.objects.filter(support_person=helper).values_list("pk", flat=True))


def advice(
    helper: HelperProfile, slug: str, text: str, to: int | None = None, now=None
) -> tuple[dict, list[int] | None]:
    """A consult note and the helper ids it goes to (besides the sender's own consoles).

    A peer's or volunteer's question goes only to the professional(s) of the same shift of the
    same line (`advice_recipients`), never to the whole line; with none on duty the peer is told
    whom to turn to instead. A professional's note with `to` answers that one helper of the
    line; without it, it goes to the line's consoles as before (recipients `None`)."""
    now = now or timezone.now()
    helpers_line(helper, slug)
    frame = protocol.consult_frame(slug, helper.display_name, helper.role, text, now)
    if helper.role == PROFESSIONAL:
        if to is None:
            return frame, None
        colleague = HelperProfile.objects.filter(pk=to, lines__slug=slug).exclude(pk=helper.pk)
        if not colleague.exists():
            raise ChatError("not_found", _("No such colleague of this line."))
        return {**frame, "private": True}, [to]
    recipients = [pro.pk for pro in support.advice_recipients(helper, now)]
    if not recipients:
        raise ChatError("no_professional", _no_professional_message(helper, now))
    return {**frame, "private": True, "from": helper.pk}, recipients


def _no_professional_message(helper: HelperProfile, now) -> str:
    found = support.support_person_of(helper, now)
    if found.person is None:
        return _(
            "No professional of your shift is on duty, and you have no named support person: "
            "ask a coordinator. Your note was not sent."
        )
    if found.on_duty:
        text = _(
            "No professional of your shift is on duty. Your support person %(name)s is on duty "
            "now: turn to them. Your note was not sent."
        )
    else:
        text = _(
            "No professional of your shift is on duty. Your support person is %(name)s (not on "
            "duty now). Your note was not sent."
        )
    return text % {"name": found.person.display_name}


def record_debrief(helper: HelperProfile, booking_id: int, now=None) -> list[int]:
    """The one click: the shift's professional records the debrief; the helper ids whose
    consoles should drop the prompt (the peer and the shift's professionals)."""
    now = now or timezone.now()
    due = [item for item in support.debriefs_due_for(helper, now) if item.booking.pk == booking_id]
    try:
        scheduling.record_debrief(helper, booking_id, now=now)
    except scheduling.BookingError as error:
        raise ChatError("invalid", str(error)) from None
    if not due:
        return [helper.pk]
    return sorted({due[0].peer.pk, helper.pk, *(pro.pk for pro in due[0].professionals)})
