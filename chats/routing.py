from django.urls import path

from . import consumers, group_consumer

websocket_urlpatterns = [
    path("ws/ask/<slug:slug>/", consumers.AskerConsumer.as_asgi()),
    path("ws/helper/", consumers.HelperConsumer.as_asgi()),
    path("ws/group/<slug:slug>/", group_consumer.GroupConsumer.as_asgi()),
]
