"""A length limit the helper sets on the current chat, kept by the sweep of any server process.

`limit` stores `ends_at` on the chat row and tells both sides (`time_limit`, and a system
message with the time). CHAT_LIMIT_WARNING_MINUTES before the end the asker gets a warning;
at `ends_at` the chat ends politely with a system message (`ended` by `system`, reason
`time_limit`). Because the time is in the database, the limit holds across processes and
restarts; each step is claimed with a conditional update, so two sweeps never repeat it.

"Come back later" is a bar with a kind wording: services.ending.bar_asker(kind=come_back_later).
"""

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit, notify, protocol
from .models import AuditEvent, Chat, HelperProfile
from .services.ending import end_chat
from .services.helpers import own_chat
from .services.messages import system_message


def set_limit(helper: HelperProfile, chat_id: int, minutes: int, now=None) -> datetime:
    """End the helper's chat in `minutes`; both sides see the time left."""
    now = now or timezone.now()
    chat = own_chat(helper, chat_id)
    ends_at = now + timedelta(minutes=minutes)
    # A limit shorter than the warning period needs no separate warning: this is one.
    warned = minutes <= settings.CHAT_LIMIT_WARNING_MINUTES
    with transaction.atomic():
        Chat.objects.filter(pk=chat.pk).update(ends_at=ends_at, limit_warned=warned)
        system_message(
            chat,
            lambda: (
                _(
                    "The helper has set this chat to end at %(time)s, in %(minutes)s minutes. "
                    "You will be told before it ends."
                )
                % {"time": timezone.localtime(ends_at).strftime("%H:%M"), "minutes": minutes}
            ),
        )
        notify.chat(
            chat.pk,
            asker=protocol.time_limit_frame(ends_at),
            helper=protocol.time_limit_frame(ends_at, chat.pk),
        )
        audit.record(
            helper, AuditEvent.Action.TIME_LIMIT, line=chat.line, detail=f"{minutes} min", now=now
        )
    return ends_at


def sweep(now=None) -> dict:
    """Warn the askers whose time is nearly up; end the chats whose time is up."""
    now = now or timezone.now()
    warned = ended = 0
    soon = now + timedelta(minutes=settings.CHAT_LIMIT_WARNING_MINUTES)
    due = Chat.objects.active().filter(limit_warned=False, ends_at__gt=now, ends_at__lte=soon)
    for chat in due:
        with transaction.atomic():
            if not Chat.objects.filter(pk=chat.pk, limit_warned=False).update(limit_warned=True):
                continue  # another process warned first
            left = max(1, math.ceil((chat.ends_at - now).total_seconds() / 60))
            system_message(
                chat,
                lambda left=left: (
                    _(
                        "This chat will end in about %(minutes)s minutes. It is a good moment to "
                        "say what still matters most to you."
                    )
                    % {"minutes": left}
                ),
            )
            warned += 1
    for chat_id in Chat.objects.active().filter(ends_at__lte=now).values_list("pk", flat=True):
        with transaction.atomic():
            chat = Chat.objects.select_for_update().filter(pk=chat_id, ends_at__lte=now).first()
            if chat is None:
                continue  # another process ended it
            system_message(
                chat,
                lambda: _(
                    "The time set for this chat is over, so the chat ends now. Thank you for "
                    "writing. You are welcome to come back another time."
                ),
            )
            ended += end_chat(chat.pk, by="system", now=now, reason="time_limit")
    return {"warned": warned, "ended": ended}
