"""The wire format's outgoing frames: the only place where the contract's field names are spelled.

chats.protocol re-exports every builder, so `protocol.message_frame(...)` keeps working.
"""

import json
from datetime import datetime

from scheduling.hours import HELSINKI


def dumps(frame: dict) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(HELSINKI).isoformat()


def error_frame(code: str, message: str, **extra) -> dict:
    return {"type": "error", "code": code, "message": message, **extra}


def refusal_frame(refusal) -> dict:
    """A refused request (`chats.errors.ChatError`: code, message, extra fields) as its frame."""
    return error_frame(refusal.code, refusal.message, **refusal.extra)


def service_object(slug: str, name: str, kind: str, status, queue_length: int, **additions) -> dict:
    """The contract's service object from a line's hours `status` (open, opens_at, closes_at);
    `additions` are the one-to-one line's `accepting` and `asks_age` (docs/workflow.md)."""
    found = {
        "slug": slug,
        "name": name,
        "kind": kind,
        "open": status.open,
        "opens_at": iso(status.opens_at),
        "closes_at": iso(status.closes_at),
        "queue_length": queue_length,
    }
    for field in ("accepting", "asks_age"):
        if field in additions:
            found[field] = additions[field]
    return found


def closed_frame(opens_at: datetime | None) -> dict:
    return {"type": "closed", "opens_at": iso(opens_at)}


def queued_frame(token: str, position: int) -> dict:
    return {"type": "queued", "token": token, "position": position}


def position_frame(position: int) -> dict:
    return {"type": "position", "position": position}


def estimated_position_frame(position: int, estimate: dict | None) -> dict:
    """`position` with the estimated wait (an addition) of an asker in the general queue."""
    return {**position_frame(position), "estimate": estimate}


def paused_frame(paused: bool) -> dict:
    return {"type": "paused", "paused": paused}


def asker_assigned_frame(name: str, role: str) -> dict:
    return {"type": "assigned", "helper": {"name": name, "role": role}}


def helper_assigned_frame(chat_id: int, service: str, ip: str | None) -> dict:
    return {"type": "assigned", "chat": chat_id, "service": service, "ip": ip}


def message_frame(
    seq: int, sender: str, text: str, sent_at: datetime, chat_id=None, client_id=None
) -> dict:
    frame = {"type": "message", "id": seq, "sender": sender, "text": text, "sent_at": iso(sent_at)}
    if chat_id is not None:
        frame["chat"] = chat_id
    if client_id is not None:
        frame["client_id"] = client_id
    return frame


def history_frame(messages: list[dict], chat_id=None) -> dict:
    frame = {"type": "history", "messages": messages}
    if chat_id is not None:
        frame["chat"] = chat_id
    return frame


def typing_frame(chat_id=None) -> dict:
    return {"type": "typing"} if chat_id is None else {"type": "typing", "chat": chat_id}


def ended_frame(by: str, chat_id=None, follow_up: dict | None = None, reason=None) -> dict:
    frame = {"type": "ended", "by": by}
    if chat_id is not None:
        frame["chat"] = chat_id
    if follow_up:
        frame["follow_up"] = follow_up
    if reason:
        frame["reason"] = reason  # addition: time_limit, come_back_later, bar
    return frame


def queue_frame(service: str, length: int) -> dict:
    return {"type": "queue", "service": service, "length": length}


def letters_frame(service: str, waiting: int) -> dict:
    """The line's letters inbox changed (an addition: docs/letters.md)."""
    return {"type": "letters", "service": service, "waiting": waiting}


def empty_frame(service: str) -> dict:
    return {"type": "empty", "service": service}


def consult_frame(service: str, name: str, role: str, text: str, sent_at: datetime) -> dict:
    """A helper's note to the other helpers on duty for the line; askers never get it."""
    return {
        "type": "consult",
        "service": service,
        "helper": {"name": name, "role": role},
        "text": text,
        "sent_at": iso(sent_at),
    }


def support_frame(person: dict | None, debriefs: list[dict]) -> dict:
    """A console's peer-support state (issue 21): the support person, the debriefs due."""
    return {"type": "support", "person": person, "debriefs": debriefs}


# --- Group chats (section 6) and their moderators (section 4) -----------------------------------


