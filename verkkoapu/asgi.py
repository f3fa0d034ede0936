import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verkkoapu.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs the apps loaded first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from chats import routing  # noqa: E402
from chats.origins import OriginValidator  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": OriginValidator(AuthMiddlewareStack(URLRouter(routing.websocket_urlpatterns))),
    }
)

# Everything loaded so far (Django, the apps, their modules and routes) lives as long as the
# process: out of the collector's sight, a full collection walks only what the sockets made.
# And one now, so that the collector counts its trigger from those: a closed connection's
# objects (daphne's and autobahn's protocol and its Deferreds) form reference cycles that only
# a full collection frees, and with the start-up's objects counted a full collection came too
# rarely: a soak's RSS grew by the connections waiting for it (docs/performance.md, item 19).
gc.freeze()
gc.collect()
