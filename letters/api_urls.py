from django.urls import path

from . import views

urlpatterns = [
    path("read/", views.api_read, name="api-letters-read"),
    path("reply/", views.api_reply, name="api-letters-reply"),
    path("end/", views.api_end, name="api-letters-end"),
    path("<slug:slug>/", views.api_line, name="api-letters-line"),
]
