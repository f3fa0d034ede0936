"""WebSocket consumers: connection state only. Queue order, claims and privacy live in services.

Each consumer remembers the last message id (`seq`) it has sent for a chat. Messages reach it
as layer nudges or as answers to its own writes, in any order; whenever one arrives past a gap
the consumer reads the missing ones from the database first, so a lost or late nudge never
loses or reorders a message.
"""

import asyncio
import gc
import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from channels.consumer import get_handler_name
from channels.db import aclose_old_connections, database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from verkkoapu import metrics, security

from . import (
    duty,
    followups,
    groups,
    layer,
    limits,
    loopdb,
    notify,
    protocol,
    services,
    transfer,
    waiting,
)
from .moderation import ModeratorMixin
from .protocol import FrameError
from .services import ChatError

log = logging.getLogger(__name__)

CLOSE_FORBIDDEN = 4403
CLOSE_FLOOD = 4429


# One pool of database threads per process, for the life of the process. Not the event loop's
# default executor: a thread that dies with its loop (each test has its own) keeps its pooled
# PostgreSQL connection checked out forever, and the pool ran dry after ~20 socket tests.
DB_EXECUTOR = ThreadPoolExecutor(max_workers=settings.CHAT_DB_THREADS, thread_name_prefix="db")


def db(function):
    """Database work off the event loop on a pool of threads. Channels' default (one thread per
    process) queued every query of every socket behind each other: an opening burst waited
    seconds for `queued` (bench/, docs/performance.md). Services are safe to run concurrently:
    they already are, across processes. The nudges the work makes are sent from the event loop
    once it is done, in order, also when it raised (notify.collected)."""

    def collecting(*args, **kwargs):
        with notify.collected() as outbox:
            try:
                return function(*args, **kwargs), outbox
            except Exception as error:
                error.nudges = outbox
                raise

    run = database_sync_to_async(collecting, thread_sensitive=False, executor=DB_EXECUTOR)

    async def call(*args, **kwargs):
        try:
            result, outbox = await run(*args, **kwargs)
        except Exception as error:
            await notify.deliver(getattr(error, "nudges", ()))
            raise
        await notify.deliver(outbox)
        return result

    return call


async def loop_or_thread(in_loop, on_thread, *args, **kwargs):
    """The event loop's statement when it can (chats/loopdb.py: None means it could not), else
    the same work on a database thread through `services`, which knows every rule."""
    found = await in_loop(*args, **kwargs)
    return found if found is not None else await db(on_thread)(*args, **kwargs)


async def store_message(chat_id: int, sender: str, text: str, **who) -> services.Message:
    """A message in one round trip when it can; a resend or a chat not writable on a thread."""
    return await loop_or_thread(
        loopdb.store_message, services.post_message, chat_id, sender, text, **who
    )


async def messages_after(chat_id: int, seq: int) -> list[services.Message]:
    return await loop_or_thread(loopdb.messages_after, services.messages_after, chat_id, seq)


class RateLimiter:
    """At most `limit` frames per `window` seconds (a token bucket), per socket."""

    def __init__(self, limit: int, window: float):
        self.limit, self.rate = limit, limit / window
        self.tokens, self.stamp = float(limit), time.monotonic()
        self.refused = 0

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.limit, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            self.refused = 0
            return True
        self.refused += 1
        return False


class _Sweeper:
    """One background sweep per process: ends chats of vanished askers, requeues orphans."""

    task: asyncio.Task | None = None

    @classmethod
    def ensure_running(cls):
        if cls.task is None or cls.task.done():
            cls.task = asyncio.get_running_loop().create_task(cls.run())

    @classmethod
    async def run(cls):
        collected = time.monotonic()
        while True:
            await asyncio.sleep(settings.CHAT_SWEEP_SECONDS)
            metrics.count_sweep()
            for sweep in (services.sweep, groups.sweep, followups.sweep):
                try:
                    await db(sweep)()
                except Exception:
                    log.exception("sweep failed; retrying at the next interval")
            if time.monotonic() - collected >= settings.CHAT_GC_SECONDS:
                collected = time.monotonic()
                collect_garbage()


