"""The moderator's frames on the helper socket (contract section 4; docs/groups.md).

A mixin of HelperConsumer: a helper named as moderator joins a running group session with
`group_join` and then gets the session's frames as `group_<type>` with `session`. The rules are
in chats/group_moderators.py and chats/groups.py; this holds only which sessions the socket is
in, each a sequenced stream.
"""

import logging

from channels.db import aclose_old_connections
from django.utils.translation import gettext as _

from . import group_moderators, groups, notify, protocol
from .errors import ChatError
from .runtime import db
from .stream import SequencedStream

log = logging.getLogger(__name__)


class ModeratorMixin:
    @property
    def moderating(self) -> dict[int, SequencedStream]:
        """Session id -> the session's messages to this socket."""
        return self.__dict__.setdefault("_moderating", {})

    async def disconnect(self, code):
        if self.moderating and getattr(self, "helper", None) is not None:
            try:
                await db(group_moderators.moderator_leave)(self.helper, list(self.moderating))
            except Exception:
                log.warning("could not record a moderator's departure")
        await super().disconnect(code)

    def _session(self, session_id: int) -> int:
        if session_id not in self.moderating:
            raise ChatError("not_found", _("Join the session first (group_join)."))
        return session_id

    async def handle_group_join(self, frame):
        answer = await db(group_moderators.moderator_join)(
            self.helper, frame.service, frame.session
        )
        session_id = answer.session_id
        self.moderating[session_id] = stream = SequencedStream(
            lambda frame: self.send_json(protocol.for_moderator(frame, session_id)),
            lambda after: db(groups.messages_after)(session_id, after),
            lambda message: None if message.removed else groups.message_frame(message),
            last=answer.seq,
        )
        await self.join(notify.group_session(session_id))
        for out in answer.frames:
            await self.send_json(out)
        await stream.catch_up()

    async def handle_group_message(self, frame):
        session_id = self._session(frame.session)
        message = await db(group_moderators.moderator_message)(self.helper, session_id, frame.text)
        await self.moderating[session_id].deliver(message.seq, groups.message_frame(message))

    async def handle_group_remove(self, frame):
        await db(group_moderators.remove_message)(
            self.helper, self._session(frame.session), frame.id
        )

    async def handle_group_kick(self, frame):
        await db(group_moderators.kick)(self.helper, self._session(frame.session), frame.nickname)

    async def handle_group_pin(self, frame):
        await db(group_moderators.pin)(self.helper, self._session(frame.session), frame.text)

    async def handle_group_close(self, frame):
        await db(group_moderators.close_by_moderator)(self.helper, self._session(frame.session))

    async def layer_rejoin(self, event):
        """After the layer was down (chats/layer.py): the sessions' missed messages or end."""
        await super().layer_rejoin(event)
        for session_id in list(self.moderating):
            ended = await db(groups.still_in)(session_id, None)
            if ended is None:
                await self.moderating[session_id].catch_up()
            else:
                await self.group_event({"session": session_id, "frame": ended})

    async def group_event(self, event):
        session_id = event["session"]
        if session_id not in self.moderating or event.get("kicked"):
            return
        await aclose_old_connections()
        frame = event["frame"]
        if frame["type"] == "message":
            await self.moderating[session_id].deliver(event["seq"], frame)
            return
        if frame["type"] == "closed":
            del self.moderating[session_id]
            await self.leave(notify.group_session(session_id))
        await self.send_json(protocol.for_moderator(frame, session_id))
