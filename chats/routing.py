from django.urls import path

from .asker_consumer import AskerConsumer
from .group_consumer import GroupConsumer
from .helper_consumer import HelperConsumer

websocket_urlpatterns = [
    path("ws/ask/<slug:slug>/", AskerConsumer.as_asgi()),
    path("ws/helper/", HelperConsumer.as_asgi()),
    path("ws/group/<slug:slug>/", GroupConsumer.as_asgi()),
]
