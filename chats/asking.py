"""The asker's side of a one-to-one line: the service object, a start (with a follow-up code, the
youth line's age, the waiting estimate), a resume, and where a waiting asker stands.

It sits above chats.services and the features it asks (followups, groups, waiting, youth)."""

import re
from datetime import datetime

from django.utils import timezone

from scheduling import services as scheduling
from stats import services as stats
from verkkoapu import addresses

from . import followups, groups, protocol, waiting, youth
from .errors import Answer, ChatError
from .models import Chat, ServiceLine
from .services.bars import refuse_barred
from .services.messages import message_frame
from .services.queue import (
    _day,
    _take_back,
    announce_queue,
    create_queued_chat,
    general_place,
    general_position,
    get_line,
)

TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,128}")


def service_object(line: ServiceLine, at: datetime | None = None) -> dict:
    """The contract's service object: open now, next opening or closing, queue length."""
    if line.kind == ServiceLine.Kind.GROUP:
        status = groups.line_status(line, at)
    else:
        status = scheduling.line_status(line, at)
    additions = {}
    if line.kind == ServiceLine.Kind.ONE_TO_ONE:
        # Additions (docs/workflow.md): would a newcomer be taken into the queue now; does the
        # line ask an age range before the chat.
        additions["accepting"] = waiting.outlook(line, at, status).accepting
        additions["asks_age"] = youth.asks_age(line)
    queue_length = Chat.objects.general_queue(line.pk).count()
    return protocol.service_object(
        line.slug, line.name, line.kind, status, queue_length, **additions
    )


def position_of(chat: Chat) -> int:
    if reserved := followups.reserved_position(chat):
        return reserved  # a follow-up waits in its helper's own queue
    return general_position(chat)


def position_frame(chat: Chat, position: int | None = None) -> dict:
    """`position`, with the estimated wait (addition) for an asker of the general queue."""
    position = position or position_of(chat)
    if followups.reserved_position(chat):
        return protocol.position_frame(position)
    return protocol.estimated_position_frame(position, waiting.estimate_for(chat.line, position))


def with_helper(chat: Chat) -> bool:
    """An asker with a helper is told `assigned`; any other waits in a queue."""
    return chat.status == Chat.Status.ACTIVE and chat.helper is not None


def asker_state_frame(chat: Chat) -> dict:
    """`assigned` for an asker with a helper, else `position` (with the estimate)."""
    if with_helper(chat):
        return protocol.asker_assigned_frame(chat.helper.display_name, chat.helper.role)
    return position_frame(chat)


def refuse_outsider(line: ServiceLine, user) -> None:
    """A practice line's asker is one of its trainees (a logged-in helper of the line) playing
    the part through the practice link; nobody else reaches it (issue 21)."""
    helper = getattr(user, "helper", None) if user is not None and user.is_authenticated else None
    if helper is None or not helper.lines.filter(pk=line.pk).exists():
        raise ChatError("not_found", f"No chat line {line.slug!r}.")


def enqueue_asker(
    slug: str,
    *,
    language: str,
    ip: str | None,
    code: str | None = None,
    age: str | None = None,
    now=None,
    user=None,
) -> Answer:
    """Put a new asker in the line's queue, or say why not (closed, barred, queue full).

    With a follow-up `code` the asker waits for the helper who gave it (chats/followups.py).
    The youth line's `age` range is counted once, and an adult is sent to the adult line.
    """
    if code:
        return followups.enqueue_with_code(slug, code, language=language, ip=ip, now=now)

    now = now or timezone.now()
    line = get_line(slug)
    if line.practice:
        refuse_outsider(line, user)
    refuse_barred(ip, line, language, now)
    status = scheduling.line_status(line, now)
    if not status.open:
        return Answer([protocol.closed_frame(status.opens_at)])
    youth.refuse_adult(line, age, language)
    chat = create_queued_chat(line, language=language, ip=ip, now=now)
    # The cut-off is judged on the queue the newcomer joined: the askers ahead of them.
    position, length = general_place(chat)
    try:
        pace = waiting.refuse_if_full(line, status, language, now, ahead=position - 1)
    except ChatError:
        if _take_back(chat, now):
            raise
        pace = waiting.cached_pace(line)  # a helper took the chat meanwhile: it stays
    stats.increment_each(line.pk, _day(now), [("chats_started", ""), ("contact", "first")])
    youth.count_age(line, age, now)
    announce_queue(line, positions_moved=False, length=length)
    queued = protocol.queued_frame(chat.token, position)
    queued["estimate"] = waiting.estimate_field(position, pace)  # addition: a range, or null
    return Answer([queued], chat.pk, chat=chat, position=position)


def resume_chat(token: str, now=None, ip: str | None = None) -> Answer:
    """Reattach an asker: the whole history, then where they are (position or helper)."""
    now = now or timezone.now()
    addresses.refuse_token_guessing(ip, now)
    # Tokens are URL-safe base64; anything else (a NUL byte PostgreSQL would refuse) is no token.
    chat = None
    if TOKEN_SHAPE.fullmatch(token):
        chat = Chat.objects.select_related("helper", "line").filter(token=token).first()
    if chat is None:
        addresses.count_token_miss(ip, now)
        raise ChatError("not_found", "This chat has ended or the token is unknown.")
    Chat.objects.filter(pk=chat.pk).update(asker_seen_at=now)
    messages = list(chat.messages.all())
    frames = [protocol.history_frame([message_frame(m) for m in messages])]
    state = asker_state_frame(chat)
    frames.append(state)
    if chat.ends_at and chat.status == Chat.Status.ACTIVE:
        frames.append(protocol.time_limit_frame(chat.ends_at))  # addition (docs/workflow.md)
    answer = Answer(frames, chat.pk, seq=messages[-1].seq if messages else 0, chat=chat)
    if with_helper(chat):
        answer.assigned = state
    else:
        answer.position = state["position"]
    return answer
