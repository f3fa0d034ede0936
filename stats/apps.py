from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatsConfig(AppConfig):
    name = "stats"
    verbose_name = _("Statistics")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        # In ready(): Django allows models (and modules that import them) only once apps load.
        from chats.models import ServiceLine

        from .services import forget_practice

        for signal in (post_save, post_delete):
            signal.connect(forget_practice, sender=ServiceLine, dispatch_uid="forget_practice")
