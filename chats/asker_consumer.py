"""`/ws/ask/<slug>/`: one anonymous asker's socket; connection state only.

Queue order, claims and privacy live in services; the asker's messages are one sequenced stream
(chats/stream.py); database work goes through chats/runtime.py.
"""

import logging

from django.conf import settings

from verkkoapu import addresses

from . import asking, loopdb, notify, protocol, reads, services, waiting
from .errors import Answer, ChatError
from .runtime import db, loop_or_thread, messages_after, store_message
from .sockets import BaseChatConsumer
from .stream import SequencedStream

log = logging.getLogger(__name__)


class AskerConsumer(BaseChatConsumer):
    """`/ws/ask/<slug>/`: one anonymous asker; no cookie, no session."""

    parser = staticmethod(protocol.parse_asker_frame)

    async def connect(self):
        await super().connect()
        self.slug = self.scope["url_route"]["kwargs"]["slug"]
        self.chat_id = None
        self.stream: SequencedStream | None = None
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

    async def _attach(self, answer: Answer, queued: bool):
        self.chat_id = chat_id = answer.chat_id
        self.stream = SequencedStream(
            self.send_json,
            lambda after: messages_after(chat_id, after),
            services.message_frame,
            last=answer.seq,
        )
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
            answer = await db(asking.enqueue_asker)(
                self.slug,
                language=frame.language,
                ip=addresses.client_ip(self.scope),
                code=frame.code,
                age=frame.age,
                user=self.scope.get("user"),  # read only for a practice line (its trainees)
            )
        except ChatError:
            await self.leave(notify.queue_group(self.slug))
            raise
        if answer.chat_id:
            await self._attach(answer, queued=True)
            self.position = answer.position
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
            answer = await db(asking.resume_chat)(frame.token, ip=addresses.client_ip(self.scope))
        except ChatError as error:
            self.token_misses += error.code == "not_found"
            raise
        if self.chat_id and self.chat_id != answer.chat_id:
            await self.leave(notify.chat_group(self.chat_id))
        await self._attach(answer, queued=answer.position is not None)
        for out in answer.frames:
            await self.send_json(out)
        self.position, self.assigned = answer.position, answer.assigned
        # Anything posted between reading the history and joining the group.
        await self.stream.catch_up()

    async def handle_message(self, frame):
        chat_id = self._require_chat()
        message = await store_message(chat_id, "asker", frame.text, client_id=frame.client_id)
        if message.seq <= self.stream.last:
            # A resend of a stored message: echo it again so the client can match it.
            await self.send_json(services.message_frame(message))
        await self.stream.deliver(message.seq, services.message_frame(message))

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
            await self.stream.deliver(frame["id"], frame)
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
        state = await db(reads.asker_state)(self.chat_id)
        if state is None:  # the chat ended meanwhile
            await self._ended(protocol.ended_frame("system"))
            return
        if state["type"] == "assigned":
            await self._assigned(state)
        elif state["type"] == "position" and state["position"] != self.position:
            self.position = state["position"]
            await self.send_json(state)
        await self.stream.catch_up()

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
        if self.position is None and await _chat_is_at_now(self.chat_id, self.stream.last):
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


async def _chat_is_at_now(chat_id: int, seq: int) -> bool:
    """Is the chat under way with nothing past `seq`? (False: gone, queued, or behind.)"""
    row = await loop_or_thread(loopdb.chat_state, reads.chat_row, chat_id)
    return row is not None and row[0] == reads.ACTIVE and row[1] <= seq