def joined_frame(nickname: str, participants: int, **extra) -> dict:
    return {"type": "joined", "nickname": nickname, "participants": participants, **extra}


def group_message_frame(seq: int, nickname: str, role: str, text: str, sent_at: datetime) -> dict:
    return {
        "type": "message",
        "id": seq,
        "nickname": nickname,
        "role": role,
        "text": text,
        "sent_at": iso(sent_at),
    }


def removed_frame(seq: int) -> dict:
    return {"type": "removed", "id": seq}


def participants_frame(count: int) -> dict:
    return {"type": "participants", "participants": count}


def pinned_frame(text: str) -> dict:
    return {"type": "pinned", "text": text}


def for_moderator(frame: dict, session_id: int) -> dict:
    """A participant's frame as a moderator's console gets it: `group_<type>` with `session`."""
    return {**frame, "type": f"group_{frame['type']}", "session": session_id}


def session_fields(
    session_id: int,
    title: str,
    ends_at: datetime | None,
    pinned: str,
    meeting: tuple[int, int] | None = None,
) -> dict:
    """What a participant's `joined` tells of the session; `meeting` (an addition, issue 21):
    (number, of) of a closed series' meeting, else null."""
    return {
        "session": session_id,
        "title": title,
        "ends_at": iso(ends_at),
        "pinned": pinned,
        "meeting": {"number": meeting[0], "of": meeting[1]} if meeting else None,
    }


def group_joined_frame(session_id: int, participants: int, **extra) -> dict:
    return {"type": "group_joined", "session": session_id, "participants": participants, **extra}


def follow_ups_frame(follow_ups: list[dict]) -> dict:
    return {"type": "follow_ups", "follow_ups": follow_ups}


def follow_up_item(
    follow_up_id: int, service: str, at: datetime, until: datetime, note: str, waiting: bool
) -> dict:
    """One of the helper's follow-ups in `follow_ups`: not yet taken, its asker waiting or not."""
    return {
        "id": follow_up_id,
        "service": service,
        "at": iso(at),
        "until": iso(until),
        "note": note,
        "waiting": waiting,
    }


def follow_up_fields(at: datetime, note: str) -> dict:
    """What the helper's `assigned` adds for a follow-up: its time and the helper's note."""
    return {"follow_up": {"at": iso(at), "note": note}}


# --- The helper's workflow (docs/workflow.md) -----------------------------------------------------


def person(name: str, role: str, helper_id: int | None = None) -> dict:
    found = {"name": name, "role": role}
    if helper_id is not None:
        found["id"] = helper_id
    return found


def transfer_offer_frame(
    chat_id: int, service: str, sender: dict, note: str, expires_at: datetime
) -> dict:
    return {
        "type": "transfer_offer",
        "chat": chat_id,
        "service": service,
        "from": sender,
        "note": note,
        "expires_at": iso(expires_at),
    }


def transfer_pending_frame(chat_id: int, receiver: dict, expires_at: datetime) -> dict:
    return {
        "type": "transfer_pending",
        "chat": chat_id,
        "to": receiver,
        "expires_at": iso(expires_at),
    }


def transfer_declined_frame(chat_id: int, receiver: dict, reason: str) -> dict:
    """To the offering helper: the chat stays theirs (`declined`, `expired`, `cancelled`)."""
    return {"type": "transfer_declined", "chat": chat_id, "by": receiver, "reason": reason}


def transfer_withdrawn_frame(chat_id: int) -> dict:
    """To the receiving helper: the offer is no longer there to accept."""
    return {"type": "transfer_withdrawn", "chat": chat_id}


def transferred_frame(chat_id: int, receiver: dict) -> dict:
    """To the offering helper: the chat went to `receiver`; nothing more of it comes here."""
    return {"type": "transferred", "chat": chat_id, "to": receiver}


def colleagues_frame(colleagues: list[dict], max_chats: int, chats: int) -> dict:
    """The other helpers on duty for the helper's lines, and the helper's own free places."""
    return {"type": "colleagues", "colleagues": colleagues, "max_chats": max_chats, "chats": chats}


def time_limit_frame(ends_at: datetime, chat_id=None) -> dict:
    frame = {"type": "time_limit", "ends_at": iso(ends_at)}
    if chat_id is not None:
        frame["chat"] = chat_id
    return frame
