"""A letter arriving (or taken, or answered) nudges the line's helper consoles, like the queue.

The nudge goes through chats.notify (after commit, skipped while the layer is down) as a
`letters.inbox` event to the line's helpers group. A console socket must have a handler for it,
or Channels would close the socket on an event it cannot dispatch: the nudge is sent only once
chats.consumers.HelperConsumer handles `letters.inbox` (the console's letters phase adds it).
"""

from chats import notify

EVENT = "letters.inbox"


def inbox_event(slug: str, waiting: int) -> dict:
    return {"type": EVENT, "service": slug, "waiting": waiting}


def consoles_take_it() -> bool:
    from chats.consumers import HelperConsumer

    return hasattr(HelperConsumer, EVENT.replace(".", "_"))


def inbox_changed(line) -> None:
    """The line's letters inbox changed: consoles of its helpers get its new length."""
    if not consoles_take_it():
        return
    from .models import Thread

    waiting = Thread.objects.filter(line_id=line.pk, waiting_since__isnull=False).count()
    notify._send(notify.helpers_group(line.slug), inbox_event(line.slug, waiting))