def collect_garbage() -> float:
    """A full collection of the process's own objects (verkkoapu/asgi.py froze the start-up's):
    a closed socket's daphne and autobahn objects hold each other in cycles that only a full
    collection frees, and the collector's own schedule, driven by allocations that outlive
    their moment, came to one only every 15-20 minutes of a busy process; its memory grew
    until then (docs/performance.md, item 19). Seconds taken."""
    began = time.monotonic()
    gc.collect()
    took = time.monotonic() - began
    if took > 0.1:
        log.warning("a full garbage collection took %.0f ms", took * 1000)
    return took


class BaseChatConsumer(AsyncJsonWebsocketConsumer):
    parser = None  # set by subclasses

    async def connect(self):
        self.limiter = RateLimiter(settings.CHAT_RATE_MESSAGES, settings.CHAT_RATE_WINDOW)
        self.groups_joined: set[str] = set()
        self.heartbeat = None
        _Sweeper.ensure_running()
        layer.consumers.add(self)
        layer.Watch.ensure_running()

    async def join(self, group: str):
        if group not in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.add(group)

    async def leave(self, group: str):
        if group in self.groups_joined:
            self.groups_joined.discard(group)
            await self.channel_layer.group_discard(group, self.channel_name)

    async def disconnect(self, code):
        layer.consumers.discard(self)
        if self.heartbeat:
            self.heartbeat.cancel()
        for group in list(self.groups_joined):
            try:
                await self.leave(group)
            except Exception:
                # The layer may be down (Redis restarting); its groups expire on their own.
                self.groups_joined.discard(group)

    async def dispatch(self, message):
        """Channels' own, less its hop to the one thread-sensitive executor to close stale
        database connections before every frame and nudge: `db()` calls run on pool threads
        that close their own (channels.db), and that hop was a queue of its own under load."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def layer_rejoin(self, event):
        """Redis came back (chats/layer.py): its groups are gone, and nudges may be missing."""
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.catch_up_after_outage()

    async def catch_up_after_outage(self):
        pass

    def renew_seconds(self) -> float:
        """A quarter of the layer's group_expiry: renewing is a Redis write per group, so not
        at every heartbeat (it was, and cost a busy process a tenth of its time)."""
        expiry = getattr(self.channel_layer, "group_expiry", None)
        return expiry / 4 if expiry else float("inf")

    async def renew_groups(self):
        # The layer forgets a member after its group_expiry (channels-redis: 3600 s here),
        # but sockets live longer: a group session, a helper's shift. Joining again renews.
        for group in list(self.groups_joined):
            try:
                await self.channel_layer.group_add(group, self.channel_name)
            except Exception:
                log.warning("could not renew a layer group; retrying at the next beat")

    async def recheck_soon(self):
        """A nudge can be dropped without any error: a server far behind fills its layer
        inbox (`capacity`) or lets nudges expire (`expiry`), and bench/ saw the last messages of
        a chat never arrive. With each heartbeat the socket asks itself, through its own
        channel so it runs in turn with its other events, to read what it may have missed."""
        try:
            await self.channel_layer.send(self.channel_name, {"type": "chat.recheck"})
        except Exception:
            pass  # the layer is down: chats/layer.py catches everyone up when it is back

    async def chat_recheck(self, event):
        pass

    def start_heartbeat(self, touch):
        """`touch`: a coroutine function; False from it closes the socket (a login is over)."""

        async def beat():
            renewed = time.time()
            while True:
                # ±20 %: sockets opened together (an opening, a reconnect after a restart)
                # drift apart instead of beating in step, which made a busy process stutter.
                await asyncio.sleep(settings.CHAT_HEARTBEAT_SECONDS * random.uniform(0.8, 1.2))
                if time.time() - renewed >= self.renew_seconds():
                    renewed = time.time()
                    await self.renew_groups()
                await self.recheck_soon()
                try:
                    alive = await touch()
                except Exception:
                    log.warning("heartbeat failed; retrying")
                    continue
                if alive is False:  # the login behind the socket is over (helper sockets)
                    await self.close(code=CLOSE_FORBIDDEN)
                    return

        if self.heartbeat is None:
            self.heartbeat = asyncio.get_running_loop().create_task(beat())

    async def receive(self, text_data=None, bytes_data=None):
        if not self.limiter.allow():
            await self.send_json(
                protocol.error_frame(
                    "rate_limited", "Too many frames; slow down and resend.", limit="frames"
                )
            )
            if self.limiter.refused > settings.CHAT_RATE_MESSAGES * 5:
                await self.close(code=CLOSE_FLOOD)
            return
        try:
            frame = type(self).parser(text_data)
        except FrameError as error:
            await self.send_json(error.as_frame())
            if error.close:
                await self.close()
            return
        try:
            await getattr(self, f"handle_{frame.type}")(frame)
        except ChatError as error:
            await self.send_json(error.as_frame())

    @classmethod
    async def encode_json(cls, content):
        return protocol.dumps(content)


class AskerConsumer(BaseChatConsumer):
    """`/ws/ask/<slug>/`: one anonymous asker; no cookie, no session."""

    parser = staticmethod(protocol.parse_asker_frame)

    async def connect(self):
        await super().connect()
        self.slug = self.scope["url_route"]["kwargs"]["slug"]
        self.chat_id = None
        self.last_seq = 0
        self.position = None
        self.assigned = None  # the last `assigned` frame sent: a nudge and a recheck both bring it
        self.order_read_at = 0.0
        self.token_misses = 0
        await self.accept()

    async def disconnect(self, code):
        if self.chat_id:
            # The grace period for the asker to come back counts from now.
            try:
                await db(services.touch_asker)(self.chat_id)
            except Exception:
                log.warning("could not record the asker's departure")
        await super().disconnect(code)

    async def _attach(self, answer: services.Answer, queued: bool):
        self.chat_id, self.last_seq = answer.chat_id, answer.seq
        await self.join(notify.chat_group(self.chat_id))
        if queued:
            await self.join(notify.queue_group(self.slug))
        self.start_heartbeat(self._touch)

    async def _touch(self):
        await loop_or_thread(loopdb.touch_asker, services.touch_asker, self.chat_id)

    async def handle_start(self, frame):
        if self.chat_id:
            raise ChatError("invalid", "This connection already has a chat; end it first.")
        # In the queue's group before joining the queue: a take committed just after this start
        # reaches this socket as a new order instead of passing it by.
        await self.join(notify.queue_group(self.slug))
        try:
            answer = await db(services.enqueue_asker)(
                self.slug,
                language=frame.language,
                ip=services.client_ip(self.scope),
                code=frame.code,
                age=frame.age,
            )
        except ChatError:
            await self.leave(notify.queue_group(self.slug))
            raise
        if answer.chat_id:
            await self._attach(answer, queued=True)
            self.position = answer.frames[0]["position"]
        else:
            await self.leave(notify.queue_group(self.slug))
        for out in answer.frames:
            await self.send_json(out)

    async def handle_resume(self, frame):
        # Guessing tokens: a few unknown ones per socket, and per address on every process.
        if self.token_misses >= settings.CHAT_MAX_TOKEN_MISSES_PER_SOCKET:
            raise ChatError(
                "rate_limited", "Too many unknown chats on this connection.", limit="token_misses"
            )
        try:
            answer = await db(services.resume_chat)(frame.token, ip=services.client_ip(self.scope))
        except ChatError as error:
            self.token_misses += error.code == "not_found"
            raise
        if self.chat_id and self.chat_id != answer.chat_id:
            await self.leave(notify.chat_group(self.chat_id))
        queued = answer.frames[-1]["type"] == "position"
        await self._attach(answer, queued=queued)
        for out in answer.frames:
            await self.send_json(out)
        self.position = answer.frames[-1].get("position")
        self.assigned = next((f for f in answer.frames if f["type"] == "assigned"), None)
        # Anything posted between reading the history and joining the group.
        await self._catch_up()

    async def handle_message(self, frame):
        chat_id = self._require_chat()
        message = await store_message(chat_id, "asker", frame.text, client_id=frame.client_id)
        if message.seq <= self.last_seq:
            # A resend of a stored message: echo it again so the client can match it.
            await self.send_json(services.message_frame(message))
        await self._deliver(message.seq, services.message_frame(message))

    async def handle_typing(self, frame):
        await notify.typing(self._require_chat(), by="asker")

    async def handle_end(self, frame):
        chat_id = self._require_chat()
        await db(services.end_chat)(chat_id, by="asker")
        await self._ended(protocol.ended_frame("asker"))

    def _require_chat(self) -> int:
        if not self.chat_id:
            raise ChatError("not_found", "There is no chat on this connection; start or resume.")
        return self.chat_id

    async def _catch_up(self):
        for message in await messages_after(self.chat_id, self.last_seq):
            await self.send_json(services.message_frame(message))
            self.last_seq = message.seq

    async def _deliver(self, seq: int, frame: dict):
        if seq <= self.last_seq:
            return  # already sent (the nudge for our own echo, or a catch-up)
        if seq > self.last_seq + 1:
            await self._catch_up()
            return
        await self.send_json(frame)
        self.last_seq = seq

    async def _ended(self, frame):
        if self.chat_id is None:
            return
        await self.leave(notify.chat_group(self.chat_id))
        await self.leave(notify.queue_group(self.slug))
        self.chat_id = None
        if self.heartbeat:
            self.heartbeat.cancel()
            self.heartbeat = None
        await self.send_json(frame)

    async def chat_event(self, event):
        frame = event.get("asker")
        if frame is None or self.chat_id is None:
            return
        kind = frame["type"]
        if kind == "message":
            await self._deliver(frame["id"], frame)
        elif kind == "ended":
            await self._ended(frame)
        elif kind == "assigned":
            await self._assigned(frame)
        else:
            if kind == "position":
                await self.join(notify.queue_group(self.slug))
                self.position = frame["position"]
            await self.send_json(frame)

    async def catch_up_after_outage(self):
        await self.chat_recheck({"type": "chat.recheck"})

    async def _refresh(self):
        """Where the asker is now (`assigned`, `position`, `ended`), then missed messages."""
        state = await db(_asker_state)(self.chat_id)
        if state is None:  # the chat ended meanwhile
            await self._ended(protocol.ended_frame("system"))
            return
        if state["type"] == "assigned":
            await self._assigned(state)
        elif state["type"] == "position" and state["position"] != self.position:
            self.position = state["position"]
            await self.send_json(state)
        await self._catch_up()

    async def _assigned(self, frame):
        if self.position is None and frame == self.assigned:
            return  # already told, and not back in the queue since
        await self.leave(notify.queue_group(self.slug))
        self.position, self.assigned = None, frame
        await self.send_json(frame)

    async def chat_recheck(self, event):
        """Messages, and `assigned`, `position` or `ended`. A chat under way costs one glance
        at its row when nothing was missed; a queued asker's place is counted again."""
        if self.chat_id is None:
            return
        if self.position is None and await _chat_is_at_now(self.chat_id, self.last_seq):
            return
        await self._refresh()

    async def queue_order(self, event):
        if self.position is None:
            # Not waiting (taken): an order read before the take may still be on its way, and
            # must not put the asker back in the queue (bench: an asker told `assigned` twice).
            # Back in the queue, a `position` event comes first and sets a place again.
            return
        if event.get("at", 0.0) < self.order_read_at:
            return  # an older reading of the queue, overtaken on its way here
        self.order_read_at = event.get("at", 0.0)
        if self.chat_id in event["order"]:
            position = event["order"].index(self.chat_id) + 1
            if position != self.position:
                self.position = position
                out = protocol.position_frame(position)
                # Every order carries the line's pace (services.announce_queue): no query here.
                out["estimate"] = waiting.estimate_field(position, waiting.Pace(**event["pace"]))
                await self.send_json(out)

    async def queue_length(self, event):
        pass  # only helpers care


