"""WebSocket origin check: the service's own hosts plus, for the asker's sockets, the sites that
embed the widget.

The helper socket carries a login: only pages of the service itself may open it, never an
embedding site (a same-site embedder would otherwise get the helper's cookie sent along).
Settings are read per connection, so a changed EMBEDDING_ORIGINS needs no re-import.
"""

from channels.security.websocket import OriginValidator as ChannelsOriginValidator
from django.conf import settings

OWN_HOSTS_ONLY = ("/ws/helper/",)


class _Check(ChannelsOriginValidator):
    def valid_origin(self, parsed_origin):
        try:
            return super().valid_origin(parsed_origin)
        except ValueError:
            return False  # e.g. a port out of range: not an origin of ours


class OriginValidator:
    """Hosts of ALLOWED_HOSTS (any scheme and port) and, except on the helper socket, the full
    EMBEDDING_ORIGINS. A missing, `null` or malformed Origin is refused."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        own_only = scope.get("path", "").startswith(OWN_HOSTS_ONLY)
        allowed = [*settings.ALLOWED_HOSTS, *([] if own_only else settings.EMBEDDING_ORIGINS)]
        return await _Check(self.application, allowed)(scope, receive, send)
