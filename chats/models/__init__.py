"""The chats app's models, one module per part of the design (app label `chats`).

- `lines`: service lines, helper profiles and duty sessions, which every app refers to;
- `chat`: one-to-one chats and their messages, bars and per-address counters;
- `followups`, `groups`: follow-ups with the same helper, scheduled group chats;
- `referrals`: the referral directory;
- `workflow`: a line's load and queue tail, the audit log, the live board.

Code imports them from `chats.models`; the modules below import nothing above the models.
"""

from .chat import AddressCounter, Bar, Chat, ChatQuerySet, Message, PreparedText
from .followups import CodeGuess, FollowUp
from .groups import (
    GroupMessage,
    GroupParticipant,
    GroupSeries,
    GroupSession,
    GroupSessionQuerySet,
)
from .lines import AgeRange, DutySession, HelperProfile, ServiceLine
from .referrals import Referral
from .workflow import AuditEvent, EnrolmentCode, LineLoad, LiveBoard, QueueTail

__all__ = [
    "AgeRange",
    "GroupSeries",
    "Referral",
    "AddressCounter",
    "AuditEvent",
    "Bar",
    "Chat",
    "ChatQuerySet",
    "CodeGuess",
    "DutySession",
    "EnrolmentCode",
    "FollowUp",
    "GroupMessage",
    "GroupParticipant",
    "GroupSession",
    "GroupSessionQuerySet",
    "HelperProfile",
    "LineLoad",
    "LiveBoard",
    "Message",
    "PreparedText",
    "QueueTail",
    "ServiceLine",
]
