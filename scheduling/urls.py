"""The helper console's shift calendar, under /console/calendar/."""

from django.urls import path

from . import views

app_name = "scheduling"

urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("book/", views.book, name="book"),
    path("cancel/<int:pk>/", views.cancel, name="cancel"),
    path("debrief/<int:pk>/", views.debrief, name="debrief"),
]
