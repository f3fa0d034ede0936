"""Every write of the one-to-one chat: plain, synchronous, transactional functions.

Consumers call these through `database_sync_to_async`; tests call them directly. Each returns
the frames its caller answers with and nudges everyone else through `notify` after commit.
"""

import dataclasses
import functools
import ipaddress
import re
import secrets
import time
from contextlib import nullcontext
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from scheduling import services as scheduling
from stats import services as stats
from verkkoapu import security
from verkkoapu.recent import Recent

from . import notify, protocol
from .errors import Answer, ChatError  # noqa: F401  (also read from here by groups, followups, security)
from .models import Bar, Chat, DutySession, HelperProfile, Message, QueueTail, ServiceLine

TOKEN_BYTES = 24  # 192 bits
QUEUE_TAIL_KEPT = timedelta(minutes=10)
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,128}")


def service_object(line: ServiceLine, at: datetime | None = None) -> dict:
    """The contract's service object: open now, next opening or closing, queue length."""
    if line.kind == ServiceLine.Kind.GROUP:
        from . import groups  # groups builds on this module

        status = groups.line_status(line, at)
    else:
        status = scheduling.line_status(line, at)
    found = {
        "slug": line.slug,
        "name": line.name,
        "kind": line.kind,
        "open": status.open,
        "opens_at": protocol.iso(status.opens_at),
        "closes_at": protocol.iso(status.closes_at),
        "queue_length": Chat.objects.general_queue(line.pk).count(),
    }
    if line.kind == ServiceLine.Kind.ONE_TO_ONE:
        from . import waiting, youth  # both build on this module

        # Additions (docs/workflow.md): would a newcomer be taken into the queue now; does the
        # line ask an age range before the chat.
        found["accepting"] = waiting.outlook(line, at, status).accepting
        found["asks_age"] = youth.asks_age(line)
    return found


def queue_order(line_id: int) -> list[int]:
    return list(Chat.objects.general_queue(line_id).values_list("pk", flat=True))


def position_of(chat: Chat) -> int:
    from . import followups  # followups builds on this module

    if reserved := followups.reserved_position(chat):
        return reserved  # a follow-up waits in its helper's own queue
    return general_position(chat)


def _ahead_of(chat: Chat) -> Q:
    return Q(queued_at__lt=chat.queued_at) | Q(queued_at=chat.queued_at, pk__lt=chat.pk)


def general_position(chat: Chat) -> int:
    """The place of a chat in its line's general queue (not a follow-up's)."""
    return Chat.objects.general_queue(chat.line_id).filter(_ahead_of(chat)).count() + 1


def general_place(chat: Chat) -> tuple[int, int]:
    """A chat's place in its line's general queue and the queue's length, in one query."""
    counts = Chat.objects.general_queue(chat.line_id).aggregate(
        ahead=Count("pk", filter=_ahead_of(chat)), length=Count("pk")
    )
    return counts["ahead"] + 1, counts["length"]


def announce_queue(line: ServiceLine, *, positions_moved: bool, length: int | None = None) -> None:
    """Helpers get the queue's length; waiting askers, when places moved, the order.

    Read after the commit and stamped: of two takes committed at once, each reading inside its
    own transaction would miss the other's claim; the later reading after both commits is the
    truth, and askers keep the newest one they get (consumers.AskerConsumer.queue_order).
    """

    def send():
        from . import waiting  # waiting builds on this module

        at = time.time()
        if not positions_moved:  # a newcomer at the end: only the length changed
            counted = Chat.objects.general_queue(line.pk).count() if length is None else length
            notify.queue_changed(line.slug, None, counted, at=at)
            return
        order = queue_order(line.pk)
        pace = dataclasses.asdict(waiting.cached_pace(line))
        notify.queue_changed(line.slug, order, len(order), at=at, pace=pace)

    transaction.on_commit(send)


# --- Addresses ---------------------------------------------------------------------------------


def client_ip(scope: dict) -> str | None:
    """The asker's address: the socket peer, or a trusted proxy's header about it."""
    peer = (scope.get("client") or [None])[0]
    header = settings.PROXY_IP_HEADER.lower().encode()
    if header and peer in settings.TRUSTED_PROXIES:
        for name, value in scope.get("headers", []):
            if name == header:
                # Rightmost entry not added by one of our own proxies is the client.
                hops = [hop.strip() for hop in value.decode("latin-1").split(",")]
                for hop in reversed(hops):
                    if hop and hop not in settings.TRUSTED_PROXIES:
                        peer = hop
                        break
    try:
        return str(ipaddress.ip_address(peer)) if peer else None
    except ValueError:
        return None


