"""What letters add to chats' own views of a line: the console's start and the live board.

Registered when the app is ready (letters/apps.py) in chats/reads.py `WELCOME_FRAMES` and
chats/board.py `ROW_EXTRAS`, like the retention steps: chats imports nothing of letters.
"""

from datetime import datetime

from django.db.models import Count

from chats import protocol
from chats.models import ServiceLine

from .models import Thread
from .services import inbox_summary, settings_of


def console_frames(helper) -> list[dict]:
    """A `letters` frame per line of the helper that takes letters: its inbox's length now.
    The console shows it at once, then follows the `letters` nudges (letters/notify.py)."""
    lines = dict(
        helper.lines.filter(active=True, letter_settings__offers_letters=True).values_list(
            "pk", "slug"
        )
    )
    counts = dict(
        Thread.objects.waiting()
        .filter(line_id__in=lines)
        .values("line_id")
        .annotate(waiting=Count("pk"))
        .values_list("line_id", "waiting")
    )
    return [protocol.letters_frame(slug, counts.get(pk, 0)) for pk, slug in lines.items()]


def board_row(line: ServiceLine, now: datetime) -> dict:
    """The live board's letters of a line that takes them: the inbox's length, and since when
    its oldest letter has waited (counts and times only, never a letter)."""
    if not settings_of(line.pk).offers_letters:
        return {}
    waiting, oldest = inbox_summary(line.pk)
    return {"letters": {"waiting": waiting, "oldest": oldest}}
