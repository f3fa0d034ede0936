"""Demo mode: every line open around the clock, a demo helper and coordinator, a banner on
every page. `manage.py demo` turns it on (`./dev demo` too), `manage.py demo --off` off.

It is on while its hours exception exists, so every process (the server, a second one) sees
the same state and nothing else has to be remembered; turning it off deletes that exception and
the two demo accounts, and the line's own hours hold again.
"""

import secrets
from dataclasses import dataclass
from datetime import time, timedelta

from django.db import transaction
from django.utils import timezone

from chats.accounts import create_coordinator, create_helper
from chats.models import ServiceLine
from scheduling.models import HoursException

NOTE = "DEMO: open around the clock (manage.py demo --off ends it)"
HELPER = "demo-auttaja"
COORDINATOR = "demo-koordinaattori"


@dataclass
class Accounts:
    helper: str
    helper_password: str
    coordinator: str
    coordinator_password: str


def is_on() -> bool:
    return HoursException.objects.filter(note=NOTE).exists()


@transaction.atomic
def turn_on(days: int = 30) -> Accounts:
    """Open every line (for `days` from today) and (re)make the demo accounts, new passwords."""
    turn_off()
    today = timezone.localdate()
    HoursException.objects.create(
        line=None,  # every line
        first_day=today - timedelta(days=1),
        last_day=today + timedelta(days=days),
        closed=False,
        opens=time(0),
        closes=time(0),  # 00:00–00:00: the whole day
        weekdays_only=False,
        note=NOTE,
    )
    helper_password, coordinator_password = secrets.token_urlsafe(9), secrets.token_urlsafe(9)
    lines = ServiceLine.objects.filter(active=True, kind=ServiceLine.Kind.ONE_TO_ONE)
    create_helper(
        HELPER, helper_password, "professional", "Demo-auttaja", [line.slug for line in lines]
    )
    create_coordinator(COORDINATOR, coordinator_password)
    return Accounts(HELPER, helper_password, COORDINATOR, coordinator_password)


@transaction.atomic
def turn_off() -> None:
    from django.contrib.auth import get_user_model

    HoursException.objects.filter(note=NOTE).delete()
    get_user_model().objects.filter(username__in=[HELPER, COORDINATOR]).delete()


def context(request) -> dict:
    """Template context: `demo_mode` for the banner of base.html and the admin's base_site."""
    return {"demo_mode": is_on()}
