from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LettersConfig(AppConfig):
    name = "letters"
    verbose_name = _("Letters")

    def ready(self):
        # The retention job's step for letters registers itself (stats/retention.py).
        from . import retention  # noqa: F401
