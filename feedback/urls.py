from django.urls import path

from . import views

app_name = "feedback"
urlpatterns = [
    path("<slug:slug>/", views.feedback_page, name="form"),
    path("<slug:slug>/kiitos/", views.thanks_page, name="thanks"),
]
