"""The wire format: parse and validate incoming frames, build outgoing ones.

Parsers never raise anything but FrameError, whatever bytes arrive; frame builders are the only
place where the contract's field names are spelled.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings

from scheduling.hours import HELSINKI

# The outgoing builders live in chats.frames; re-exported so `protocol.message_frame(...)` works.
from .frames import (  # noqa: F401
    asker_assigned_frame,
    closed_frame,
    colleagues_frame,
    consult_frame,
    dumps,
    empty_frame,
    ended_frame,
    error_frame,
    estimated_position_frame,
    follow_up_fields,
    follow_up_item,
    follow_ups_frame,
    for_moderator,
    group_joined_frame,
    group_message_frame,
    helper_assigned_frame,
    history_frame,
    iso,
    joined_frame,
    letters_frame,
    message_frame,
    participants_frame,
    paused_frame,
    person,
    pinned_frame,
    position_frame,
    queue_frame,
    queued_frame,
    refusal_frame,
    removed_frame,
    service_object,
    session_fields,
    support_frame,
    time_limit_frame,
    transfer_declined_frame,
    transfer_offer_frame,
    transfer_pending_frame,
    transfer_withdrawn_frame,
    transferred_frame,
    typing_frame,
)

LANGUAGES = ("fi", "sv", "en")
MAX_TOKEN_CHARS = 128
MAX_SLUG_CHARS = 50
MAX_TOPICS = 20
MAX_NICKNAME_CHARS = 32
MAX_NOTE_CHARS = 500
MAX_PIN_CHARS = 1000
# A line's age question (docs/workflow.md): ranges only, never a birth date. The keys are line
# settings (chats.models.AgeRange); here only their shape is checked, the line checks the key.
AGE_KEY = re.compile(r"^[a-z0-9_]{1,20}$")
MAX_LIMIT_MINUTES = 240
MAX_COME_BACK_DAYS = 90
MAX_HELPER_NAME_CHARS = 60


class FrameError(Exception):
    """Bad input from a client. `close` says whether the connection ends with it."""

    def __init__(self, code: str, message: str, close: bool = False):
        super().__init__(message)
        self.code, self.message, self.close = code, message, close

    def as_frame(self) -> dict:
        return error_frame(self.code, self.message)


@dataclass
class Frame:
    type: str
    fields: dict = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.fields[name]
        except KeyError:
            raise AttributeError(name) from None


def _storable(value: str, name: str) -> str:
    """Text the database can hold: PostgreSQL refuses NUL, and UTF-8 has no lone surrogates."""
    if "\x00" in value:
        raise FrameError("invalid", f"'{name}' cannot contain NUL characters.")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise FrameError("invalid", f"'{name}' is not valid Unicode text.") from None
    return value


def _text(value, *, name="text") -> str:
    if not isinstance(value, str):
        raise FrameError("invalid", f"'{name}' must be a string.")
    if len(value) > settings.CHAT_MAX_MESSAGE_CHARS:
        raise FrameError(
            "too_long", f"A message can be at most {settings.CHAT_MAX_MESSAGE_CHARS} characters."
        )
    if not value.strip():
        raise FrameError("invalid", "A message cannot be empty.")
    return _storable(value, name)


def _short(value, name: str, limit: int, *, optional=False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value or len(value) > limit:
        raise FrameError("invalid", f"'{name}' must be a string of 1–{limit} characters.")
    return _storable(value, name)


def _chat_id(value) -> int:
    # bool is an int in Python; a chat id is never true/false.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise FrameError("invalid", "'chat' must be a chat id (a positive integer).")
    return value


def _language(value) -> str:
    if value is None:
        return "fi"
    if value not in LANGUAGES:
        raise FrameError("invalid", "'language' must be one of fi, sv, en.")
    return value


def _topics(value) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_TOPICS:
        raise FrameError("invalid", f"'topics' must be a list of at most {MAX_TOPICS} slugs.")
    return [_short(topic, "topics", MAX_SLUG_CHARS) for topic in value]


def _time(value, name: str, *, optional=True) -> datetime | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise FrameError("invalid", f"'{name}' must be an ISO 8601 time.")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise FrameError("invalid", f"'{name}' must be an ISO 8601 time.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=HELSINKI)
    return moment


def _positive_int(value, name: str, limit: int, *, optional=True) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= limit:
        raise FrameError("invalid", f"'{name}' must be a whole number from 1 to {limit}.")
    return value


def _age(value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not AGE_KEY.match(value):
        raise FrameError("invalid", "'age' must be the key of one of the line's age ranges.")
    return value


def _helper_id(value, name: str = "to") -> int:
    """A helper's (or a booking's) id: a positive integer."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise FrameError("invalid", f"'{name}' must be an id (a positive integer).")
    return value


