"""The bottom of chats' services: the refusal every service raises and the answer it returns.

Every module of chats may import this one; it imports only the models, so a refusal is defined
once and imported without a cycle. The wire turns a refusal into its frame
(`protocol.refusal_frame`).
"""

from dataclasses import dataclass, field

from .models import Chat


class ChatError(Exception):
    """A request that cannot be served; becomes an `error` frame with this code.

    `extra` fields go into the frame beside `code` and `message` (e.g. `opens_at`).
    """

    def __init__(self, code: str, message: str, **extra):
        super().__init__(message)
        self.code, self.message, self.extra = code, message, extra


@dataclass
class Answer:
    """What the caller's own socket is told, and which chat it now belongs to (if any)."""

    frames: list[dict] = field(default_factory=list)
    chat_id: int | None = None
    seq: int = 0  # the last message id the frames carry (for gap detection)
    chat: Chat | None = None
    # Where an asker stands after a start or resume (services say it; sockets read no frames):
    position: int | None = None  # waiting in a queue, at this place
    assigned: dict | None = None  # with a helper: the `assigned` frame the asker was sent


# --- Lines and the queue ----------------------------------------------------------------------
