"""The sweep: what the one sweeper of each process (chats/runtime.py) does every interval.

`STEPS` is the one list of sweep steps, each `step(now=None)`, idempotent and safe on every
process at once: the one-to-one chats' (`sweep`: gone askers and helpers, closed lines with no
helper left, length limits, transfer offers), the group chats' and the follow-ups'. The purge of
what outlives a chat is the retention registry's (chats/retention.py, stats/retention.py)."""

import functools
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduling import services as scheduling

from . import followups, groups, limits, notify, transfer
from .asking import position_frame
from .models import Chat, DutySession, QueueTail
from .services.ending import end_chat
from .services.messages import system_message
from .services.queue import announce_queue

QUEUE_TAIL_KEPT = timedelta(minutes=10)


def sweep(now=None) -> dict:
    """End chats whose asker is gone, requeue chats whose helper is gone; keep length limits
    and expire unanswered transfer offers (docs/workflow.md). Idempotent."""
    now = now or timezone.now()
    asker_gone = now - timedelta(seconds=settings.CHAT_ASKER_GRACE_SECONDS)
    helper_gone = now - timedelta(seconds=settings.CHAT_HELPER_GRACE_SECONDS)
    ended = requeued = 0
    for chat_id in Chat.objects.filter(asker_seen_at__lt=asker_gone).values_list("pk", flat=True):
        ended += end_chat(chat_id, by="system", now=now)
    present = DutySession.objects.filter(seen_at__gte=helper_gone).values("helper_id")
    orphans = Chat.objects.active().exclude(helper_id__in=present).select_related("line")
    for chat in orphans:
        requeued += requeue(chat, now=now)
    # After closing time, askers nobody is left to serve are told so (scheduling owns the rule).
    ended += close_unserved_queues(now)
    DutySession.objects.filter(seen_at__lt=helper_gone).delete()
    # A line's newest start time keeps no longer than it can matter (models.workflow.QueueTail).
    QueueTail.objects.filter(at__lt=now - QUEUE_TAIL_KEPT).delete()
    limited = limits.sweep(now)
    ended += limited["ended"]
    transfer.sweep(now)
    return {"ended": ended, "requeued": requeued}


def requeue(chat: Chat, now=None) -> bool:
    """The helper vanished: the chat goes back to the front of its line's queue."""
    now = now or timezone.now()
    with transaction.atomic():
        front = Chat.objects.general_queue(chat.line_id).values_list("queued_at", flat=True).first()
        queued_at = (
            min(chat.queued_at, front - timedelta(microseconds=1)) if front else chat.queued_at
        )
        if chat.transfer_to_id:
            transfer.withdraw(chat, "expired")
        # A length limit and a handover belonged to the helper who is gone.
        moved = Chat.objects.filter(
            pk=chat.pk, status=Chat.Status.ACTIVE, helper=chat.helper
        ).update(
            status=Chat.Status.QUEUED,
            helper=None,
            queued_at=queued_at,
            requeued=True,
            ends_at=None,
            limit_warned=False,
            transfer_from=None,
            transfer_note="",
        )
        if not moved:
            return False
        chat.refresh_from_db()
        system_message(
            chat,
            lambda: _(
                "The helper's connection was lost. You are back at the front of the "
                "queue; the next free helper will continue with you."
            ),
        )
        notify.chat(chat.pk, asker=position_frame(chat))
        announce_queue(chat.line, positions_moved=True)
    return True


def close_unserved_queues(now: datetime) -> int:
    """End queued chats of lines scheduling says are closed with no helper left to take them,
    each asker told so plainly. Returns how many chats ended."""
    ended = 0
    for line, status in scheduling.unserved_lines(now):
        # Follow-up askers are not in the general queue: they wait for their own helper inside
        # the booked shift, whatever the line's hours, until chats/followups.py releases them.
        for chat_id in Chat.objects.general_queue(line.pk).values_list("pk", flat=True):
            with transaction.atomic():
                # Locked while queued: a helper who arrives this instant cannot take it halfway.
                chat = Chat.objects.select_for_update().filter(pk=chat_id).queued().first()
                if chat is None:
                    continue
                text = functools.partial(scheduling.closed_text, status.opens_at)
                system_message(chat, text)
                ended += end_chat(chat.pk, by="system", now=now)
    return ended


STEPS = (sweep, groups.sweep, followups.sweep)
