"""Messages of a one-to-one chat: stored with the chat's next number, then both sides nudged."""

import functools
from contextlib import nullcontext

from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation

from .. import notify, protocol
from ..errors import ChatError
from ..models import Chat, HelperProfile, Message


def message_frame(message: Message, chat_id=None) -> dict:
    return protocol.message_frame(
        message.seq,
        message.sender,
        message.text,
        message.sent_at,
        chat_id=chat_id,
        client_id=message.client_id,
    )


def messages_after(chat_id: int, seq: int) -> list[Message]:
    return list(Message.objects.filter(chat_id=chat_id, seq__gt=seq).order_by("seq"))


def post_message(
    chat_id: int,
    sender: str,
    text: str,
    *,
    helper: HelperProfile | None = None,
    client_id: str | None = None,
    now=None,
) -> Message:
    """Store a message with the chat's next sequence number, then nudge both sides.

    A resend with a `client_id` already stored returns the stored message: a client that lost
    the echo to a dropped connection can resend safely. A helper may write only in an active
    chat of their own.
    """
    now = now or timezone.now()
    fields = {"sender": sender, "text": text, "sent_at": now, "client_id": client_id}
    try:
        if connection.vendor == "postgresql":
            message = _store_in_one_statement(chat_id, helper, fields)
        else:
            message = _store_in_a_transaction(chat_id, helper, fields)
    except IntegrityError:
        # The client_id is stored already (message_client_id_unique): this is a resend.
        message = None
    if message is None:
        stored = Message.objects.filter(chat_id=chat_id, client_id=client_id, sender=sender)
        if helper is not None:
            stored = stored.filter(chat__helper_id=helper.pk)
        if client_id and (found := stored.first()) is not None:
            return found
        missing = "This chat is not yours." if helper is not None else "This chat has ended."
        raise ChatError("not_found", missing)
    notify.chat(chat_id, **message_nudge(message))
    return message


def message_nudge(message: Message) -> dict:
    """What both sides of a chat are told of a new message (notify.chat's keywords)."""
    return {
        "asker": message_frame(message),
        "helper": message_frame(message, chat_id=message.chat_id),
        "seq": message.seq,
    }


def _writable(chat_id: int, helper: HelperProfile | None) -> dict:
    """The chat row a message may go to, as column = value (both store paths use it): the
    helper's own active chat; any chat for the asker and the service, who come by token."""
    if helper is None:
        return {"id": chat_id}
    return {"id": chat_id, "helper_id": helper.pk, "status": Chat.Status.ACTIVE}


# The next number and the message in one round trip: the UPDATE locks the chat's row, so
# concurrent writers of one chat take numbers in turn; a duplicate client_id fails the whole
# statement, number included. It is every message's path, and the database's round trips were
# most of its cost (bench/, docs/performance.md).
_STORE_SQL = """
WITH numbered AS (
    UPDATE {chat} SET last_seq = last_seq + 1 WHERE {where} RETURNING id, last_seq
)
INSERT INTO {message} (chat_id, seq, sender, text, sent_at, client_id)
SELECT id, last_seq, %s, %s, %s, %s FROM numbered
RETURNING id, seq
"""


@functools.cache
def quote_name(name: str) -> str:
    """Once per process: also called from the event loop (chats/loopdb.py), where `connection`
    is a new DatabaseWrapper in every task's context."""
    return connection.ops.quote_name(name)


def store_statement(chat_id, helper, fields) -> tuple[str, list]:
    """The one-statement store (PostgreSQL), as SQL and parameters: run here on Django's
    connection, or from the event loop by chats/loopdb.py."""
    writable = _writable(chat_id, helper)
    where = " AND ".join(f"{quote_name(column)} = %s" for column in writable)
    sql = _STORE_SQL.format(chat=Chat._meta.db_table, message=Message._meta.db_table, where=where)
    return sql, [*writable.values(), *fields.values()]


def _store_in_one_statement(chat_id, helper, fields) -> Message | None:
    sql, params = store_statement(chat_id, helper, fields)
    # Inside a caller's transaction a failed statement must not abort the rest of it.
    guard = transaction.atomic() if connection.in_atomic_block else nullcontext()
    with guard, connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else Message(pk=row[0], chat_id=chat_id, seq=row[1], **fields)


def _store_in_a_transaction(chat_id, helper, fields) -> Message | None:
    with transaction.atomic():
        chat = Chat.objects.select_for_update().filter(**_writable(chat_id, helper)).first()
        if chat is None:
            return None
        chat.last_seq += 1
        Chat.objects.filter(pk=chat.pk).update(last_seq=chat.last_seq)
        return Message.objects.create(chat=chat, seq=chat.last_seq, **fields)


def system_message(chat: Chat, text_fn) -> Message:
    """A message from the service itself, in the asker's language."""
    with translation.override(chat.language):
        return post_message(chat.pk, Message.Sender.SYSTEM, str(text_fn()))
