from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = _("Scheduling")

    def ready(self):
        # In ready(): Django allows models (and modules that import them) only once apps load.
        from . import signals  # noqa: F401  (connects the receivers)