class HelperConsumer(ModeratorMixin, BaseChatConsumer):
    """`/ws/helper/`: a logged-in helper's console; on duty for their lines while open."""

    parser = staticmethod(protocol.parse_helper_frame)

    async def connect(self):
        await super().connect()
        # A logged-out, expired or (with OTP_REQUIRED) unverified session is refused.
        self.helper = await db(_admitted_helper)(self.scope)
        if self.helper is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.session_key = security.socket_session_key(self.scope)
        self.active = False
        self.chats: dict[int, int] = {}  # chat id -> last seq sent
        await self.accept()
        # Everything the console starts from in one trip to a database thread: after a server
        # is lost its consoles reconnect together, and each trip waits behind all of theirs.
        welcome = await db(_welcome)(self.helper, self.channel_name)
        self.start_heartbeat(db(self._beat))
        await self.join(notify.login_session(self.session_key))
        await self.join(notify.helper_group(self.helper.pk))
        for slug in welcome.queues:
            await self.join(notify.helpers_group(slug))
        for slug, length in welcome.queues.items():
            await self.send_json(protocol.queue_frame(slug, length))
        for answer in welcome.chats:
            await self._open_chat(answer)  # joins the chat's group, then catches up
        await self.send_json(protocol.follow_ups_frame(welcome.follow_ups))
        # Transfer offers still waiting for this helper's answer (docs/workflow.md).
        for offer in welcome.offers:
            await self.send_json(offer)

    def _beat(self) -> bool:
        """Presence, and whether the login still holds; the helper's frames count as use."""
        services.touch_duty(self.channel_name)
        active, self.active = self.active, False
        return security.session_alive(self.session_key, self.helper.user_id, refresh=active)

    async def receive(self, text_data=None, bytes_data=None):
        self.active = True
        await super().receive(text_data, bytes_data)

    async def disconnect(self, code):
        if getattr(self, "helper", None) is not None:
            try:
                await db(services.end_duty)(self.channel_name)
            except Exception:
                log.warning("could not record the helper's departure")
        await super().disconnect(code)

    async def _open_chat(self, answer: services.Answer):
        self.chats[answer.chat_id] = answer.seq
        await self.join(notify.chat_group(answer.chat_id))
        for out in answer.frames:
            await self.send_json(out)
        await self._catch_up(answer.chat_id)

    async def _catch_up(self, chat_id: int):
        for message in await messages_after(chat_id, self.chats[chat_id]):
            await self.send_json(services.message_frame(message, chat_id))
            self.chats[chat_id] = message.seq

    async def _deliver(self, chat_id: int, seq: int, frame: dict):
        last = self.chats.get(chat_id)
        if last is None or seq <= last:
            return
        if seq > last + 1:
            await self._catch_up(chat_id)
            return
        await self.send_json(frame)
        self.chats[chat_id] = seq

    def _own(self, chat_id: int) -> int:
        if chat_id not in self.chats:
            raise services.not_your_chat()
        return chat_id

    async def handle_accept_next(self, frame):
        answer = await db(services.accept_next)(self.helper, frame.service)
        if answer.chat_id:
            await self._open_chat(answer)
            await notify.helper_chat_taken(self.helper.pk, answer.chat_id, self.channel_name)
        else:
            for out in answer.frames:
                await self.send_json(out)

    async def handle_message(self, frame):
        message = await store_message(
            frame.chat, "helper", frame.text, helper=self.helper, client_id=frame.client_id
        )
        if frame.chat not in self.chats:  # taken in another tab of the same helper
            chat = await db(services.own_chat)(self.helper, frame.chat)
            await self._open_chat(await db(services.helper_chat_answer)(chat))
        if message.seq <= self.chats[frame.chat]:
            await self.send_json(services.message_frame(message, frame.chat))
        await self._deliver(frame.chat, message.seq, services.message_frame(message, frame.chat))

    async def handle_typing(self, frame):
        await notify.typing(self._own(frame.chat), by="helper")

    async def handle_end(self, frame):
        await self.end_with(frame)

    async def end_with(self, frame):
        """The plain end records topics; with `follow_up_at` it offers a follow-up (section 5)."""
        if frame.follow_up_at is None:
            await db(services.end_chat_by_helper)(self.helper, frame.chat, frame.topics)
            await self._ended(protocol.ended_frame("helper", chat_id=frame.chat))
            return
        follow_up = await db(followups.offer)(
            self.helper, frame.chat, frame.topics, frame.follow_up_at, note=frame.note
        )
        await self._ended(protocol.ended_frame("helper", chat_id=frame.chat, follow_up=follow_up))

    async def follow_ups_changed(self, event):
        """The helper's waiting follow-ups, on connect and whenever they change."""
        await aclose_old_connections()
        items = await db(followups.follow_ups_of)(self.helper)
        await self.send_json(protocol.follow_ups_frame(items))

    async def handle_bar(self, frame):
        await db(services.bar_asker)(self.helper, frame.chat, frame.hours, frame.topics)
        await self._ended(protocol.ended_frame("helper", chat_id=frame.chat, reason="bar"))

    # --- The workflow: transfers, limits, colleagues (docs/workflow.md) ---------------------------

    async def handle_transfer(self, frame):
        await db(transfer.offer)(self.helper, frame.chat, frame.to, frame.note)

    async def handle_transfer_accept(self, frame):
        answer = await db(transfer.accept)(self.helper, frame.chat)
        await self._open_chat(answer)
        await notify.helper_chat_taken(self.helper.pk, answer.chat_id, self.channel_name)

    async def handle_transfer_decline(self, frame):
        await db(transfer.decline)(self.helper, frame.chat)

    async def handle_transfer_cancel(self, frame):
        await db(transfer.cancel)(self.helper, frame.chat)

    async def handle_limit(self, frame):
        await db(limits.set_limit)(self.helper, frame.chat, frame.minutes)

    async def handle_come_back_later(self, frame):
        await db(services.bar_asker)(
            self.helper, frame.chat, None, frame.topics, days=frame.days, kind="come_back_later"
        )
        await self._ended(
            protocol.ended_frame("helper", chat_id=frame.chat, reason="come_back_later")
        )

    async def handle_colleagues(self, frame):
        await self.send_json(await db(duty.colleagues_frame)(self.helper))

    async def transfer_event(self, event):
        """An offer to this helper, or news of one this helper made or received."""
        await self.send_json(event["frame"])

    async def handle_notice(self, frame):
        message = await db(services.send_notice)(self.helper, frame.chat, frame.text)
        if frame.chat not in self.chats:  # taken in another tab of the same helper
            chat = await db(services.own_chat)(self.helper, frame.chat)
            await self._open_chat(await db(services.helper_chat_answer)(chat))
        await self._deliver(frame.chat, message.seq, services.message_frame(message, frame.chat))

    async def handle_consult(self, frame):
        out = await db(services.consult)(self.helper, frame.service, frame.text)
        await notify.consult(frame.service, out, self.helper.pk)

    async def consult_message(self, event):
        await self.send_json({**event["frame"], "mine": event["helper_id"] == self.helper.pk})

    async def handle_pause(self, frame):
        await db(_set_paused)(self.channel_name, frame.paused)
        await self.send_json({"type": "paused", "paused": frame.paused})

    async def _ended(self, frame):
        chat_id = frame["chat"]
        if self.chats.pop(chat_id, None) is None:
            return
        await self.leave(notify.chat_group(chat_id))
        await self.send_json(frame)

    async def chat_event(self, event):
        frame = event.get("helper")
        if frame is None or frame.get("chat") not in self.chats:
            return
        if frame["type"] == "message":
            await self._deliver(frame["chat"], frame["id"], frame)
        elif frame["type"] == "ended":
            await self._ended(frame)
        elif frame["type"] == "transferred":
            if frame["to"].get("id") != self.helper.pk:  # the new helper has it from `accept`
                await self._ended(frame)
        else:
            await self.send_json(frame)

    async def queue_length(self, event):
        await self.send_json(protocol.queue_frame(event["service"], event["length"]))

    async def catch_up_after_outage(self):
        await self.chat_recheck({"type": "chat.recheck"})

    async def chat_recheck(self, event):
        """Messages, ended chats, queue lengths, after a heartbeat or a layer outage: one query
        for all the helper's chats, one for the queues, and more only for a chat that is behind
        or gone."""
        glance = await db(_glance)(self.helper, list(self.chats))
        for chat_id in list(self.chats):
            if chat_id not in glance.last_seqs:
                if await db(_own_chat_or_none)(self.helper, chat_id) is None:
                    await self._ended(protocol.ended_frame("system", chat_id=chat_id))
            elif glance.last_seqs[chat_id] > self.chats[chat_id]:
                await self._catch_up(chat_id)
        for slug, length in glance.queues.items():
            await self.send_json(protocol.queue_frame(slug, length))

    async def helper_chat(self, event):
        """Another socket of this helper took a chat: show it here too."""
        if event["origin"] == self.channel_name or event["chat"] in self.chats:
            return
        await aclose_old_connections()
        chat = await db(_own_chat_or_none)(self.helper, event["chat"])
        if chat is not None:
            await self._open_chat(await db(services.helper_chat_answer)(chat))

    async def helper_logout(self, event):
        await self.close(code=CLOSE_FORBIDDEN)


