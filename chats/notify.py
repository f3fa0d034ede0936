"""The only caller of channel_layer.group_send.

Every nudge is sent after the transaction commits: the database is the truth, the layer only
says "something new". A lost nudge costs a reconnect and a `resume`, never a message.
"""

import hashlib
import logging
import threading
from contextlib import contextmanager

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from verkkoapu import metrics

from . import layer, protocol

log = logging.getLogger(__name__)


def chat_group(chat_id: int) -> str:
    return f"chat.{chat_id}"


def queue_group(slug: str) -> str:
    """Askers waiting on a line."""
    return f"queue.{slug}"


def helpers_group(slug: str) -> str:
    """Helper consoles of a line."""
    return f"helpers.{slug}"


def helper_group(helper_id: int) -> str:
    """Every open console socket of one helper."""
    return f"helper.{helper_id}"


def login_session(session_key: str) -> str:
    """Every helper socket opened with one login session (a hash: the key is a credential)."""
    return f"login.{hashlib.sha256(session_key.encode()).hexdigest()[:40]}"


def group_session(session_id: int) -> str:
    """Participants and moderators of one group chat session."""
    return f"groupchat.{session_id}"


_local = threading.local()


@contextmanager
def collected():
    """Nudges of the code inside are kept in a list instead of sent: consumers run database
    work on pool threads (runtime.db) and send the list from the event loop afterwards.
    Sending from the thread held it, and its database connection, until the event loop got
    round to the send: under load that wait capped a process's messages per second."""
    outbox: list[tuple[str, dict]] = []
    previous = getattr(_local, "outbox", None)
    _local.outbox = outbox
    try:
        yield outbox
    finally:
        _local.outbox = previous


def _send(group: str, event: dict) -> None:
    def send():
        outbox = getattr(_local, "outbox", None)
        if outbox is not None:
            outbox.append((group, event))
            return
        if not layer.available():
            return  # just failed: skip rather than hold the database thread in retries
        try:
            async_to_sync(get_channel_layer().group_send)(group, event)
        except Exception:
            # The layer is down (e.g. Redis restarting): consumers catch up from the database
            # once it is back (chats/layer.py).
            layer.failed()
            metrics.count_nudge_failed()
            log.warning("channel layer unavailable; %s not nudged", event["type"])

    transaction.on_commit(send)


async def deliver(outbox) -> None:
    """Send what `collected` kept, in order."""
    for group, event in outbox:
        await _asend(group, event)


def _chat_event(asker: dict | None, helper: dict | None, seq) -> dict:
    return {"type": "chat.event", "asker": asker, "helper": helper, "seq": seq}


def chat(chat_id: int, *, asker: dict | None = None, helper: dict | None = None, seq=None) -> None:
    """Tell both sides of a chat: `asker` goes to the asker's socket, `helper` to the helper's."""
    _send(chat_group(chat_id), _chat_event(asker, helper, seq))


async def chat_now(chat_id: int, *, asker=None, helper=None, seq=None) -> None:
    """`chat`, from the event loop, for work already committed there (chats/loopdb.py)."""
    await _asend(chat_group(chat_id), _chat_event(asker, helper, seq))


def queue_changed(
    slug: str, order: list[int] | None, length: int, at: float = 0.0, pace: dict | None = None
) -> None:
    """The line's queue changed: helpers get the length, waiting askers the new order (`at`:
    when it was read; askers ignore a reading older than one they already have) and the line's
    pace, from which each works out its own wait estimate (chats/waiting.py)."""
    _send(helpers_group(slug), {"type": "queue.length", "service": slug, "length": length})
    if order is not None:
        _send(queue_group(slug), {"type": "queue.order", "order": order, "at": at, "pace": pace})


def helper(helper_id: int, event_type: str, **payload) -> None:
    _send(helper_group(helper_id), {"type": event_type, **payload})


def session_ended(session_key: str) -> None:
    """The login session was logged out: its helper sockets close (`helper_logout`)."""
    _send(login_session(session_key), {"type": "helper.logout"})


def close_sockets_of_session(sender, request, user, **kwargs):
    """`user_logged_out`: every helper socket opened with this login closes (4403)."""
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        session_ended(key)


def group(session_id: int, frame: dict | None = None, *, seq=None, kicked=None) -> None:
    """Everyone in a group session: a frame (message, removed, closed…) or who was kicked."""
    _send(
        group_session(session_id),
        {
            "type": "group.event",
            "session": session_id,
            "frame": frame,
            "seq": seq,
            "kicked": kicked,
        },
    )


# --- From the event loop (consumers): no transaction to wait for -------------------------------


async def _asend(group: str, event: dict) -> None:
    if not layer.available():
        return
    try:
        await get_channel_layer().group_send(group, event)
    except Exception:
        layer.failed()
        metrics.count_nudge_failed()
        log.warning("channel layer unavailable; %s not nudged", event["type"])


async def typing(chat_id: int, *, by: str) -> None:
    """Typing is a transient hint: never stored, lost without harm."""
    if by == "asker":
        event = _chat_event(None, protocol.typing_frame(chat_id), None)
    else:
        event = _chat_event(protocol.typing_frame(), None, None)
    await _asend(chat_group(chat_id), event)


async def helper_chat_taken(helper_id: int, chat_id: int, origin: str) -> None:
    """Other open consoles of the same helper show the chat too."""
    await _asend(
        helper_group(helper_id), {"type": "helper.chat", "chat": chat_id, "origin": origin}
    )


async def consult(slug: str, frame: dict, helper_id: int) -> None:
    """A helper's note to the line's other consoles: transient, like typing."""
    await _asend(
        helpers_group(slug), {"type": "consult.message", "frame": frame, "helper_id": helper_id}
    )


async def consult_to(helper_ids: list[int], frame: dict, sender_id: int) -> None:
    """A private advice note (issue 21): only the named helpers' consoles and the sender's own."""
    event = {"type": "consult.message", "frame": frame, "helper_id": sender_id}
    for helper_id in dict.fromkeys([*helper_ids, sender_id]):
        await _asend(helper_group(helper_id), event)


async def support_changed(helper_ids: list[int]) -> None:
    """These helpers' consoles read their peer-support state again (a debrief was recorded)."""
    for helper_id in helper_ids:
        await _asend(helper_group(helper_id), {"type": "support.changed"})
