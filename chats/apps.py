from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ChatsConfig(AppConfig):
    name = "chats"
    verbose_name = _("Chats")

    def ready(self):
        from django.contrib.auth import signals
        from django.db.models.signals import post_delete, post_save

        from . import audit, retention, services  # noqa: F401  (retention registers its steps)
        from .accounts import sync_coordinator_group
        from .models import Bar, ServiceLine

        # Starts keep their line a few seconds (services.get_line): a saved line is read again.
        # Bars likewise (services.active_bar).
        for signal in (post_save, post_delete):
            signal.connect(services.forget_lines, sender=ServiceLine, dispatch_uid="forget_lines")
            signal.connect(services.forget_bars, sender=Bar, dispatch_uid="forget_bars")

        # New models' permissions reach coordinators after every migrate.
        post_migrate.connect(sync_coordinator_group, dispatch_uid="sync_coordinator_group")
        # The audit log of logins (docs/workflow.md).
        signals.user_logged_in.connect(audit.on_login, dispatch_uid="audit_login")
        signals.user_logged_out.connect(audit.on_logout, dispatch_uid="audit_logout")
        signals.user_login_failed.connect(audit.on_login_failed, dispatch_uid="audit_login_failed")
        self.audit_people()

    def audit_people(self):
        """Every change of a person's rights, password or authenticators (docs/security.md)."""
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from . import audit

        User = get_user_model()
        pre_save.connect(audit.user_before_save, sender=User, dispatch_uid="audit_user_pre")
        post_save.connect(audit.user_saved, sender=User, dispatch_uid="audit_user_saved")
        post_delete.connect(audit.user_deleted, sender=User, dispatch_uid="audit_user_deleted")
        throughs = (User.groups.through, User.user_permissions.through, Group.permissions.through)
        for through in throughs:
            m2m_changed.connect(
                audit.memberships_changed, sender=through, dispatch_uid=f"audit_{through.__name__}"
            )
        post_save.connect(audit.device_saved, sender=TOTPDevice, dispatch_uid="audit_device_saved")
        post_delete.connect(
            audit.device_deleted, sender=TOTPDevice, dispatch_uid="audit_device_gone"
        )
