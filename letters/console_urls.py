from django.urls import path

from . import console_views as views

urlpatterns = [
    path("", views.inbox_page, name="letters-inbox"),
    path("<int:thread_id>/", views.thread_page, name="letters-thread"),
    path("api/", views.api_inbox, name="api-letters-inbox"),
    path("api/<int:thread_id>/", views.api_thread, name="api-letters-thread"),
    path("api/<int:thread_id>/claim/", views.api_claim, name="api-letters-claim"),
    path("api/<int:thread_id>/hand-back/", views.api_hand_back, name="api-letters-hand-back"),
    path("api/<int:thread_id>/answer/", views.api_answer, name="api-letters-answer"),
    path("api/<int:thread_id>/end/", views.api_end, name="api-letters-helper-end"),
    path("api/next/<slug:slug>/", views.api_claim_next, name="api-letters-claim-next"),
    path("api/replies/<int:reply_id>/approve/", views.api_approve, name="api-letters-approve"),
]