# The address rule (an IPv6 /64 is one address) as a keyed hash: what bars, kicks and limits
# store. The helper still sees the asker's own full address (Chat.asker_ip) during the chat.
address_hash = security.address_hash


# Every start asks whether its address is barred; bars are few. Kept two seconds per process and
# cleared when a bar is saved here (chats/apps.py): a bar set on another process holds within that.
_bars = Recent(2.0)
forget_bars = _bars.forget


def active_bar(ip: str | None, line: ServiceLine, now: datetime) -> Bar | None:
    if not ip:
        return None
    hashed = address_hash(ip)
    bars = _bars.get("all", lambda: list(Bar.objects.order_by("-until")))
    return next(
        (
            bar
            for bar in bars
            if bar.address_hash == hashed and bar.until > now and bar.line_id in (None, line.pk)
        ),
        None,
    )


# --- Asker side --------------------------------------------------------------------------------


# Every start reads its line: kept a few seconds per process, cleared when a line is saved here
# (chats/apps.py). Treat the instance as read-only: other threads hold it too.
_lines = Recent(10.0)


def get_line(slug: str) -> ServiceLine:
    line = _lines.get(slug, lambda: _read_line(slug))
    if not line:
        raise ChatError("not_found", f"No chat line {slug!r}.")
    return line


forget_lines = _lines.forget


def _read_line(slug: str) -> ServiceLine | bool:
    found = ServiceLine.objects.filter(
        slug=slug, active=True, kind=ServiceLine.Kind.ONE_TO_ONE
    ).first()
    return found or False  # an unknown slug is kept too: guessing slugs costs no query


def enqueue_asker(
    slug: str,
    *,
    language: str,
    ip: str | None,
    code: str | None = None,
    age: str | None = None,
    now=None,
) -> Answer:
    """Put a new asker in the line's queue, or say why not (closed, barred, queue full).

    With a follow-up `code` the asker waits for the helper who gave it (chats/followups.py).
    The youth line's `age` range is counted once, and an adult is sent to the adult line.
    """
    if code:
        from . import followups  # followups builds on this module

        return followups.enqueue_with_code(slug, code, language=language, ip=ip, now=now)
    from . import waiting, youth  # both build on this module

    now = now or timezone.now()
    line = get_line(slug)
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
    return Answer([queued], chat.pk, chat=chat)


def refuse_barred(ip: str | None, line: ServiceLine, language: str, now: datetime) -> None:
    bar = active_bar(ip, line, now)
    if bar:
        raise ChatError("blocked", _blocked_message(bar, language), until=protocol.iso(bar.until))


def create_queued_chat(line: ServiceLine, *, language: str, ip: str | None, now) -> Chat:
    """A new chat at the end of the line's general queue, if the address's limits allow it.

    No start lands in front of an asker already told a place, so the places told stay true:
    starts of a line take their places in turn. On PostgreSQL the turn is the line's
    `QueueTail` row, locked by the one statement that also inserts the chat, so outside a
    transaction the turn lasts that statement alone (an opening's burst waits on nothing
    else; docs/performance.md). Inside a caller's transaction (a follow-up's start) it lasts
    until that commits.
    """
    chat = Chat(
        line=line,
        token=secrets.token_urlsafe(TOKEN_BYTES),
        asker_ip=ip,
        language=language,
        queued_at=now,
        asker_seen_at=now,
    )
    if connection.vendor == "postgresql":
        security.count_chat_start(ip, now)
        _insert_at_tail(chat, now)
        _refuse_a_start_too_many(chat, now)
    else:
        with transaction.atomic():
            security.admit_chat_start(ip, now)
            # The line's row is the turn; SQLite has one writer at a time anyway.
            list(ServiceLine.objects.select_for_update().filter(pk=line.pk).values_list("pk"))
            tail = (
                Chat.objects.general_queue(line.pk)
                .order_by("-queued_at", "-pk")
                .values_list("queued_at", flat=True)
                .first()
            )
            chat.queued_at = max(now, tail) if tail else now
            chat.save(force_insert=True)
    # The caller counts the start once it stays (`chats_started` and its kind of contact), after
    # the commit, not in its turn: the counter rows are shared by every start of the line.
    return chat


