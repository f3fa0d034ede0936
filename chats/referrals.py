"""Which services an asker of a line may be pointed to (the referral directory's one rule).

An entry is shown on the lines it names, or on every line when it names none; with a region, the
nationwide entries and those of that region (a municipality or a wellbeing services county,
compared without case); with `available_now`, only those open at that moment: 24/7, or inside
their hours (on weekdays that are not Finnish public holidays when the entry says so). Nothing
about an asker's choice of region is stored.
"""

from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from scheduling.services import finnish_holidays

from .models import Referral, ServiceLine


def open_at(entry: Referral, at: datetime) -> bool:
    if entry.always_open:
        return True
    if entry.opens is None or entry.closes is None:
        return False  # hours as text only: not known to be open
    local = timezone.localtime(at)
    day = local.date()
    if entry.weekdays_only and (day.weekday() >= 5 or day in finnish_holidays(day.year, day.year)):
        return False
    closes_at_midnight = entry.closes.hour == 0 and entry.closes.minute == 0
    return entry.opens <= local.time() and (closes_at_midnight or local.time() < entry.closes)


def referrals_for(
    line: ServiceLine,
    region: str | None = None,
    *,
    available_now: bool = False,
    now: datetime | None = None,
) -> list[Referral]:
    """The line's active entries (and every line's), for a region if one is given."""
    entries = (
        Referral.objects.filter(active=True)
        .filter(Q(lines=line) | Q(lines=None))
        .distinct()
        .order_by("order", "name")
    )
    if region:
        entries = entries.filter(Q(region="") | Q(region__iexact=region.strip()))
    found = list(entries)
    if available_now:
        now = now or timezone.now()
        found = [entry for entry in found if open_at(entry, now)]
    return found


def regions(line: ServiceLine) -> list[str]:
    """The regions the line's entries name, for the asker to pick from."""
    return sorted(
        set(
            Referral.objects.filter(active=True)
            .filter(Q(lines=line) | Q(lines=None))
            .exclude(region="")
            .values_list("region", flat=True)
        )
    )


def as_json(entry: Referral, language: str, now: datetime | None = None) -> dict:
    """What the widget shows of an entry, in the asker's language."""
    return {
        "name": entry.localized_name(language),
        "description": entry.localized_description(language),
        "region": entry.region,
        "phone": entry.phone,
        "url": entry.url,
        "hours": entry.hours,
        "always_open": entry.always_open,
        "open_now": open_at(entry, now or timezone.now()),
        "languages": [code for code in entry.languages.replace(" ", "").split(",") if code],
    }
