"""A line may ask an age range before the chat (its ranges are line settings, set in admin).

Nothing is stored of the answer but one statistics count per started chat (metric `age`, keyed
by the range); no birth date is ever asked. A range marked `outside` is not served by the
line: its asker is shown the line's `outside_age_line` instead (the youth line points adults to
the adult line this way).
"""

from datetime import datetime

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from stats import services as stats

from .errors import ChatError
from .models import AgeRange, ServiceLine

# The youth line's key for adults, which the widget also knows (static/chats/widget.js).
ADULT = "18_plus"


def age_ranges(line: ServiceLine) -> list[AgeRange]:
    return list(line.age_ranges.all())


def asks_age(line: ServiceLine) -> bool:
    return line.age_ranges.exists()


def age_question(line: ServiceLine, language: str) -> list[dict]:
    """The line's ranges in the asker's language, for the widget (empty: no question)."""
    return [
        {"key": r.key, "label": r.localized_label(language), "outside": r.outside}
        for r in age_ranges(line)
    ]


def adult_line(line: ServiceLine) -> ServiceLine | None:
    """The line shown to those outside this line's age range."""
    other = line.outside_age_line
    return other if other is not None and other.active else None


def refuse_adult(line: ServiceLine, age: str | None, language: str) -> None:
    """`invalid` for a range the line does not have; `over_age`, naming the line for those
    outside the range, when the asker's range is outside this line's."""
    if not age:
        return
    ranges = {r.key: r for r in age_ranges(line)}
    if not ranges:
        return  # the line asks no age: an answer is ignored, as before
    if age not in ranges:
        raise ChatError("invalid", f"'age' must be one of {', '.join(ranges)}.")
    if not ranges[age].outside:
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
    """One count per started chat of a line that asks, by range; nothing else is kept."""
    if age and line.age_ranges.filter(key=age).exists():
        stats.increment(line.pk, timezone.localdate(now), "age", age)