# The turn and the insert in one statement: the upsert locks the line's tail row (waiting for a
# start before it to commit) and reads its newest version, so the chat's place comes after every
# start committed before it, whatever the clocks of the processes say.
_TAIL_SQL = """
WITH tail AS (
    INSERT INTO {tail} (line_id, at) VALUES (%s, %s)
    ON CONFLICT (line_id) DO UPDATE SET at = GREATEST({tail}.at, EXCLUDED.at)
    RETURNING at
)
INSERT INTO {chat} ({columns}) SELECT {values} FROM tail
RETURNING {pk}, queued_at
"""


def _insert_at_tail(chat: Chat, now: datetime) -> None:
    quote = connection.ops.quote_name
    columns = [column for column in Chat._meta.concrete_fields if not column.primary_key]
    values, params = [], [chat.line_id, now]
    for column in columns:
        if column.attname == "queued_at":
            values.append("tail.at")
        else:
            values.append("%s")
            params.append(column.get_db_prep_save(column.pre_save(chat, add=True), connection))
    sql = _TAIL_SQL.format(
        tail=quote(QueueTail._meta.db_table),
        chat=quote(Chat._meta.db_table),
        columns=", ".join(quote(column.column) for column in columns),
        values=", ".join(values),
        pk=quote(Chat._meta.pk.column),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        chat.pk, chat.queued_at = cursor.fetchone()
    chat._state.adding, chat._state.db = False, connection.alias


def _refuse_a_start_too_many(chat: Chat, now: datetime) -> None:
    """The address's open chats, counted once this one is in: past the limit it is taken back
    and refused. Of starts from one address at the same moment on different threads or
    processes the newest go: each counts only the chats up to its own.

    Exact for one line, whose starts take numbers in their turn. Two lines' starts from one
    address in the same millisecond can still both stay: the limit is against floods, and a
    flood from one address meets the hourly count, which is exact."""
    ip = chat.asker_ip
    if not ip or security.open_chats_from(ip, up_to=chat.pk) <= settings.CHAT_MAX_OPEN_PER_ADDRESS:
        return
    if _take_back(chat, now):
        raise security.too_many_open()


def _take_back(chat: Chat, now: datetime) -> bool:
    """Undo a start refused after its insert: the chat goes, its start is not counted. False
    when a helper took it in the meantime: it stays, answered."""
    if not Chat.objects.filter(pk=chat.pk, status=Chat.Status.QUEUED).delete()[0]:
        return False
    if chat.asker_ip:
        security.uncount_chat_start(chat.asker_ip, now)
    # Helpers may have counted it; a start after it was told a place behind it.
    behind = Chat.objects.general_queue(chat.line_id).filter(queued_at__gte=chat.queued_at)
    announce_queue(chat.line, positions_moved=behind.exists())
    return True


def _blocked_message(bar: Bar, language: str) -> str:
    with translation.override(language):
        until = timezone.localtime(bar.until).strftime("%d.%m.%Y %H:%M")
        if bar.kind == Bar.Kind.COME_BACK_LATER:
            return _(
                "You are welcome to come back to the chat from %(until)s. Until then, chats "
                "from this connection are paused. In an emergency, call 112."
            ) % {"until": until}
        return _("A helper has paused chats from this connection until %(until)s.") % {
            "until": until
        }


def resume_chat(token: str, now=None, ip: str | None = None) -> Answer:
    """Reattach an asker: the whole history, then where they are (position or helper)."""
    now = now or timezone.now()
    security.refuse_token_guessing(ip, now)
    # Tokens are URL-safe base64; anything else (a NUL byte PostgreSQL would refuse) is no token.
    chat = None
    if TOKEN_SHAPE.fullmatch(token):
        chat = Chat.objects.select_related("helper", "line").filter(token=token).first()
    if chat is None:
        security.count_token_miss(ip, now)
        raise ChatError("not_found", "This chat has ended or the token is unknown.")
    Chat.objects.filter(pk=chat.pk).update(asker_seen_at=now)
    messages = list(chat.messages.all())
    frames = [protocol.history_frame([message_frame(m) for m in messages])]
    frames.append(asker_state_frame(chat))
    if chat.ends_at and chat.status == Chat.Status.ACTIVE:
        frames.append(protocol.time_limit_frame(chat.ends_at))  # addition (docs/workflow.md)
    return Answer(frames, chat.pk, seq=messages[-1].seq if messages else 0, chat=chat)


def asker_state_frame(chat: Chat) -> dict:
    if chat.status == Chat.Status.ACTIVE and chat.helper:
        return protocol.asker_assigned_frame(chat.helper.display_name, chat.helper.role)
    return position_frame(chat)


def position_frame(chat: Chat, position: int | None = None) -> dict:
    """`position`, with the estimated wait (addition) for an asker of the general queue."""
    from . import followups, waiting  # both build on this module

    position = position or position_of(chat)
    frame = protocol.position_frame(position)
    if not followups.reserved_position(chat):
        frame["estimate"] = waiting.estimate_for(chat.line, position)
    return frame


def touch_asker(chat_id: int, now=None) -> None:
    Chat.objects.filter(pk=chat_id).update(asker_seen_at=now or timezone.now())


# --- Messages ----------------------------------------------------------------------------------


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


# --- Helper side -------------------------------------------------------------------------------


def accept_next(helper: HelperProfile, slug: str, now=None) -> Answer:
    """Give the longest-waiting asker on the line to this helper; `empty` if nobody waits.

    `at_capacity` when the helper already holds their maximum of chats (chats/duty.py); the
    asker stays in the queue.
    """
    now = now or timezone.now()
    line = helpers_line(helper, slug)
    from . import audit, duty, followups  # these build on this module

    duty.refuse_at_capacity(helper)
    # The helper's own follow-ups first: nobody else may take them.
    while chat := (
        followups.reserved_for(helper, line.pk).first()
        or Chat.objects.general_queue(line.pk).first()
    ):
        with transaction.atomic():
            # One capacity decision at a time for this helper (several tabs or processes).
            duty.lock(helper)
            duty.refuse_at_capacity(helper)
            claimed = Chat.objects.filter(pk=chat.pk, status=Chat.Status.QUEUED).update(
                status=Chat.Status.ACTIVE, helper=helper, assigned_at=now
            )
            if not claimed:
                # 0 rows: another helper (maybe on another process) took this asker; next.
                continue
            chat.refresh_from_db()
            if not chat.requeued:
                stats.increment(line.pk, _day(now), "chats_answered")
                stats.increment(line.pk, _day(now), "answered_by_role", helper.role)
                stats.increment(line.pk, _day(now), "wait", stats.bucket(now - chat.queued_at))
            notify.chat(
                chat.pk, asker=protocol.asker_assigned_frame(helper.display_name, helper.role)
            )
            announce_queue(line, positions_moved=True)
            followups.claimed(helper, chat)
            audit.record(helper, audit.Action.CHAT_TAKEN, line=line, now=now)
        return helper_chat_answer(chat)
    return Answer([protocol.empty_frame(slug)])


def helper_chat_answer(chat: Chat) -> Answer:
    """What a helper's console needs for one of its chats: `assigned`, then the history."""
    from . import followups, transfer  # these build on this module

    messages = list(chat.messages.all())
    assigned = protocol.helper_assigned_frame(chat.pk, chat.line.slug, chat.asker_ip)
    frames = [
        {**assigned, **followups.assigned_extra(chat), **transfer.handover(chat)},
        protocol.history_frame([message_frame(m, chat.pk) for m in messages], chat.pk),
    ]
    if chat.ends_at:
        frames.append(protocol.time_limit_frame(chat.ends_at, chat.pk))
    return Answer(
        frames,
        chat.pk,
        seq=messages[-1].seq if messages else 0,
        chat=chat,
    )


def helper_chats(helper: HelperProfile) -> list[Chat]:
    return list(Chat.objects.active().filter(helper=helper).select_related("line"))


def own_chat(helper: HelperProfile, chat_id: int) -> Chat:
    chat = Chat.objects.active().filter(pk=chat_id, helper=helper).select_related("line").first()
    if chat is None:
        raise not_your_chat()
    return chat


def not_your_chat() -> ChatError:
    """The one answer for a chat that is not the helper's, or no longer exists."""
    return ChatError("not_found", _("No such chat of yours; it may have ended."))


def helpers_line(helper: HelperProfile, slug: str) -> ServiceLine:
    """One of the helper's active lines, or `not_found`."""
    line = helper.lines.filter(slug=slug, active=True).first()
    if line is None:
        raise ChatError("not_found", _("You are not a helper of %(line)s.") % {"line": slug})
    return line


def send_notice(helper: HelperProfile, chat_id: int, text: str, now=None) -> Message:
    """The helper's notice (e.g. of the duty to report): the asker sees it as a system message."""
    from . import audit  # audit builds on the models only; imported here like the others

    chat = own_chat(helper, chat_id)
    with transaction.atomic():
        message = post_message(chat_id, Message.Sender.SYSTEM, text, helper=helper, now=now)
        audit.record(helper, audit.Action.NOTICE, line=chat.line, now=now)
    return message


def consult(helper: HelperProfile, slug: str, text: str, now=None) -> dict:
    """A note to the helpers on duty for the line: never stored, never shown to an asker."""
    helpers_line(helper, slug)
    return protocol.consult_frame(
        slug, helper.display_name, helper.role, text, now or timezone.now()
    )


# --- Ending ------------------------------------------------------------------------------------


def end_chat(
    chat_id: int, *, by: str, topics=(), now=None, follow_up=None, reason: str | None = None
) -> bool:
    """End a chat: count it, erase it (texts, token, address), tell both sides.

    Returns False when the chat had already ended (another process or side got there first).
    `reason` (addition) tells the clients why: `time_limit`, `come_back_later`, `bar`.
    """
    from . import waiting  # waiting builds on this module

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


def checked_topics(chat: Chat, topics: list[str]) -> list[str]:
    """The topics, once each, if every one is an active topic of the chat's line."""
    known = set(chat.line.topics.filter(active=True).values_list("slug", flat=True))
    unknown = sorted(set(topics) - known)
    if unknown:
        raise ChatError(
            "unknown_topic",
            _("Unknown topic(s) for this line: %(topics)s.") % {"topics": ", ".join(unknown)},
        )
    return sorted(set(topics))


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
    from . import audit  # audit builds on the models only; imported here like the others

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
                address_hash=address_hash(chat.asker_ip),
                line=chat.line,
                until=until,
                created_at=now,
            )
        if kind == Bar.Kind.COME_BACK_LATER:
            system_message(chat, lambda: _come_back_text(until))
        else:
            system_message(
                chat,
                lambda: _(
                    "The helper has ended this chat and paused new chats from this connection "
                    "for a while."
                ),
            )
        action = (
            audit.Action.COME_BACK_LATER if kind == Bar.Kind.COME_BACK_LATER else audit.Action.BAR
        )
        duration = f"{days} d" if days else f"{int(length.total_seconds() // 3600)} h"
        audit.record(helper, action, line=chat.line, detail=duration, now=now)
        end_chat(chat_id, by="helper", topics=topics, now=now, reason=kind)
    return bar


