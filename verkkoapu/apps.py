import logging

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

log = logging.getLogger(__name__)

OTP_OFF_IN_PRODUCTION = (
    "Two-step login is off in production (OTP_REQUIRED=false): a helper's password alone "
    "opens the console, the admin and askers' addresses. Remove OTP_REQUIRED=false."
)


def otp_required_in_production(app_configs, **kwargs):
    """`check --deploy`: production with two-step login turned off on purpose."""
    if settings.PRODUCTION and not settings.OTP_REQUIRED:
        return [checks.Warning(OTP_OFF_IN_PRODUCTION, id="verkkoapu.W001")]
    return []


class VerkkoapuConfig(AppConfig):
    """The project package as an app: its security signals and checks (docs/security.md)."""

    name = "verkkoapu"
    verbose_name = "Verkkoapu"

    def ready(self):
        from django.contrib import admin
        from django.contrib.auth.signals import user_logged_in
        from django.utils.translation import gettext_lazy as _

        # The coordinators' admin carries the service's name, in the page's language.
        admin.site.site_header = _("Verkkoapu – administration")
        admin.site.site_title = _("Verkkoapu administration")
        admin.site.index_title = _("Running the service")
        # The index lists every model; a second list beside each page only took the width the
        # tables need (they were clipped under the filters at 1280 px).
        admin.site.enable_nav_sidebar = False

        # In ready(): Django allows models (and modules that import them) only once apps load.
        from . import security

        checks.register(otp_required_in_production, checks.Tags.security, deploy=True)
        if settings.PRODUCTION and not settings.OTP_REQUIRED:
            log.warning(OTP_OFF_IN_PRODUCTION)  # once per process, at start
        user_logged_in.connect(security.login_succeeded, dispatch_uid="login_succeeded")
