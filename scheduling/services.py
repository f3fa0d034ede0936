"""Scheduling rules from the database, answered by the pure functions of hours.py."""

from datetime import datetime
from functools import lru_cache

import holidays as holidays_lib
from django.db.models import Q
from django.utils import timezone

from chats.models import ServiceLine

from . import hours
from .models import HoursException, OpeningHours


@lru_cache(maxsize=8)
def finnish_holidays(first_year: int, last_year: int):
    return holidays_lib.Finland(years=range(first_year, last_year + 1))


def rules_for(line: ServiceLine):
    week = {
        row.weekday: hours.DailyHours(row.opens, row.closes)
        for row in OpeningHours.objects.filter(line=line)
    }
    exceptions = [
        hours.HoursException(
            row.first_day,
            row.last_day,
            None if row.closed else hours.DailyHours(row.opens, row.closes),
            row.weekdays_only,
        )
        for row in HoursException.objects.filter(Q(line=line) | Q(line=None)).order_by(
            "created_at", "pk"
        )
    ]
    return week, exceptions


def line_status(line: ServiceLine, at: datetime | None = None) -> hours.Status:
    """Is the line open at `at` (default now), and when does it next open or close."""
    at = at or timezone.now()
    week, exceptions = rules_for(line)
    year = at.astimezone(hours.HELSINKI).year
    return hours.status_at(at, week, exceptions, finnish_holidays(year, year + 1))
