"""A helper takes a chat: the next asker of a line (their own follow-ups first), and what the
console needs for one of its chats (`assigned` with a follow-up's or a handover's extras, then
the history)."""

from django.db import transaction
from django.utils import timezone

from stats import services as stats

from . import audit, duty, followups, notify, protocol
from .errors import Answer
from .models import Chat, HelperProfile
from .services.helpers import helpers_line
from .services.messages import message_frame
from .services.queue import _day, announce_queue


def accept_next(helper: HelperProfile, slug: str, now=None) -> Answer:
    """Give the longest-waiting asker on the line to this helper; `empty` if nobody waits.

    `at_capacity` when the helper already holds their maximum of chats (chats/duty.py); the
    asker stays in the queue.
    """
    now = now or timezone.now()
    line = helpers_line(helper, slug)

    duty.refuse_at_capacity(helper)
    # The helper's own follow-ups first: nobody else may take them.
    while chat := (
        followups.reserved_for(helper, line.pk).first()
        or Chat.objects.general_queue(line.pk).first()
    ):
        with transaction.atomic():
            # One capacity decision at a time for this helper (several tabs or processes).
            duty.lock(helper)
            duty.refuse_at_capacity(helper)
            claimed = Chat.objects.filter(pk=chat.pk, status=Chat.Status.QUEUED).update(
                status=Chat.Status.ACTIVE, helper=helper, assigned_at=now
            )
            if not claimed:
                # 0 rows: another helper (maybe on another process) took this asker; next.
                continue
            chat.refresh_from_db()
            if not chat.requeued:
                stats.increment(line.pk, _day(now), "chats_answered")
                stats.increment(line.pk, _day(now), "answered_by_role", helper.role)
                stats.increment(line.pk, _day(now), "wait", stats.bucket(now - chat.queued_at))
            notify.chat(
                chat.pk, asker=protocol.asker_assigned_frame(helper.display_name, helper.role)
            )
            announce_queue(line, positions_moved=True)
            followups.claimed(helper, chat)
            audit.record(helper, audit.Action.CHAT_TAKEN, line=line, now=now)
        return helper_chat_answer(chat)
    return Answer([protocol.empty_frame(slug)])


def helper_chat_answer(chat: Chat) -> Answer:
    """What a helper's console needs for one of its chats: `assigned`, then the history."""
    messages = list(chat.messages.all())
    assigned = protocol.helper_assigned_frame(chat.pk, chat.line.slug, chat.asker_ip)
    frames = [
        {**assigned, **followups.assigned_extra(chat), **handover(chat)},
        protocol.history_frame([message_frame(m, chat.pk) for m in messages], chat.pk),
    ]
    if chat.ends_at:
        frames.append(protocol.time_limit_frame(chat.ends_at, chat.pk))
    return Answer(
        frames,
        chat.pk,
        seq=messages[-1].seq if messages else 0,
        chat=chat,
    )


def handover(chat: Chat) -> dict:
    """What the new helper's `assigned` adds after a transfer: who handed it over, the note."""
    if not chat.transfer_from_id or chat.transfer_to_id or chat.transfer_from_id == chat.helper_id:
        return {}
    giver = chat.transfer_from
    return {"handover": {"from": person(giver), "note": chat.transfer_note}}


def person(helper: HelperProfile) -> dict:
    return protocol.person(helper.display_name, helper.role, helper.pk)
