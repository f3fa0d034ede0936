"""A letter arriving (or taken, or answered) nudges the line's helper consoles, like the queue.

The nudge goes through chats.notify (after commit, skipped while the layer is down) as a
`letters.inbox` event to the line's helpers group; the helper socket turns it into a
`{"type": "letters", "service", "waiting"}` frame (chats/protocol.py: letters_frame).
"""

from chats import notify

from .models import Thread

EVENT = "letters.inbox"


def inbox_event(slug: str, waiting: int) -> dict:
    return {"type": EVENT, "service": slug, "waiting": waiting}


def inbox_changed(line) -> None:
    """The line's letters inbox changed: consoles of its helpers get its new length."""
    waiting = Thread.objects.waiting().filter(line_id=line.pk).count()
    notify._send(notify.helpers_group(line.slug), inbox_event(line.slug, waiting))
