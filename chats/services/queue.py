"""The general queue of a one-to-one line: its order, places, the line read per start, a new
chat at the tail (the address limits counted in the same turn), and what helpers and waiting
askers are told when it changes."""

import dataclasses
import secrets
import time
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from verkkoapu import addresses
from verkkoapu.recent import Recent

from .. import notify, waiting
from ..errors import ChatError
from ..models import Chat, QueueTail, ServiceLine

TOKEN_BYTES = 24  # 192 bits


def open_chats_from(ip: str, up_to: int | None = None) -> int:
    """Queued or live one-to-one chats whose asker has this address (or its IPv6 /64); with
    `up_to`, only those started no later than that chat."""
    key = addresses.limit_key(ip)
    chats = Chat.objects.all() if up_to is None else Chat.objects.filter(pk__lte=up_to)
    if ":" not in key:
        return chats.filter(asker_ip=key).count()
    ips = chats.filter(asker_ip__contains=":").values_list("asker_ip", flat=True)
    return sum(1 for address in ips if addresses.limit_key(address) == key)


def too_many_open() -> ChatError:
    """`rate_limited` with `limit` "open_chats" (the widget asks to end the chat in another tab)."""
    return ChatError(
        "rate_limited",
        "This connection already has open chats. End one before a new one.",
        limit="open_chats",
    )


def admit_chat_start(ip: str | None, now: datetime) -> None:
    """Refuse (`rate_limited`) a new chat from an address that holds or started too many.

    Call inside the transaction that creates the chat: a refusal rolls its count back, and the
    counter row's lock makes one address's starts take turns across processes.
    """
    if not ip:
        return  # no address to count by (a local socket); nothing to limit
    addresses.count_chat_start(ip, now)
    if open_chats_from(ip) >= settings.CHAT_MAX_OPEN_PER_ADDRESS:
        raise too_many_open()


def queue_order(line_id: int) -> list[int]:
    return list(Chat.objects.general_queue(line_id).values_list("pk", flat=True))


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

        at = time.time()
        if not positions_moved:  # a newcomer at the end: only the length changed
            counted = Chat.objects.general_queue(line.pk).count() if length is None else length
            notify.queue_changed(line.slug, None, counted, at=at)
            return
        order = queue_order(line.pk)
        pace = dataclasses.asdict(waiting.cached_pace(line))
        notify.queue_changed(line.slug, order, len(order), at=at, pace=pace)

    transaction.on_commit(send)


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
        addresses.count_chat_start(ip, now)
        _insert_at_tail(chat, now)
        _refuse_a_start_too_many(chat, now)
    else:
        with transaction.atomic():
            admit_chat_start(ip, now)
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
    if not ip or open_chats_from(ip, up_to=chat.pk) <= settings.CHAT_MAX_OPEN_PER_ADDRESS:
        return
    if _take_back(chat, now):
        raise too_many_open()


def _take_back(chat: Chat, now: datetime) -> bool:
    """Undo a start refused after its insert: the chat goes, its start is not counted. False
    when a helper took it in the meantime: it stays, answered."""
    if not Chat.objects.filter(pk=chat.pk, status=Chat.Status.QUEUED).delete()[0]:
        return False
    if chat.asker_ip:
        addresses.uncount_chat_start(chat.asker_ip, now)
    # Helpers may have counted it; a start after it was told a place behind it.
    behind = Chat.objects.general_queue(chat.line_id).filter(queued_at__gte=chat.queued_at)
    announce_queue(chat.line, positions_moved=behind.exists())
    return True


def touch_asker(chat_id: int, now=None) -> None:
    Chat.objects.filter(pk=chat_id).update(asker_seen_at=now or timezone.now())


def _day(moment: datetime):
    return timezone.localtime(moment).date()
