from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from chats import group_views
from chats import views as chat_views
from feedback import views as feedback_views
from verkkoapu import guides, landing, twofactor

urlpatterns = [
    path("", chat_views.demo_page, name="home"),
    path("api/services/", chat_views.service_list, name="api-services"),
    path("api/services/<slug:slug>/", chat_views.service_detail, name="api-service"),
    path("api/widget/", chat_views.widget_lines, name="api-widget"),
    # Each role lands at its own place: helpers the console, coordinators the admin.
    path("accounts/login/", landing.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/2fa/setup/", twofactor.setup, name="otp-setup"),
    path("accounts/2fa/verify/", twofactor.verify, name="otp-verify"),
    path("console/letters/", include("letters.console_urls")),
    path("console/", include("chats.console_urls")),
    path("group/<slug:slug>/", group_views.group_page, name="group"),
    path("practice/<slug:slug>/", chat_views.practice_page, name="practice"),
    path("feedback/", include("feedback.urls")),
    path("api/feedback/<slug:slug>/", feedback_views.feedback_api, name="api-feedback"),
    path("letters/", include("letters.urls")),
    path("api/letters/", include("letters.api_urls")),
    # Before admin/: the guides sit under it but are not a model's pages.
    path("admin/guides/screenshots/<str:file>", guides.picture, name="guide-picture"),
    path("admin/guides/<str:name>", guides.guide, name="guide"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