def _colleague(value) -> int | str:
    """A transfer's receiver: a helper id, or a display name among the helpers on duty."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
        return value
    return _short(value, "to", MAX_HELPER_NAME_CHARS)


def _nickname(value) -> str:
    if not isinstance(value, str):
        raise FrameError("invalid", "'nickname' must be a string.")
    # One space between words; no control or format characters that could fake another name.
    name = " ".join(value.split())
    if not 0 < len(name) <= MAX_NICKNAME_CHARS or not name.isprintable():
        raise FrameError("invalid", f"A nickname is 1–{MAX_NICKNAME_CHARS} visible characters.")
    return _storable(name, "nickname")


def _session(f: dict) -> int:
    return _positive_int(f.get("session"), "session", 2**62, optional=False)


def _message_id(value) -> int:
    return _positive_int(value, "id", 2**31, optional=False)


def _pin(value) -> str:
    if value == "":
        return ""  # unpin
    if isinstance(value, str) and len(value) > MAX_PIN_CHARS:
        raise FrameError("too_long", f"A pinned message is at most {MAX_PIN_CHARS} characters.")
    return _text(value)


ASKER_FRAMES = {
    "start": lambda f: {
        "language": _language(f.get("language")),
        "code": _short(f.get("code"), "code", 64, optional=True),
        # Addition: the youth line's age range (docs/workflow.md).
        "age": _age(f.get("age")),
    },
    "resume": lambda f: {"token": _short(f.get("token"), "token", MAX_TOKEN_CHARS)},
    "message": lambda f: {
        "text": _text(f.get("text")),
        "client_id": _short(f.get("client_id"), "client_id", 64, optional=True),
    },
    "typing": lambda f: {},
    "end": lambda f: {},
}

HELPER_FRAMES = {
    "accept_next": lambda f: {"service": _short(f.get("service"), "service", MAX_SLUG_CHARS)},
    "message": lambda f: {
        "chat": _chat_id(f.get("chat")),
        "text": _text(f.get("text")),
        "client_id": _short(f.get("client_id"), "client_id", 64, optional=True),
    },
    "typing": lambda f: {"chat": _chat_id(f.get("chat"))},
    "end": lambda f: {
        "chat": _chat_id(f.get("chat")),
        "topics": _topics(f.get("topics")),
        "follow_up_at": _time(f.get("follow_up_at"), "follow_up_at"),
        # Addition: the helper's private note for the follow-up (docs/follow-ups.md).
        "note": _short(f.get("note"), "note", MAX_NOTE_CHARS, optional=True),
    },
    # Moderators of a group session (contract section 4; docs/groups.md).
    "group_join": lambda f: {
        "service": _short(f.get("service"), "service", MAX_SLUG_CHARS),
        "session": _positive_int(f.get("session"), "session", 2**62),
    },
    "group_message": lambda f: {"session": _session(f), "text": _text(f.get("text"))},
    "group_remove": lambda f: {"session": _session(f), "id": _message_id(f.get("id"))},
    "group_kick": lambda f: {"session": _session(f), "nickname": _nickname(f.get("nickname"))},
    "group_close": lambda f: {"session": _session(f)},
    "group_pin": lambda f: {"session": _session(f), "text": _pin(f.get("text"))},
    # Additions to the contract (docs/protocol.md).
    "bar": lambda f: {
        "chat": _chat_id(f.get("chat")),
        "hours": _positive_int(f.get("hours"), "hours", 24 * 90),
        "topics": _topics(f.get("topics")),
    },
    "pause": lambda f: {"paused": bool(f.get("paused", True))},
    "notice": lambda f: {"chat": _chat_id(f.get("chat")), "text": _text(f.get("text"))},
    "consult": lambda f: {
        "service": _short(f.get("service"), "service", MAX_SLUG_CHARS),
        "text": _text(f.get("text")),
        # Addition (issue 21): a professional's private answer to one helper of the line.
        "to": None if f.get("to") is None else _helper_id(f.get("to")),
    },
    # Addition (issue 21): the shift's professional records a peer's closing debrief.
    "debrief": lambda f: {"booking": _helper_id(f.get("booking"), "booking")},
    # The helper's workflow: transfers, limits, colleagues (docs/workflow.md).
    "transfer": lambda f: {
        "chat": _chat_id(f.get("chat")),
        "to": _colleague(f.get("to")),
        "note": _short(f.get("note"), "note", MAX_NOTE_CHARS, optional=True) or "",
    },
    "transfer_accept": lambda f: {"chat": _chat_id(f.get("chat"))},
    "transfer_decline": lambda f: {"chat": _chat_id(f.get("chat"))},
    "transfer_cancel": lambda f: {"chat": _chat_id(f.get("chat"))},
    "limit": lambda f: {
        "chat": _chat_id(f.get("chat")),
        "minutes": _positive_int(f.get("minutes"), "minutes", MAX_LIMIT_MINUTES, optional=False),
    },
    "come_back_later": lambda f: {
        "chat": _chat_id(f.get("chat")),
        "days": _positive_int(f.get("days"), "days", MAX_COME_BACK_DAYS, optional=False),
        "topics": _topics(f.get("topics")),
    },
    "colleagues": lambda f: {},
}


GROUP_FRAMES = {
    "join": lambda f: {
        "nickname": _nickname(f.get("nickname")),
        "invite": _short(f.get("invite"), "invite", 64, optional=True),
        # Addition: which running session, when a line runs several at once.
        "session": _positive_int(f.get("session"), "session", 2**62),
    },
    "message": lambda f: {"text": _text(f.get("text"))},
}


def parse(text_data, allowed: dict) -> Frame:
    """Parse one client frame against a table of types; raise FrameError on anything else."""
    if text_data is None:
        raise FrameError("bad_json", "Frames must be JSON text, not binary.")
    if len(text_data) > settings.CHAT_MAX_FRAME_BYTES:
        raise FrameError("too_long", "The frame is too large.")
    try:
        data = json.loads(text_data)
    except (ValueError, RecursionError):
        raise FrameError("bad_json", "The frame is not valid JSON.") from None
    if not isinstance(data, dict):
        raise FrameError("bad_json", "A frame must be a JSON object with a 'type'.")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in allowed:
        shown = kind if isinstance(kind, str) and len(kind) <= 40 else "?"
        raise FrameError("unknown_type", f"Unknown frame type {shown!r}.")
    return Frame(kind, allowed[kind](data))


def parse_asker_frame(text_data) -> Frame:
    return parse(text_data, ASKER_FRAMES)


def parse_helper_frame(text_data) -> Frame:
    return parse(text_data, HELPER_FRAMES)


def parse_group_frame(text_data) -> Frame:
    return parse(text_data, GROUP_FRAMES)
