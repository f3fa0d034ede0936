"""The core of the one-to-one chat: plain, synchronous, transactional functions by capability.

- `queue`: the general queue (order, places, the line read per start, a new chat at the tail);
- `bars`: is an address barred on a line, and the words it is told;
- `messages`: a message stored with the chat's next number, both sides nudged;
- `helpers`: a helper's own chats and lines, notices (consult notes: chats/peer_support.py);
- `ending`: the end of a chat (counted, erased, both sides told), with a bar or not;
- `presence`: a helper console's DutySession row.

Above them, in chats/: `asking` (starts, resumes, places), `taking` (a helper takes a chat),
`transfer`, `limits`, `followups`, `groups`, and `sweeps` (the sweeper's steps). Below them:
`waiting`, `duty`, `youth`, `audit`, `notify`, `errors`, `protocol`, the models. Nothing in this
package imports a module above it; consumers and tests may use the names gathered here.
Each function returns what its caller answers with and nudges everyone else through `notify`
after commit.
"""

from ..errors import Answer, ChatError
from .bars import active_bar, forget_bars, refuse_barred
from .ending import bar_asker, end_chat, end_chat_by_helper
from .helpers import (
    checked_topics,
    helper_chats,
    helpers_line,
    not_your_chat,
    own_chat,
    send_notice,
)
from .messages import (
    message_frame,
    message_nudge,
    messages_after,
    post_message,
    quote_name,
    store_statement,
    system_message,
)
from .presence import end_duty, start_duty, touch_duty
from .queue import (
    announce_queue,
    create_queued_chat,
    forget_lines,
    general_place,
    general_position,
    get_line,
    queue_order,
    touch_asker,
)

__all__ = [
    "Answer",
    "ChatError",
    "active_bar",
    "announce_queue",
    "bar_asker",
    "checked_topics",
    "create_queued_chat",
    "end_chat",
    "end_chat_by_helper",
    "end_duty",
    "forget_bars",
    "forget_lines",
    "general_place",
    "general_position",
    "get_line",
    "helper_chats",
    "helpers_line",
    "message_frame",
    "message_nudge",
    "messages_after",
    "not_your_chat",
    "own_chat",
    "post_message",
    "queue_order",
    "quote_name",
    "refuse_barred",
    "send_notice",
    "start_duty",
    "store_statement",
    "system_message",
    "touch_asker",
    "touch_duty",
]
