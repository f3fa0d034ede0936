"""`/ws/group/<slug>/`: one anonymous participant of a scheduled group chat (section 6).

Like the asker's socket its messages are one sequenced stream (chats/stream.py), so a lost nudge
never loses a message; the rules live in chats/groups.py.
"""

import logging

from channels.db import aclose_old_connections

from verkkoapu import addresses

from . import groups, notify, protocol
from .errors import ChatError
from .runtime import db
from .sockets import BaseChatConsumer
from .stream import SequencedStream

log = logging.getLogger(__name__)


class GroupConsumer(BaseChatConsumer):
    parser = staticmethod(protocol.parse_group_frame)

    async def connect(self):
        await super().connect()
        self.slug = self.scope["url_route"]["kwargs"]["slug"]
        self.session_id = None
        self.person_id = None
        self.stream: SequencedStream | None = None
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
            ip=addresses.client_ip(self.scope),
            invite=frame.invite,
            session_id=frame.session,
        )
        if answer.session_id:
            self.session_id, self.person_id = answer.session_id, answer.person_id
            session_id = self.session_id
            self.stream = SequencedStream(
                self.send_json,
                lambda after: db(groups.messages_after)(session_id, after),
                shown_frame,
                last=answer.seq,
            )
            await self.join(notify.group_session(self.session_id))
            person_id = self.person_id
            self.start_heartbeat(db(lambda: groups.touch(person_id)))
        for out in answer.frames:
            await self.send_json(out)
        if answer.session_id:
            # Anything said between reading the history and joining the layer group.
            await self.stream.catch_up()

    async def handle_message(self, frame):
        if not self.person_id:
            raise ChatError("not_found", "Join the session first.")
        message = await db(groups.post_message)(self.person_id, frame.text)
        await self.stream.deliver(message.seq, groups.message_frame(message))

    async def _left(self):
        await self.leave(notify.group_session(self.session_id))
        self.session_id = self.person_id = self.stream = None
        if self.heartbeat:
            self.heartbeat.cancel()
            self.heartbeat = None

    async def catch_up_after_outage(self):
        """After the layer was down (chats/layer.py): what was said, or that it is over."""
        if self.session_id is None:
            return
        ended = await db(groups.still_in)(self.session_id, self.person_id)
        if ended is None:
            await self.stream.catch_up()
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
            await self.stream.deliver(event["seq"], frame)
        elif frame["type"] == "closed":
            self.person_id = None  # deleted with the session
            await self._left()
            await self.send_json(frame)
        else:
            await self.send_json(frame)


def shown_frame(message) -> dict | None:
    """A group message's frame; None for one a moderator removed (its id still counts)."""
    return None if message.removed else groups.message_frame(message)
