"""Handing a live chat to a colleague on duty for the same line, with a private handover note.

The offering helper keeps the chat until the colleague answers: `transfer_accept` moves it (the
asker is told and sees the new name; the new helper's console gets `assigned` and the whole
`history`; the first helper's gets `transferred`), `transfer_decline` leaves it where it was
(the first helper gets `transfer_declined`). An offer nobody answers within
CHAT_TRANSFER_OFFER_SECONDS goes back the same way (reason `expired`), and the offering helper
may withdraw it (`transfer_cancel`). The note lives on the chat row and goes with it.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from stats import services as stats

from . import audit, duty, notify, protocol
from .errors import Answer, ChatError
from .models import AuditEvent, Chat, HelperProfile, ServiceLine
from .services.helpers import not_your_chat, own_chat
from .services.messages import system_message
from .taking import helper_chat_answer, person

Action = AuditEvent.Action


def _offer_ends(chat: Chat) -> datetime:
    return chat.transfer_offered_at + timedelta(seconds=settings.CHAT_TRANSFER_OFFER_SECONDS)


def receiver_of(helper: HelperProfile, line: ServiceLine, to: int | str, now=None):
    """The colleague named by id or display name among the line's other helpers on duty."""
    candidates = duty.on_duty_helpers(line, now).exclude(pk=helper.pk)
    if isinstance(to, int):
        found = list(candidates.filter(pk=to))
    else:
        found = list(candidates.filter(display_name__iexact=to.strip()))
    if not found:
        raise ChatError("not_found", _("No colleague of that name is on duty for this line."))
    if len(found) > 1:
        raise ChatError("invalid", _("Several colleagues on duty have that name; choose by id."))
    return found[0]


def offer(helper: HelperProfile, chat_id: int, to: int | str, note: str = "", now=None) -> None:
    """Offer the helper's chat to a colleague; both sides' consoles are told (not the asker)."""
    now = now or timezone.now()
    chat = own_chat(helper, chat_id)
    receiver = receiver_of(helper, chat.line, to, now)
    with transaction.atomic():
        duty.lock(receiver)
        chat = (
            Chat.objects.select_for_update(of=("self",))
            .filter(pk=chat_id, helper=helper, status=Chat.Status.ACTIVE)
            .select_related("line")
            .first()
        )
        if chat is None:
            raise not_your_chat()
        if chat.transfer_to_id:
            raise ChatError(
                "invalid", _("This chat is already offered to a colleague; wait for the answer.")
            )
        try:
            duty.refuse_at_capacity(receiver)
        except ChatError:
            raise ChatError(
                "at_capacity",
                _("%(name)s has no room for another chat just now.")
                % {"name": receiver.display_name},
            ) from None
        Chat.objects.filter(pk=chat.pk).update(
            transfer_to=receiver,
            transfer_from=helper,
            transfer_note=(note or "").strip(),
            transfer_offered_at=now,
        )
        chat.refresh_from_db()
        ends = _offer_ends(chat)
        notify.helper(
            receiver.pk,
            "transfer.event",
            frame=protocol.transfer_offer_frame(
                chat.pk, chat.line.slug, person(helper), chat.transfer_note, ends
            ),
        )
        notify.helper(
            helper.pk,
            "transfer.event",
            frame=protocol.transfer_pending_frame(chat.pk, person(receiver), ends),
        )
        audit.record(
            helper, Action.TRANSFER_OFFERED, line=chat.line, detail=receiver.display_name, now=now
        )


