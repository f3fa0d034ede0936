from django.apps import AppConfig


class VerkkoapuConfig(AppConfig):
    """The project package as an app: its security signals (docs/security.md)."""

    name = "verkkoapu"
    verbose_name = "Verkkoapu"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from . import security

        user_logged_out.connect(
            security.close_sockets_of_session, dispatch_uid="close_sockets_of_session"
        )
        user_logged_in.connect(security.login_succeeded, dispatch_uid="login_succeeded")
