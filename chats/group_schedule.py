"""Scheduling group sessions (schedulegroup and the admin) and judging their invitations.

chats.groups re-exports these names, so `groups.schedule_session(...)` keeps working.
"""

import math
import re
from datetime import datetime

from django.db import transaction

from . import followups
from .models import GroupSession, HelperProfile, ServiceLine


class ScheduleError(Exception):
    pass


def new_invite() -> str:
    """A closed group's invitation: as hard to guess as a follow-up code (five list words)."""
    return followups.new_code()


def invite_bits(code: str) -> float:
    """How hard an invitation a coordinator chose is to guess, in bits, estimated as a guesser
    would try: a list word or any run of letters as one word of a large dictionary (about 16
    bits; more only for letters beyond 8), each digit by itself, a separator about one bit."""
    bits = 0.0
    for run in re.findall(r"[^\W\d_]+|\d|[^\w\s]|_", code.strip().casefold()):
        if run in followups.WORDS:
            bits += math.log2(len(followups.WORDS))
        elif run.isalpha():
            bits += min(len(run) * math.log2(26), 16 + max(0, len(run) - 8) * math.log2(26))
        elif run.isdigit():
            bits += math.log2(10)
        else:
            bits += 1.0
    return bits


def weak_invite(code: str) -> bool:
    """Weaker than a generated invitation (a follow-up code's strength, followups.CODE_BITS)."""
    return bool(code.strip()) and invite_bits(code) < followups.CODE_BITS - 0.5


def schedule_session(
    slug: str,
    *,
    starts_at: datetime,
    ends_at: datetime,
    title: str,
    language: str = "fi",
    capacity: int = 30,
    moderators=(),
    invite: str = "",
) -> GroupSession:
    """Add a session to a group line's schedule; ScheduleError with a one-line reason if not."""
    line = ServiceLine.objects.filter(slug=slug).first()
    if line is None:
        raise ScheduleError(f"Unknown service {slug!r}.")
    if line.kind != ServiceLine.Kind.GROUP:
        raise ScheduleError(f"{slug!r} is not a group line.")
    if ends_at <= starts_at:
        raise ScheduleError("The end must be after the start.")
    if not title or not title.strip():
        raise ScheduleError("The title cannot be empty.")
    if language not in GroupSession.Language.values:
        raise ScheduleError(f"Unknown language {language!r}; use fi or en.")
    if capacity < 1:
        raise ScheduleError("The capacity must be at least 1.")
    helpers = []
    for username in dict.fromkeys(moderators):
        helper = HelperProfile.objects.filter(user__username=username).first()
        if helper is None:
            raise ScheduleError(f"Unknown moderator {username!r}: no helper of that name.")
        if not helper.lines.filter(pk=line.pk).exists():
            raise ScheduleError(f"{username!r} is not a helper of {slug!r}.")
        helpers.append(helper)
    with transaction.atomic():
        session = GroupSession.objects.create(
            line=line,
            title=title.strip(),
            language=language,
            starts_at=starts_at,
            ends_at=ends_at,
            capacity=capacity,
            invite=(invite or "").strip(),
        )
        session.moderators.set(helpers)
    return session
