"""Every write of the group chat (contract section 6): plain, synchronous, transactional.

A session is open from `starts_at` until `ends_at` or a moderator's `group_close`. Participants
are anonymous nicknames; the only thing kept about one is a keyed hash of the address, so that a
kick holds for any nickname, and it goes with the rest when the session closes: closing counts
sessions, joins and messages for statistics and deletes every participant and message.
"""

import hmac
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from scheduling.hours import Status
from stats import services as stats
from verkkoapu import addresses

from . import followups, group_series, notify, protocol
from .errors import ChatError
from .group_schedule import (  # noqa: F401  (re-exported: `groups.schedule_session(...)`)
    ScheduleError,
    invite_bits,
    new_invite,
    schedule_session,
    weak_invite,
)
from .models import GroupMessage, GroupParticipant, GroupSession, ServiceLine
from .models.lines import alive_since
from .services.bars import active_bar

Role = GroupParticipant.Role


@dataclass
class JoinAnswer:
    """What the joining socket is told, and where it now belongs."""

    frames: list[dict] = field(default_factory=list)
    session_id: int | None = None
    person_id: int | None = None
    seq: int = 0  # the last message id the frames carry


# --- Sessions and the schedule ------------------------------------------------------------------


def group_line(slug: str) -> ServiceLine:
    line = ServiceLine.objects.filter(slug=slug, active=True, kind=ServiceLine.Kind.GROUP).first()
    if line is None:
        raise ChatError("not_found", f"No group chat {slug!r}.")
    return line


def next_start(line: ServiceLine, now: datetime, invite: str = "") -> datetime | None:
    """The next start of a session that this invite (or none: the open ones) admits."""
    upcoming = GroupSession.objects.upcoming(now).filter(line=line, invite__in={"", invite})
    return upcoming.values_list("starts_at", flat=True).first()


def line_status(line: ServiceLine, at: datetime | None = None) -> Status:
    """The service object's view of a group line: open while an open-to-all session runs."""
    at = at or timezone.now()
    public = GroupSession.objects.filter(line=line, invite="")
    running = public.running(at).order_by("-ends_at").first()
    if running:
        return Status(True, None, running.ends_at)
    return Status(False, next_start(line, at), None)


def _present(session: GroupSession, now: datetime):
    """People in the session now: moderators who joined, participants not gone nor kicked."""
    return session.people.filter(kicked=False).filter(
        Q(role=Role.MODERATOR) | Q(seen_at__gte=alive_since(now))
    )


def _pick_session(line, now: datetime, invite: str | None, wanted: int | None, ip: str | None):
    """The running session this join is for; ChatError or None (closed) when there is none.

    Wrong invitations count with wrong follow-up codes: guessing either is rate-limited.
    """
    running = list(GroupSession.objects.running(now).filter(line=line).order_by("starts_at", "pk"))
    if wanted is not None:
        running = [session for session in running if session.pk == wanted]
    closed = [session for session in running if session.invite]
    if invite and closed:
        _take_invite_guess(closed, ip, now)
        for session in closed:
            if _same_invite(session.invite, invite):
                _right_invite_guess(closed, ip, now)
                return session
    for session in running:
        if not session.invite:
            if invite and closed:
                _right_invite_guess(closed, ip, now)  # no invitation was needed after all
            return session
    if running:
        raise ChatError("not_found", "This group is for invited members: check the invitation.")
    return None


def _take_invite_guess(closed: list[GroupSession], ip: str | None, now: datetime) -> None:
    """Reserve a guess before any invitation is compared: one of the address's wrong codes
    (follow-up codes and invitations share FOLLOW_UP_GUESS_LIMIT), and one of each closed
    session's GROUP_INVITE_GUESS_LIMIT for the hour from everyone. Either used up:
    `rate_limited`, with nothing compared."""
    followups.take_guess(ip, now)
    taken = []
    for session in closed:
        if not INVITE_GUESSES.take(str(session.pk), now, _invite_limit()):
            for other in taken:
                INVITE_GUESSES.give_back(str(other.pk), now)
            followups.right_guess(ip, now)
            raise ChatError(
                "rate_limited", "Too many wrong invitations; try again later.", limit="codes"
            )
        taken.append(session)


