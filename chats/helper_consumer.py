"""`/ws/helper/`: a logged-in helper's console socket; connection state only.

On duty for the helper's lines while open. Each chat the console shows is one sequenced stream
(chats/stream.py); what the socket reads on its own is in chats/reads.py; the moderator's frames
come from `ModeratorMixin` (chats/moderation.py).
"""

import logging
from datetime import timedelta

from channels.db import aclose_old_connections
from django.conf import settings
from django.utils import timezone

from verkkoapu import security

from . import (
    duty,
    followups,
    limits,
    notify,
    peer_support,
    protocol,
    reads,
    services,
    taking,
    transfer,
)
from .errors import Answer
from .moderation import ModeratorMixin
from .runtime import db, messages_after, store_message
from .sockets import CLOSE_FORBIDDEN, BaseChatConsumer
from .stream import SequencedStream

log = logging.getLogger(__name__)


class HelperConsumer(ModeratorMixin, BaseChatConsumer):
    """`/ws/helper/`: a logged-in helper's console; on duty for their lines while open."""

    parser = staticmethod(protocol.parse_helper_frame)

    async def connect(self):
        await super().connect()
        # A logged-out, expired or (with OTP_REQUIRED) unverified session is refused.
        self.helper = await db(reads.admitted_helper)(self.scope)
        if self.helper is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.session_key = security.socket_session_key(self.scope)
        self.active = False
        self.chats: dict[int, SequencedStream] = {}  # chat id -> its messages to this socket
        await self.accept()
        # Everything the console starts from in one trip to a database thread: after a server
        # is lost its consoles reconnect together, and each trip waits behind all of theirs.
        welcome = await db(reads.welcome)(self.helper, self.channel_name)
        self.start_heartbeat(db(self._beat))
        await self.join(notify.login_session(self.session_key))
        await self.join(notify.helper_group(self.helper.pk))
        for slug in welcome.queues:
            await self.join(notify.helpers_group(slug))
        for slug, length in welcome.queues.items():
            await self.send_json(protocol.queue_frame(slug, length))
        for frame in welcome.extra:  # e.g. the letters inbox (letters/hooks.py)
            await self.send_json(frame)
        for answer in welcome.chats:
            await self._open_chat(answer)  # joins the chat's group, then catches up
        await self.send_json(protocol.follow_ups_frame(welcome.follow_ups))
        # Transfer offers still waiting for this helper's answer (docs/workflow.md).
        for offer in welcome.offers:
            await self.send_json(offer)
        self.support, self.support_checked = welcome.support, timezone.now()
        if welcome.support["person"] or welcome.support["debriefs"]:  # else the page's is right
            await self.send_json(welcome.support)
        await notify.support_changed(welcome.supported)  # "on duty now" in their consoles

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
                await notify.support_changed(await db(peer_support.supported_by)(self.helper))
            except Exception:
                log.warning("could not record the helper's departure")
        await super().disconnect(code)

    async def _open_chat(self, answer: Answer):
        chat_id = answer.chat_id
        self.chats[chat_id] = stream = SequencedStream(
            self.send_json,
            lambda after: messages_after(chat_id, after),
            lambda message: services.message_frame(message, chat_id),
            last=answer.seq,
        )
        await self.join(notify.chat_group(chat_id))
        for out in answer.frames:
            await self.send_json(out)
        await stream.catch_up()

    async def _deliver(self, chat_id: int, seq: int, frame: dict):
        stream = self.chats.get(chat_id)
        if stream is not None:
            await stream.deliver(seq, frame)

    def _own(self, chat_id: int) -> int:
        if chat_id not in self.chats:
            raise services.not_your_chat()
        return chat_id

    async def handle_accept_next(self, frame):
        answer = await db(taking.accept_next)(self.helper, frame.service)
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
            await self._open_chat(await db(taking.helper_chat_answer)(chat))
        if message.seq <= self.chats[frame.chat].last:
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
            await self._open_chat(await db(taking.helper_chat_answer)(chat))
        await self._deliver(frame.chat, message.seq, services.message_frame(message, frame.chat))

    async def handle_consult(self, frame):
        """A peer's question reaches only their shift's professional(s) (issue 21)."""
        out, recipients = await db(peer_support.advice)(
            self.helper, frame.service, frame.text, frame.to
        )
        if recipients is None:
            await notify.consult(frame.service, out, self.helper.pk)
        else:
            await notify.consult_to(recipients, out, self.helper.pk)

    # --- Peer support: the support person and the debrief prompt (issue 21) -----------------

    async def _send_support(self, frame: dict, *, changed_only=False):
        self.support_checked = timezone.now()
        if changed_only and frame == getattr(self, "support", None):
            return
        self.support = frame
        await self.send_json(frame)

    async def support_changed(self, event=None):
        await self._send_support(await db(peer_support.support_frame)(self.helper))

    async def handle_debrief(self, frame):
        helper_ids = await db(peer_support.record_debrief)(self.helper, frame.booking)
        await notify.support_changed(helper_ids)

    async def consult_message(self, event):
        await self.send_json({**event["frame"], "mine": event["helper_id"] == self.helper.pk})

    async def handle_pause(self, frame):
        await db(reads.set_paused)(self.channel_name, frame.paused)
        await self.send_json(protocol.paused_frame(frame.paused))

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

    async def letters_inbox(self, event):
        await self.send_json(protocol.letters_frame(event["service"], event["waiting"]))

    async def catch_up_after_outage(self):
        await self.chat_recheck({"type": "chat.recheck"})

    async def chat_recheck(self, event):
        """Messages, ended chats, queue lengths, after a heartbeat or a layer outage: one query
        for all the helper's chats, one for the queues, and more only for a chat that is behind
        or gone."""
        glance = await db(reads.glance)(self.helper, list(self.chats))
        for chat_id in list(self.chats):
            if chat_id not in glance.last_seqs:
                if await db(reads.own_chat_or_none)(self.helper, chat_id) is None:
                    await self._ended(protocol.ended_frame("system", chat_id=chat_id))
            elif glance.last_seqs[chat_id] > self.chats[chat_id].last:
                await self.chats[chat_id].catch_up()
        for slug, length in glance.queues.items():
            await self.send_json(protocol.queue_frame(slug, length))
        checked = getattr(self, "support_checked", None)
        every = timedelta(seconds=settings.CHAT_SUPPORT_CHECK_SECONDS)
        if checked is not None and timezone.now() - checked >= every:
            # A shift's end: the debrief prompt, and the support person's duty, once a minute.
            frame = await db(peer_support.support_frame)(self.helper)
            await self._send_support(frame, changed_only=True)

    async def helper_chat(self, event):
        """Another socket of this helper took a chat: show it here too."""
        if event["origin"] == self.channel_name or event["chat"] in self.chats:
            return
        await aclose_old_connections()
        chat = await db(reads.own_chat_or_none)(self.helper, event["chat"])
        if chat is not None:
            await self._open_chat(await db(taking.helper_chat_answer)(chat))

    async def helper_logout(self, event):
        await self.close(code=CLOSE_FORBIDDEN)
