"""Who is on duty and how loaded: capacity per helper, colleagues for a transfer, the live board.

A helper holds at most `capacity_of(helper)` chats at once: the person's own `max_chats` when a
coordinator set one, else the role's default (CHAT_MAX_CHATS_PEER,
CHAT_MAX_CHATS_VOLUNTEER, CHAT_MAX_CHATS_PROFESSIONAL).
Every live chat counts, follow-ups and chats taken over from a colleague included, and so does
a transfer offered to the helper and not yet answered: it holds a place until then.
"""

from collections import Counter
from datetime import datetime

from django.conf import settings
from django.utils.translation import ngettext

from . import protocol
from .errors import ChatError
from .models import Chat, DutySession, HelperProfile, ServiceLine


def capacity_of(helper: HelperProfile) -> int:
    if helper.max_chats is not None:
        return helper.max_chats
    return {
        HelperProfile.Role.PEER: settings.CHAT_MAX_CHATS_PEER,
        HelperProfile.Role.VOLUNTEER: settings.CHAT_MAX_CHATS_VOLUNTEER,
    }.get(helper.role, settings.CHAT_MAX_CHATS_PROFESSIONAL)


def chats_held(helper_id: int, *, offers: bool = True) -> int:
    """The helper's live chats, and (with `offers`) transfers waiting for their answer."""
    held = Chat.objects.active().filter(helper_id=helper_id).count()
    if offers:
        held += Chat.objects.active().filter(transfer_to_id=helper_id).count()
    return held


def refuse_at_capacity(helper: HelperProfile, *, offers: bool = True) -> None:
    """`at_capacity` when the helper already holds as many chats as they may."""
    limit = capacity_of(helper)
    if chats_held(helper.pk, offers=offers) >= limit:
        raise ChatError(
            "at_capacity",
            ngettext(
                "You already have %(n)s chat, your maximum at once. End it before taking "
                "the next asker; the queue waits.",
                "You already have %(n)s chats, your maximum at once. End one before taking "
                "the next asker; the queue waits.",
                limit,
            )
            % {"n": limit},
        )


def colleagues_frame(helper: HelperProfile, now: datetime | None = None) -> dict:
    """The answer to `colleagues`: the others on duty, and this helper's own places."""
    return protocol.colleagues_frame(
        colleagues_of(helper, now),
        capacity_of(helper),
        chats_held(helper.pk, offers=False),
    )


def lock(helper: HelperProfile) -> HelperProfile:
    """Call inside a transaction: one capacity decision at a time per helper (tabs, processes)."""
    return HelperProfile.objects.select_for_update().get(pk=helper.pk)


# --- Who is on duty ------------------------------------------------------------------------------


def on_duty_helpers(line: ServiceLine, now: datetime | None = None, *, paused=None):
    """Helpers of the line with a live console now; `paused=False` leaves out those on a break."""
    sessions = DutySession.objects.on_duty(now).filter(helper__lines=line)
    if paused is not None:
        sessions = sessions.filter(paused=paused)
    return HelperProfile.objects.filter(pk__in=sessions.values("helper_id")).order_by(
        "display_name", "pk"
    )


def held_by(helper_ids) -> Counter:
    held = Counter()
    live = Chat.objects.active()
    for helper_id in live.filter(helper_id__in=helper_ids).values_list("helper_id", flat=True):
        held[helper_id] += 1
    for helper_id in live.filter(transfer_to_id__in=helper_ids).values_list(
        "transfer_to_id", flat=True
    ):
        held[helper_id] += 1
    return held


def paused_ids(helper_ids, now) -> set[int]:
    """Helpers whose every live console is on a break."""
    return DutySession.objects.on_duty(now).filter(helper_id__in=helper_ids).paused_helper_ids()


def colleagues_of(helper: HelperProfile, now: datetime | None = None) -> list[dict]:
    """The other helpers on duty for any of this helper's one-to-one lines, with their load."""
    lines = list(helper.lines.filter(active=True, kind=ServiceLine.Kind.ONE_TO_ONE))
    sessions = (
        DutySession.objects.on_duty(now).filter(helper__lines__in=lines).exclude(helper=helper)
    )
    people = list(
        HelperProfile.objects.filter(pk__in=sessions.values("helper_id"))
        .prefetch_related("lines")
        .order_by("display_name", "pk")
    )
    ids = [person.pk for person in people]
    held, paused = held_by(ids), paused_ids(ids, now)
    slugs = {line.slug for line in lines}
    return [
        {
            **protocol.person(person.display_name, person.role, person.pk),
            "lines": sorted(line.slug for line in person.lines.all() if line.slug in slugs),
            "chats": held[person.pk],
            "max_chats": capacity_of(person),
            "paused": person.pk in paused,
        }
        for person in people
    ]


def slots(line: ServiceLine, now: datetime | None = None) -> tuple[int, int]:
    """(chats the line's helpers on duty, not on a break, can hold at once; of those, free)."""
    people = list(on_duty_helpers(line, now, paused=False))
    held = held_by([person.pk for person in people])
    total = sum(capacity_of(person) for person in people)
    free = sum(max(0, capacity_of(person) - held[person.pk]) for person in people)
    return total, free