def _come_back_text(until: datetime) -> str:
    return _(
        "Thank you for writing. Let us pause here for now: you are welcome to come back to the "
        "chat from %(date)s. If you need help at once, call 112 in an emergency."
    ) % {"date": timezone.localtime(until).strftime("%d.%m.%Y %H:%M")}


def _day(moment: datetime):
    return timezone.localtime(moment).date()


# --- Presence ----------------------------------------------------------------------------------


def start_duty(helper: HelperProfile, channel_name: str, now=None) -> None:
    now = now or timezone.now()
    DutySession.objects.update_or_create(
        channel_name=channel_name,
        defaults={"helper": helper, "started_at": now, "seen_at": now},
    )


def touch_duty(channel_name: str, now=None) -> None:
    DutySession.objects.filter(channel_name=channel_name).update(seen_at=now or timezone.now())


def end_duty(channel_name: str, now=None) -> None:
    # The row stays, marked by its last-seen time, until the sweep: the helper's chats wait a
    # grace period for a reconnect before they go back to the queue.
    DutySession.objects.filter(channel_name=channel_name).update(
        seen_at=now or timezone.now(), connected=False
    )


def sweep(now=None) -> dict:
    """End chats whose asker is gone, requeue chats whose helper is gone; keep length limits
    and expire unanswered transfer offers (docs/workflow.md). Idempotent."""
    from . import limits, transfer  # both build on this module

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
    ended += scheduling.close_unserved_queues(now)
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
            from . import transfer  # transfer builds on this module

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
