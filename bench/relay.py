"""The baseline: a bare Channels relay with no database, over the product's channel layer.

Two sockets of a pair join one group; every frame either sends goes to the group, so both get
it (as the product echoes a message to its sender and delivers it to the other side). It runs
under daphne with the product's own settings module, hence the same CHANNEL_LAYERS and Redis:
`python -m daphne -p PORT bench.relay:application`.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verkkoapu.settings")
django.setup()

from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402


class RelayConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.group = f"pair.{self.scope['url_route']['kwargs']['pair']}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        await self.channel_layer.group_send(self.group, {"type": "relay.frame", "frame": content})

    async def relay_frame(self, event):
        await self.send_json(event["frame"])


application = ProtocolTypeRouter(
    {"websocket": URLRouter([path("relay/<int:pair>/", RelayConsumer.as_asgi())])}
)
