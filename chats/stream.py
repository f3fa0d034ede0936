"""One sequenced stream of messages to one socket: sent in order of their ids, none twice, none
missing.

Messages reach a socket as layer nudges or as answers to its own writes, in any order; whenever
one arrives past a gap the stream reads the missing ones from the database first, so a lost or
late nudge never loses or reorders a message. The asker's chat, each chat of a helper's console,
a group participant's session and each session a moderator is in is one stream.
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import Any


class SequencedStream:
    """`send(frame)` writes to the socket; `fetch(after)` reads the messages past an id from the
    database; `render(message)` is the frame of one, or None for one not shown (removed)."""

    def __init__(
        self,
        send: Callable[[dict], Awaitable[None]],
        fetch: Callable[[int], Awaitable[Sequence[Any]]],
        render: Callable[[Any], dict | None],
        last: int = 0,
    ):
        self.send, self.fetch, self.render = send, fetch, render
        self.last = last  # the id of the last message sent (or skipped as not shown)

    async def catch_up(self) -> None:
        """Everything past the last id, from the database."""
        for message in await self.fetch(self.last):
            frame = self.render(message)
            if frame is not None:
                await self.send(frame)
            self.last = message.seq

    async def deliver(self, seq: int, frame: dict) -> None:
        """Message `seq`, unless already sent; past a gap, the gap is read first."""
        if seq <= self.last:
            return  # already sent (the nudge for our own echo, or a catch-up)
        if seq > self.last + 1:
            await self.catch_up()
            return
        await self.send(frame)
        self.last = seq
