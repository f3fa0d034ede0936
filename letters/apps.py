from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LettersConfig(AppConfig):
    name = "letters"
    verbose_name = _("Letters")

    def ready(self):
        # The retention job's step for letters registers itself (stats/retention.py); the
        # console's start and the live board get the letters inbox (letters/hooks.py).
        # In ready(): Django allows models (and modules that import them) only once apps load.
        from chats import board, reads

        from . import hooks, retention  # noqa: F401

        reads.WELCOME_FRAMES.append(hooks.console_frames)
        board.ROW_EXTRAS.append(hooks.board_row)