def accept(helper: HelperProfile, chat_id: int, now=None) -> Answer:
    """Take over a chat offered to this helper: its `assigned` and whole `history`."""
    now = now or timezone.now()
    with transaction.atomic():
        duty.lock(helper)
        chat = (
            Chat.objects.select_for_update(of=("self",))
            .filter(pk=chat_id, transfer_to=helper, status=Chat.Status.ACTIVE)
            .select_related("line", "helper")
            .first()
        )
        if chat is None:
            raise ChatError("not_found", _("This chat is no longer offered to you."))
        # The offer itself held a place; it becomes the chat.
        duty.refuse_at_capacity(helper, offers=False)
        first = chat.helper
        Chat.objects.filter(pk=chat.pk).update(
            helper=helper, transfer_to=None, transfer_offered_at=None
        )
        chat.refresh_from_db()
        system_message(
            chat,
            lambda: (
                _("%(name)s now continues the chat with you. Everything written so far is kept.")
                % {"name": helper.display_name}
            ),
        )
        notify.chat(
            chat.pk,
            asker=protocol.asker_assigned_frame(helper.display_name, helper.role),
            helper=protocol.transferred_frame(chat.pk, person(helper)),
        )
        notify.helper(helper.pk, "transfer.event", frame=protocol.transfer_withdrawn_frame(chat.pk))
        stats.increment(chat.line_id, timezone.localdate(now), "transfers", helper.role)
        audit.record(
            helper,
            Action.TRANSFER_ACCEPTED,
            line=chat.line,
            detail=first.display_name if first else "",
            now=now,
        )
    return helper_chat_answer(chat)


def decline(helper: HelperProfile, chat_id: int, now=None) -> None:
    """Say no to an offer: the chat stays with the helper who offered it."""
    now = now or timezone.now()
    with transaction.atomic():
        chat = (
            Chat.objects.select_for_update(of=("self",))
            .filter(pk=chat_id, transfer_to=helper)
            .select_related("line", "transfer_from")
            .first()
        )
        if chat is None:
            raise ChatError("not_found", _("This chat is no longer offered to you."))
        withdraw(chat, "declined")
        audit.record(
            helper,
            Action.TRANSFER_DECLINED,
            line=chat.line,
            detail=chat.transfer_from.display_name if chat.transfer_from else "",
            now=now,
        )


def cancel(helper: HelperProfile, chat_id: int) -> None:
    """The offering helper takes the offer back before it is answered."""
    with transaction.atomic():
        chat = (
            Chat.objects.select_for_update(of=("self",))
            .filter(pk=chat_id, helper=helper, transfer_to__isnull=False)
            .first()
        )
        if chat is None:
            raise ChatError("not_found", _("This chat has no open transfer offer."))
        withdraw(chat, "cancelled")


def withdraw(chat: Chat, reason: str) -> None:
    """Call inside a transaction: the offer goes; the chat stays with its helper, who is told."""
    receiver = chat.transfer_to
    Chat.objects.filter(pk=chat.pk).update(
        transfer_to=None, transfer_from=None, transfer_note="", transfer_offered_at=None
    )
    if receiver is None:
        return
    notify.chat(chat.pk, helper=protocol.transfer_declined_frame(chat.pk, person(receiver), reason))
    notify.helper(receiver.pk, "transfer.event", frame=protocol.transfer_withdrawn_frame(chat.pk))


def offers_to(helper: HelperProfile) -> list[dict]:
    """Offers waiting for this helper's answer (a console that connects again gets them)."""
    chats = Chat.objects.active().filter(transfer_to=helper).select_related("line", "helper")
    return [
        protocol.transfer_offer_frame(
            chat.pk, chat.line.slug, person(chat.helper), chat.transfer_note, _offer_ends(chat)
        )
        for chat in chats
        if chat.helper is not None
    ]


def sweep(now=None) -> int:
    """Offers nobody answered in time go back to the offering helper (reason `expired`)."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.CHAT_TRANSFER_OFFER_SECONDS)
    expired = 0
    for chat_id in Chat.objects.filter(
        transfer_to__isnull=False, transfer_offered_at__lte=stale
    ).values_list("pk", flat=True):
        with transaction.atomic():
            chat = (
                Chat.objects.select_for_update(of=("self",))
                .filter(pk=chat_id, transfer_to__isnull=False, transfer_offered_at__lte=stale)
                .select_related("transfer_to")
                .first()
            )
            if chat is not None:
                withdraw(chat, "expired")
                expired += 1
    return expired
