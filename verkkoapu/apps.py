from django.apps import AppConfig


class VerkkoapuConfig(AppConfig):
    """The project package as an app: its security signals (docs/security.md)."""

    name = "verkkoapu"
    verbose_name = "Verkkoapu"

    def ready(self):
        from django.contrib import admin
        from django.contrib.auth.signals import user_logged_out
        from django.utils.translation import gettext_lazy as _

        # The coordinators' admin carries the service's name, in the page's language.
        admin.site.site_header = _("Verkkoapu – administration")
        admin.site.site_title = _("Verkkoapu administration")
        admin.site.index_title = _("Running the service")
        # The index lists every model; a second list beside each page only took the width the
        # tables need (they were clipped under the filters at 1280 px).
        admin.site.enable_nav_sidebar = False

        from . import security

        user_logged_out.connect(
            security.close_sockets_of_session, dispatch_uid="close_sockets_of_session"
        )
