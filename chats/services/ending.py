"""The end of a chat: counted, erased (texts, token, address), both sides told; and the end a
helper gives with a bar or a "come back later"."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from stats import services as stats
from verkkoapu import addresses

from .. import audit, notify, protocol, waiting
from ..models import Bar, Chat, HelperProfile
from .helpers import checked_topics, own_chat
from .messages import system_message
from .queue import _day, announce_queue


def end_chat(
    chat_id: int, *, by: str, topics=(), now=None, follow_up=None, reason: str | None = None
) -> bool:
    """End a chat: count it, erase it (texts, token, address), tell both sides.

    Returns False when the chat had already ended (another process or side got there first).
    `reason` (addition) tells the clients why: `time_limit`, `come_back_later`, `bar`.
    """

    now = now or timezone.now()
    with transaction.atomic():
        chat = Chat.objects.select_for_update().filter(pk=chat_id).select_related("line").first()
        if chat is None:
            return False
        day = _day(now)
        line_id = chat.line_id
        if chat.status == Chat.Status.QUEUED:
            stats.increment(line_id, day, "queue_abandoned")
        else:
            stats.increment(line_id, day, "ended_by", by)
            if chat.assigned_at:
                stats.increment(line_id, day, "duration", stats.bucket(now - chat.assigned_at))
                waiting.record_duration(line_id, now - chat.assigned_at, now)
            for topic in topics:
                stats.increment(line_id, day, "topic", topic)
        was_queued = chat.status == Chat.Status.QUEUED
        # Deleting the row erases its messages (cascade), token and address in one statement.
        chat.delete()
        notify.chat(
            chat_id,
            asker=protocol.ended_frame(
                by, follow_up=follow_up and follow_up.get("asker"), reason=reason
            ),
            helper=protocol.ended_frame(
                by, chat_id=chat_id, follow_up=follow_up and follow_up.get("helper"), reason=reason
            ),
        )
        if chat.transfer_to_id:  # an offer waiting for an answer goes with the chat
            notify.helper(
                chat.transfer_to_id,
                "transfer.event",
                frame=protocol.transfer_withdrawn_frame(chat_id),
            )
        if was_queued:
            announce_queue(chat.line, positions_moved=True)
    return True


def end_chat_by_helper(helper: HelperProfile, chat_id: int, topics: list[str], now=None) -> None:
    chat = own_chat(helper, chat_id)
    end_chat(chat_id, by="helper", topics=checked_topics(chat, topics), now=now)


def bar_asker(
    helper: HelperProfile,
    chat_id: int,
    hours: int | None,
    topics=(),
    now=None,
    *,
    days: int | None = None,
    kind: str = Bar.Kind.BAR,
) -> Bar:
    """Bar the asker's address on this line for a while, then end the chat politely.

    With `kind` come_back_later ("come back later", for `days`) the asker is thanked and told
    from when they are welcome again; `start` until then answers `blocked` in the same words.
    """
    now = now or timezone.now()
    chat = own_chat(helper, chat_id)
    length = (
        timedelta(days=days) if days else timedelta(hours=hours or settings.CHAT_DEFAULT_BAR_HOURS)
    )
    until = now + length
    if kind == Bar.Kind.COME_BACK_LATER:
        topics = checked_topics(chat, list(topics))
    bar = None
    with transaction.atomic():
        if chat.asker_ip:
            bar = Bar.objects.create(
                kind=kind,
                address_hash=addresses.address_hash(chat.asker_ip),
                line=chat.line,
                until=until,
                created_at=now,
            )
        system_message(chat, lambda: _bar_text(kind, until))
        action = (
            audit.Action.COME_BACK_LATER if kind == Bar.Kind.COME_BACK_LATER else audit.Action.BAR
        )
        duration = f"{days} d" if days else f"{int(length.total_seconds() // 3600)} h"
        audit.record(helper, action, line=chat.line, detail=duration, now=now)
        end_chat(chat_id, by="helper", topics=topics, now=now, reason=kind)
    return bar


def _bar_text(kind: str, until: datetime) -> str:
    """What the asker is told, in their language (system_message overrides it)."""
    if kind == Bar.Kind.COME_BACK_LATER:
        return _come_back_text(until)
    return _(
        "The helper has ended this chat and paused new chats from this connection for a while."
    )


def _come_back_text(until: datetime) -> str:
    return _(
        "Thank you for writing. Let us pause here for now: you are welcome to come back to the "
        "chat from %(date)s. If you need help at once, call 112 in an emergency."
    ) % {"date": timezone.localtime(until).strftime("%d.%m.%Y %H:%M")}
