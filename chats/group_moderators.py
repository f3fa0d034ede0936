"""The group chat's moderators (contract section 6): joining, posting, removing, kicking, pinning
and closing a session. Plain, synchronous, transactional, like chats.groups beneath it.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import notify, protocol
from .errors import ChatError
from .groups import JoinAnswer, Role, _history, _post, _present, _present_count, close_session
from .models import GroupMessage, GroupParticipant, GroupSession, HelperProfile, ServiceLine


def _moderated_session(helper: HelperProfile, session_id: int, now: datetime) -> GroupSession:
    session = (
        GroupSession.objects.running(now)
        .filter(pk=session_id, line__in=helper.lines.filter(kind=ServiceLine.Kind.GROUP))
        .first()
    )
    named = session and session.moderators.exists()
    if session is None or (named and not session.moderators.filter(pk=helper.pk).exists()):
        raise ChatError("not_found", "No running session that you moderate.")
    return session


def moderator_join(
    helper: HelperProfile, slug: str, session_id: int | None = None, now=None
) -> JoinAnswer:
    """A moderator enters the running session of a line: `group_joined` with its history.

    A session with named moderators admits only them; one with none admits the line's helpers.
    """
    now = now or timezone.now()
    if not helper.lines.filter(slug=slug, kind=ServiceLine.Kind.GROUP).exists():
        raise ChatError("not_found", f"You are not a helper of the group line {slug!r}.")
    running = GroupSession.objects.running(now).filter(line__slug=slug)
    if session_id is not None:
        running = running.filter(pk=session_id)
    mine = running.filter(Q(moderators=helper) | Q(moderators=None)).order_by("starts_at", "pk")
    session = mine.first()
    if session is None:
        raise ChatError("not_found", "No session of this line that you moderate is running.")
    with transaction.atomic():
        person, created = _moderator_row(session.pk, helper, now)
        count = _present_count(session, now)
        if created:
            notify.group(session.pk, protocol.participants_frame(count))
        session.refresh_from_db()
        history = _history(session)
    frame = protocol.group_joined_frame(
        session.pk,
        count,
        title=session.title,
        ends_at=protocol.iso(session.ends_at),
        pinned=session.pinned,
        messages=[protocol.for_moderator(m, session.pk) for m in history],
    )
    return JoinAnswer([frame], session.pk, person.pk, seq=session.last_seq)


def moderator_leave(helper: HelperProfile, session_ids, now=None) -> None:
    """The moderator's console closed: they no longer count among those present."""
    for session_id in session_ids:
        with transaction.atomic():
            deleted, _ = GroupParticipant.objects.filter(
                session_id=session_id, helper=helper, role=Role.MODERATOR
            ).delete()
            session = GroupSession.objects.filter(pk=session_id, closed_at=None).first()
            if deleted and session:
                notify.group(session_id, protocol.participants_frame(_present_count(session, now)))


def _moderator(helper: HelperProfile, session_id: int, now: datetime) -> GroupParticipant:
    _moderated_session(helper, session_id, now)
    # Another console tab of the same helper may have left and taken the row with it.
    return _moderator_row(session_id, helper, now)[0]


def _moderator_row(session_id: int, helper: HelperProfile, now: datetime):
    """The helper's moderator row in the session, made if missing: (row, whether it was made)."""
    return GroupParticipant.objects.get_or_create(
        session_id=session_id,
        helper=helper,
        defaults={
            "nickname": helper.display_name,
            "role": Role.MODERATOR,
            "joined_at": now,
            "seen_at": now,
        },
    )


def moderator_message(helper: HelperProfile, session_id: int, text: str, now=None):
    now = now or timezone.now()
    return _post(session_id, _moderator(helper, session_id, now), text, now)


def remove_message(helper: HelperProfile, session_id: int, seq: int, now=None) -> None:
    """Take a message down: its text is erased now, and everyone is told its id."""
    now = now or timezone.now()
    _moderator(helper, session_id, now)
    with transaction.atomic():
        taken = GroupMessage.objects.filter(session_id=session_id, seq=seq, removed=False).update(
            removed=True, text=""
        )
        if not taken:
            raise ChatError("not_found", "No such message, or it was already removed.")
        notify.group(session_id, protocol.removed_frame(seq))


def kick(helper: HelperProfile, session_id: int, nickname: str, now=None) -> None:
    """Out for the rest of the session: this socket now, and any later join from its address."""
    now = now or timezone.now()
    _moderator(helper, session_id, now)
    with transaction.atomic():
        session = GroupSession.objects.select_for_update().get(pk=session_id)
        wanted = nickname.casefold()
        person = next(
            (
                p
                for p in _present(session, now).filter(role=Role.PARTICIPANT)
                if p.nickname.casefold() == wanted
            ),
            None,
        )
        if person is None:
            raise ChatError("not_found", "Nobody in the session has that nickname.")
        GroupParticipant.objects.filter(pk=person.pk).update(kicked=True)
        notify.group(session_id, kicked=person.pk)
        notify.group(session_id, protocol.participants_frame(_present_count(session, now)))


def pin(helper: HelperProfile, session_id: int, text: str, now=None) -> None:
    """A welcome or the rules at the top of the room; an empty text unpins."""
    now = now or timezone.now()
    _moderator(helper, session_id, now)
    with transaction.atomic():
        GroupSession.objects.filter(pk=session_id).update(pinned=text)
        notify.group(session_id, protocol.pinned_frame(text))


def close_by_moderator(helper: HelperProfile, session_id: int, now=None) -> None:
    now = now or timezone.now()
    _moderated_session(helper, session_id, now)
    close_session(session_id, now=now)