def _right_invite_guess(closed: list[GroupSession], ip: str | None, now: datetime) -> None:
    followups.right_guess(ip, now)
    for session in closed:
        INVITE_GUESSES.give_back(str(session.pk), now)


INVITE_GUESSES = addresses.INVITE_GUESSES  # per session, from every address


def _invite_limit() -> int:
    return settings.GROUP_INVITE_GUESS_LIMIT


def _same_invite(expected: str, given: str) -> bool:
    # Read aloud and typed by hand: case and surrounding spaces do not matter.
    normal = [code.strip().casefold().encode() for code in (expected, given)]
    return hmac.compare_digest(*normal)


def _closed_answer(line: ServiceLine, now: datetime, invite: str | None) -> JoinAnswer:
    return JoinAnswer([protocol.closed_frame(next_start(line, now, invite or ""))])


# --- Participants ---------------------------------------------------------------------------------


def join(
    slug: str,
    nickname: str,
    *,
    ip: str | None,
    invite: str | None = None,
    session_id: int | None = None,
    now=None,
) -> JoinAnswer:
    """Let someone into the running session with a nickname; `closed`, or say why not."""
    now = now or timezone.now()
    line = group_line(slug)
    if active_bar(ip, line, now):
        raise ChatError("blocked", "A helper has paused chats from this connection for a while.")
    session = _pick_session(line, now, invite, session_id, ip)
    if session is None:
        return _closed_answer(line, now, invite)
    hashed = addresses.address_hash(ip) if ip else ""
    with transaction.atomic():
        # One join at a time per session: nickname and capacity checks hold across processes.
        session = GroupSession.objects.select_for_update().get(pk=session.pk)
        if session.closed_at or session.ends_at <= now:
            return _closed_answer(line, now, invite)
        if hashed and session.people.filter(kicked=True, address_hash=hashed).exists():
            raise ChatError("kicked", "A moderator removed you from this session.")
        if _nickname_taken(session, nickname, now):
            raise ChatError("nickname_taken", "Someone in this session has that nickname.")
        present = _present(session, now)
        if present.filter(role=Role.PARTICIPANT).count() >= session.capacity:
            raise ChatError("full", "This session is full.")
        # The one-to-one chat's limits, per session: people here from the address, joins per hour.
        addresses.admit_group_join(
            session.pk, ip, present.filter(role=Role.PARTICIPANT, address_hash=hashed), now
        )
        person = GroupParticipant.objects.create(
            session=session, nickname=nickname, address_hash=hashed, joined_at=now, seen_at=now
        )
        GroupSession.objects.filter(pk=session.pk).update(joins=session.joins + 1)
        count = present.count()
        notify.group(session.pk, protocol.participants_frame(count))
        history = _history(session)
    joined = protocol.joined_frame(nickname, count, **_session_fields(session))
    return JoinAnswer(
        [joined, protocol.history_frame(history)], session.pk, person.pk, seq=session.last_seq
    )


def _nickname_taken(session: GroupSession, nickname: str, now: datetime) -> bool:
    wanted = nickname.casefold()
    # Moderators' names are reserved even before they join: nobody can pose as one.
    names = [*_present(session, now).values_list("nickname", flat=True)]
    names += session.moderators.values_list("display_name", flat=True)
    return any(name.casefold() == wanted for name in names)


def _session_fields(session: GroupSession) -> dict:
    # Addition (issue 21): "meeting 3 of 8" of a closed series; null for other sessions.
    meeting = group_series.meeting_of(session)
    return protocol.session_fields(
        session.pk, session.title, session.ends_at, session.pinned, meeting
    )


def _history(session: GroupSession) -> list[dict]:
    return [message_frame(m) for m in session.messages.filter(removed=False)]


def still_in(session_id: int, person_id: int | None, now=None) -> dict | None:
    """None while the session runs with this person in it; else the frame that says why not.

    For a socket that may have missed its nudges (the layer was down): closed or kicked meanwhile.
    """
    now = now or timezone.now()
    session = GroupSession.objects.filter(pk=session_id).select_related("line").first()
    person = GroupParticipant.objects.filter(pk=person_id, session_id=session_id).first()
    if person is not None and person.kicked:
        return protocol.error_frame("kicked", "A moderator removed you from this session.")
    if session is not None and session.closed_at is None and (person or person_id is None):
        return None
    opens_at = next_start(session.line, now, session.invite) if session else None
    return protocol.closed_frame(opens_at)


