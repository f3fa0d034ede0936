"""The youth line asks an age range before the chat; an adult is shown the adult line instead.

Nothing is stored of the answer but one statistics count per started chat (metric `age`, keyed
by the range); no birth date is ever asked.
"""

from datetime import datetime

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from stats import services as stats

from .errors import ChatError
from .models import ServiceLine

# The line for children and young people, and the adult line an over-18 is shown instead.
ADULT_LINE_FOR = {"lapset-nuoret": "vakivalta"}
ADULT = "18_plus"


def asks_age(line: ServiceLine) -> bool:
    return line.slug in ADULT_LINE_FOR


def adult_line(line: ServiceLine) -> ServiceLine | None:
    slug = ADULT_LINE_FOR.get(line.slug)
    return ServiceLine.objects.filter(slug=slug, active=True).first() if slug else None


def refuse_adult(line: ServiceLine, age: str | None, language: str) -> None:
    """`over_age`, naming the adult line, when an adult starts on the youth line."""
    if not asks_age(line) or age != ADULT:
        return
    other = adult_line(line)
    with translation.override(language):
        message = _(
            "This chat is for children and young people under 18. Adults have their own chat "
            "service, where you are welcome."
        )
        service = {"slug": other.slug, "name": other.localized_name(language)} if other else None
    raise ChatError("over_age", message, service=service)


def count_age(line: ServiceLine, age: str | None, now: datetime) -> None:
    """One count per started chat of the youth line, by range; nothing else is kept."""
    if asks_age(line) and age:
        stats.increment(line.pk, timezone.localdate(now), "age", age)