def _helper_of(user):
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    from .models import HelperProfile

    return HelperProfile.objects.filter(user=user).first()


def _admitted_helper(scope) -> "HelperProfile | None":  # noqa: F821
    helper = _helper_of(scope.get("user"))
    return helper if helper is not None and security.socket_login_valid(scope) else None


@dataclass
class _Welcome:
    queues: dict[str, int]  # the helper's lines and their queues' lengths
    chats: list[services.Answer]  # `assigned` and history of each chat the helper holds
    follow_ups: list[dict]
    offers: list[dict]  # transfers offered to the helper, not yet answered


def _welcome(helper, channel_name: str) -> _Welcome:
    """A console's start: on duty, then what it shows (HelperConsumer.connect)."""
    services.start_duty(helper, channel_name)
    return _Welcome(
        queues=_glance(helper, []).queues,
        chats=[services.helper_chat_answer(chat) for chat in services.helper_chats(helper)],
        follow_ups=followups.follow_ups_of(helper),
        offers=transfer.offers_to(helper),
    )


def _asker_state(chat_id: int) -> dict | None:
    """`assigned` or `position` as the asker should see it now; None once the chat has ended."""
    from .models import Chat

    chat = Chat.objects.select_related("helper").filter(pk=chat_id).first()
    return None if chat is None else services._asker_state_frame(chat)


