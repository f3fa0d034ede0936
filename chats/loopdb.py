"""The commonest statements of a chat, run on PostgreSQL straight from the event loop.

Every other piece of database work crosses to a pool thread (`runtime.db`) and back. For the
frames that make most of a busy process's traffic — a message, an asker's heartbeat — that hop
was most of the cost: the event loop and the database threads took turns on the interpreter
several times per message, and the latency tail was those turns (docs/performance.md, item 16).
Here those statements run on psycopg's asyncio connections instead, one round trip each.

Only the common case is handled here. Anything unusual — a resend whose `client_id` is stored
already, a chat that is not writable, a connection the server has cut — returns None and the
caller falls back to the full, synchronous path in `chats/services/`, which knows every rule.
Elsewhere (SQLite, or `CHAT_LOOP_DB` off) `enabled()` is False and nothing here runs.
"""

import asyncio
import functools
import logging
import weakref

import psycopg
from django.conf import settings
from django.db import connection
from django.utils import timezone

from . import notify, services
from .models import Chat, Message

log = logging.getLogger(__name__)


def enabled() -> bool:
    return settings.CHAT_LOOP_DB and _vendor() == "postgresql"


# On the event loop, Django's `connection` is a new DatabaseWrapper in every task's context
# (asgiref's Local is per context there): built, with its operations, features and
# introspection, for one attribute. Read what is needed of it once per process instead.
@functools.cache
def _vendor() -> str:
    return connection.vendor


class LoopPool:
    """A few autocommit connections of one event loop, opened when first needed. Not
    psycopg_pool's: that runs tasks of its own in the loop, and tests start a loop per test."""

    def __init__(self, size: int):
        self.idle: list[psycopg.AsyncConnection] = []
        self.every: set[psycopg.AsyncConnection] = set()
        self.slots = asyncio.Semaphore(size)

    async def fetch(self, sql: str, params, *, many=False):
        """The first row (None if none), or with `many` a list of all of them."""
        async with self.slots:
            conn = self.idle.pop() if self.idle else await self._connect()
            try:
                cursor = await conn.execute(sql, params)
                rows = await (cursor.fetchall() if many else cursor.fetchone())
            except BaseException:
                # The connection's state is unknown (cut, cancelled mid-statement): never reuse it.
                self._forget(conn)
                raise
            self.idle.append(conn)
            return rows

    async def _connect(self) -> psycopg.AsyncConnection:
        params = connection.get_connection_params()
        # Django's own cursor class and adapters are for its synchronous connections.
        for key in ("cursor_factory", "context"):
            params.pop(key, None)
        # A handful of statements, run thousands of times: prepared on first use, the server
        # parses and plans each once per connection. Django leaves preparing off by default for
        # the sake of connection poolers; an explicit OPTIONS["prepare_threshold"] rules here too.
        if "prepare_threshold" not in connection.settings_dict["OPTIONS"]:
            params["prepare_threshold"] = 0
        conn = await psycopg.AsyncConnection.connect(**params, autocommit=True)
        self.every.add(conn)
        return conn

    def _forget(self, conn):
        self.every.discard(conn)
        conn.pgconn.finish()

    def close(self):
        """Synchronous, so it also works once the loop is gone (libpq's PQfinish)."""
        for conn in list(self.every):
            self._forget(conn)
        self.idle.clear()


_pools: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopPool]" = (
    weakref.WeakKeyDictionary()
)


def pool() -> LoopPool:
    loop = asyncio.get_running_loop()
    found = _pools.get(loop)
    if found is None:
        for other, stale in list(_pools.items()):
            if other.is_closed():  # a finished test's loop: its sessions would outlive it
                stale.close()
                _pools.pop(other, None)
        found = _pools[loop] = LoopPool(settings.CHAT_LOOP_DB_CONNECTIONS)
    return found


def close_all():
    for stale in list(_pools.values()):
        stale.close()
    _pools.clear()


async def attempt(sql: str, params, *, many=False):
    """One statement; None when it failed for any reason (the caller takes the slow path)."""
    try:
        return await pool().fetch(sql, params, many=many)
    except psycopg.Error as error:
        log.debug("loop statement failed, taking the slow path: %s", error)
        return None


# --- The statements --------------------------------------------------------------------------


async def store_message(chat_id: int, sender: str, text: str, *, helper=None, client_id=None):
    """Store and announce a message in one round trip; None: take `services.post_message`.
    Only messages with a `client_id` (the widget and the console always send one): a statement
    cut off by a lost connection may have committed, and only a `client_id` makes the slow
    path's second try find it instead of storing it twice."""
    if not client_id or not enabled():
        return None
    fields = {"sender": sender, "text": text, "sent_at": timezone.now(), "client_id": client_id}
    sql, params = services.store_statement(chat_id, helper, fields)
    row = await attempt(sql, params)
    if row is None:
        return None
    message = Message(pk=row[0], chat_id=chat_id, seq=row[1], **fields)
    await notify.chat_now(chat_id, **services.message_nudge(message))
    return message


@functools.cache
def _chat_sql(template: str) -> str:
    quote = services.quote_name
    return template.format(chat=quote(Chat._meta.db_table), message=quote(Message._meta.db_table))


async def touch_asker(chat_id: int) -> tuple | None:
    """The asker is still here (the sweep ends chats whose asker is gone); None: not done."""
    if not enabled():
        return None
    sql = _chat_sql("UPDATE {chat} SET asker_seen_at = %s WHERE id = %s RETURNING id")
    return await attempt(sql, [timezone.now(), chat_id])


async def chat_state(chat_id: int) -> tuple[str, int] | None:
    """The chat's status and last message number; None: not known here (ask the slow path)."""
    if not enabled():
        return None
    return await attempt(_chat_sql("SELECT status, last_seq FROM {chat} WHERE id = %s"), [chat_id])


async def messages_after(chat_id: int, seq: int) -> list[Message] | None:
    """A chat's messages past `seq`, in order (a catch-up); None: ask the slow path."""
    if not enabled():
        return None
    sql = _chat_sql(
        "SELECT id, seq, sender, text, sent_at, client_id FROM {message}"
        " WHERE chat_id = %s AND seq > %s ORDER BY seq"
    )
    rows = await attempt(sql, [chat_id, seq], many=True)
    if rows is None:
        return None
    return [
        Message(pk=pk, chat_id=chat_id, seq=n, sender=sender, text=text, sent_at=at, client_id=cid)
        for pk, n, sender, text, at, cid in rows
    ]
