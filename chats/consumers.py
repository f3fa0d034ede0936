"""The WebSocket consumers, by the socket they serve (chats/routing.py routes to them):

- `chats/asker_consumer.py`: `/ws/ask/<slug>/`, one anonymous asker;
- `chats/helper_consumer.py`: `/ws/helper/`, a helper's console (with chats/moderation.py);
- `chats/group_consumer.py`: `/ws/group/<slug>/`, a group chat participant.

Their base is chats/sockets.py; none imports another. This module only names them in one place
(TODO issue 19 phase B: drop it once tests import from the modules above).
"""

from .asker_consumer import AskerConsumer
from .group_consumer import GroupConsumer
from .helper_consumer import HelperConsumer
from .sockets import BaseChatConsumer

__all__ = ["AskerConsumer", "BaseChatConsumer", "GroupConsumer", "HelperConsumer"]