async def _chat_is_at_now(chat_id: int, seq: int) -> bool:
    """Is the chat under way with nothing past `seq`? (False: gone, queued, or behind.)"""
    from .models import Chat

    row = await loop_or_thread(loopdb.chat_state, _chat_row, chat_id)
    return row is not None and row[0] == Chat.Status.ACTIVE and row[1] <= seq


def _chat_row(chat_id: int) -> tuple[str, int] | None:
    from .models import Chat

    return Chat.objects.filter(pk=chat_id).values_list("status", "last_seq").first()


@dataclass
class _Glance:
    last_seqs: dict  # chat id -> last seq, for the helper's chats still active and theirs
    queues: dict  # line slug -> queue length, for the helper's lines


def _glance(helper, chat_ids: list[int]) -> _Glance:
    from django.db.models import Count, Q

    from .models import Chat

    mine = Chat.objects.active().filter(pk__in=chat_ids, helper_id=helper.pk)
    waiting = Q(chats__status=Chat.Status.QUEUED, chats__follow_up__isnull=True)
    lines = helper.lines.filter(active=True).annotate(waiting=Count("chats", filter=waiting))
    return _Glance(
        dict(mine.values_list("pk", "last_seq")) if chat_ids else {},
        dict(lines.values_list("slug", "waiting")),
    )


def _own_chat_or_none(helper, chat_id):
    try:
        return services.own_chat(helper, chat_id)
    except ChatError:
        return None


def _set_paused(channel_name: str, paused: bool) -> None:
    from .models import DutySession

    DutySession.objects.filter(channel_name=channel_name).update(paused=paused)
