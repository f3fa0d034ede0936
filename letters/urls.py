from django.urls import path

from . import views

urlpatterns = [
    path("read/", views.read_page, name="letters-read"),
    path("<slug:slug>/", views.write_page, name="letters-write"),
]
