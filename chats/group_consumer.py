"""`/ws/group/<slug>/`: one anonymous participant of a scheduled group chat (section 6).

Like the asker's socket it remembers the last message id it sent and fills any gap from the
database, so a lost nudge never loses a message; the rules live in chats/groups.py.
"""

import logging

from channels.db import aclose_old_connections

from . import groups, notify, protocol, services
from .consumers import BaseChatConsumer, db
from .services import ChatError

log = logging.getLogger(__name__)


class GroupConsumer(BaseChatConsumer):
    parser = staticmethod(protocol.parse_group_frame)

    async def connect(self):
        await super().connect()
        self.slug = self.scope["url_route"]["kwargs"]["slug"]
        self.session_id = None
        self.person_id = None
        self.last_seq = 0
        await self.accept()

    async def disconnect(self, code):
        if self.person_id:
            try:
                await db(groups.leave)(self.person_id)
            except Exception:
                log.warning("could not record a group participant's departure")
        await super().disconnect(code)

    async def handle_join(self, frame):
        if self.session_id:
            raise ChatError("invalid", "This connection is already in the session.")
        answer = await db(groups.join)(
            self.slug,
            frame.nickname,
            ip=services.client_ip(self.scope),
            invite=frame.invite,
            session_id=frame.session,
        )
        if answer.session_id:
            self.session_id, self.person_id = answer.session_id, answer.person_id
            self.last_seq = answer.seq
            await self.join(notify.group_session(self.session_id))
            person_id = self.person_id
            self.start_heartbeat(db(lambda: groups.touch(person_id)))
        for out in answer.frames:
            await self.send_json(out)
        if answer.session_id:
            # Anything said between reading the history and joining the layer group.
            await self._catch_up()

    async def handle_message(self, frame):
        if not self.person_id:
            raise ChatError("not_found", "Join the session first.")
        message = await db(groups.post_message)(self.person_id, frame.text)
        await self._deliver(message.seq, groups.message_frame(message))

    async def _catch_up(self):
        for message in await db(groups.messages_after)(self.session_id, self.last_seq):
            if not message.removed:
                await self.send_json(groups.message_frame(message))
            self.last_seq = message.seq

    async def _deliver(self, seq: int, frame: dict):
        if seq <= self.last_seq:
            return
        if seq > self.last_seq + 1:
            await self._catch_up()
            return
        await self.send_json(frame)
        self.last_seq = seq

    async def _left(self):
        await self.leave(notify.group_session(self.session_id))
        self.session_id = self.person_id = None
        self.last_seq = 0
        if self.heartbeat:
            self.heartbeat.cancel()
            self.heartbeat = None

    async def catch_up_after_outage(self):
        """After the layer was down (chats/layer.py): what was said, or that it is over."""
        if self.session_id is None:
            return
        ended = await db(groups.still_in)(self.session_id, self.person_id)
        if ended is None:
            await self._catch_up()
        elif ended["type"] == "closed":
            await self.group_event({"session": self.session_id, "frame": ended})
        else:
            await self.group_event({"session": self.session_id, "kicked": self.person_id})

    async def group_event(self, event):
        if event["session"] != self.session_id:
            return
        await aclose_old_connections()
        if event.get("kicked"):
            if event["kicked"] == self.person_id:
                self.person_id = None  # the row stays, marked kicked, until the session closes
                await self._left()
                await self.send_json(
                    protocol.error_frame("kicked", "A moderator removed you from this session.")
                )
                await self.close()
            return
        frame = event["frame"]
        if frame["type"] == "message":
            await self._deliver(event["seq"], frame)
        elif frame["type"] == "closed":
            self.person_id = None  # deleted with the session
            await self._left()
            await self.send_json(frame)
        else:
            await self.send_json(frame)
