from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ChatsConfig(AppConfig):
    name = "chats"
    verbose_name = _("Chats")

    def ready(self):
        from django.contrib.auth import signals
        from django.db.models.signals import post_delete, post_save

        # In ready(): Django allows models (and modules that import them) only once apps load.
        from . import audit, notify, retention, services  # noqa: F401  (retention registers its steps)
        from .accounts import sync_coordinator_group
        from .models import Bar, ServiceLine

        # Starts keep their line a few seconds (services.get_line): a saved line is read again.
        # Bars likewise (services.active_bar).
        for signal in (post_save, post_delete):
            signal.connect(services.forget_lines, sender=ServiceLine, dispatch_uid="forget_lines")
            signal.connect(services.forget_bars, sender=Bar, dispatch_uid="forget_bars")

        # New models' permissions reach coordinators after every migrate.
        post_migrate.connect(sync_coordinator_group, dispatch_uid="sync_coordinator_group")
        # A logout closes every helper socket of that login (4403), before it is audited.
        signals.user_logged_out.connect(
            notify.close_sockets_of_session, dispatch_uid="close_sockets_of_session"
        )
        # The audit log of logins (docs/workflow.md).
        signals.user_logged_in.connect(audit.on_login, dispatch_uid="audit_login")
        signals.user_logged_out.connect(audit.on_logout, dispatch_uid="audit_logout")
        signals.user_login_failed.connect(audit.on_login_failed, dispatch_uid="audit_login_failed")
        audit.connect_people()  # every change of a person's rights (docs/security.md)
