"""WebSocket origin check: the service's own hosts plus the sites that embed the widget."""

from channels.security.websocket import OriginValidator as ChannelsOriginValidator
from django.conf import settings


class OriginValidator(ChannelsOriginValidator):
    """Hosts of ALLOWED_HOSTS (any scheme and port) and the full EMBEDDING_ORIGINS."""

    def __init__(self, application):
        super().__init__(application, [*settings.ALLOWED_HOSTS, *settings.EMBEDDING_ORIGINS])
