from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.console, name="console"),
    path("calendar/", include("scheduling.urls")),
]
