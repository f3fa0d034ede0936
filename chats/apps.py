from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ChatsConfig(AppConfig):
    name = "chats"
    verbose_name = _("Chats")

    def ready(self):
        from .accounts import sync_coordinator_group

        # New models' permissions reach coordinators after every migrate.
        post_migrate.connect(sync_coordinator_group, dispatch_uid="sync_coordinator_group")
