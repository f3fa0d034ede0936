from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/ask/<slug:slug>/", consumers.AskerConsumer.as_asgi()),
    path("ws/helper/", consumers.HelperConsumer.as_asgi()),
]