def touch(person_id: int, now=None) -> None:
    GroupParticipant.objects.filter(pk=person_id).update(seen_at=now or timezone.now())


def leave(person_id: int, now=None) -> None:
    """A participant's socket closed: free the nickname and the place (a kick stays recorded)."""
    now = now or timezone.now()
    person = GroupParticipant.objects.filter(pk=person_id).select_related("session").first()
    if person is None or person.kicked:
        return
    with transaction.atomic():
        person.delete()
        notify.group(person.session_id, protocol.participants_frame(_present_count(person.session)))


def _present_count(session: GroupSession, now=None) -> int:
    return _present(session, now or timezone.now()).count()


# --- Messages ----------------------------------------------------------------------------------


def message_frame(message: GroupMessage) -> dict:
    return protocol.group_message_frame(
        message.seq, message.nickname, message.role, message.text, message.sent_at
    )


def messages_after(session_id: int, seq: int) -> list[GroupMessage]:
    return list(GroupMessage.objects.filter(session_id=session_id, seq__gt=seq).order_by("seq"))


def _post(session_id: int, person: GroupParticipant, text: str, now: datetime) -> GroupMessage:
    with transaction.atomic():
        session = GroupSession.objects.select_for_update().filter(pk=session_id).first()
        if session is None or session.closed_at or session.ends_at <= now:
            raise ChatError("closed", "This session has ended.")
        session.last_seq += 1
        GroupSession.objects.filter(pk=session.pk).update(last_seq=session.last_seq)
        message = GroupMessage.objects.create(
            session=session,
            seq=session.last_seq,
            nickname=person.nickname,
            role=person.role,
            text=text,
            sent_at=now,
        )
        notify.group(session.pk, message_frame(message), seq=message.seq)
    return message


def post_message(person_id: int, text: str, now=None) -> GroupMessage:
    """A participant's message, stored with the session's next id, then sent to everyone."""
    now = now or timezone.now()
    person = GroupParticipant.objects.filter(pk=person_id).first()
    if person is None or person.kicked:
        raise ChatError("not_found", "You are not in this session; join first.")
    GroupParticipant.objects.filter(pk=person_id).update(seen_at=now)
    return _post(person.session_id, person, text, now)


def close_session(session_id: int, now=None) -> bool:
    """Close a session: count it, delete its people and messages, tell everyone the next start.

    Returns False when it was already closed (another process got there first).
    """
    now = now or timezone.now()
    with transaction.atomic():
        session = (
            GroupSession.objects.select_for_update()
            .filter(pk=session_id, closed_at=None)
            .select_related("line")
            .first()
        )
        if session is None:
            return False
        day = timezone.localtime(session.starts_at).date()
        stats.increment(session.line_id, day, "group_sessions")
        if session.joins:
            stats.increment(session.line_id, day, "group_participants", by=session.joins)
        if session.last_seq:
            stats.increment(session.line_id, day, "group_messages", by=session.last_seq)
        session.messages.all().delete()
        session.people.all().delete()
        GroupSession.objects.filter(pk=session.pk).update(closed_at=now, pinned="")
        opens_at = next_start(session.line, now, session.invite)
        notify.group(session.pk, protocol.closed_frame(opens_at))
    return True


def sweep(now=None) -> dict:
    """Close sessions whose end has passed; forget participants whose socket vanished."""
    now = now or timezone.now()
    over = GroupSession.objects.not_closed().filter(ends_at__lte=now).values_list("pk", flat=True)
    closed = sum(close_session(pk, now=now) for pk in over)
    gone = GroupParticipant.objects.filter(
        role=Role.PARTICIPANT, kicked=False, seen_at__lt=alive_since(now)
    )
    for person_id in gone.values_list("pk", flat=True):
        leave(person_id, now=now)
    return {"closed": closed}
