"""Retention: remove every IP address, and everything derived from one, once its time is up.

By design an ended chat leaves nothing (its row, messages, token and address are deleted by
`end_chat`), so the purge deals with what outlives a chat on purpose or by accident:
- bars (a keyed hash of the address) whose time has run out;
- chats that have lived longer than CHAT_MAX_AGE_HOURS, or whose asker has gone without the
  sweeper noticing (every daphne process was down): the system ends them, which deletes them;
- on-duty connection rows of consoles that are gone;
- what other features keep for a while (follow-up codes, group-chat leftovers, login-attempt
  records), each past its own retention.
Every step is idempotent and safe to run at any time, concurrently with live chats.

This module holds the registry (`step`) and the steps of what no app owns (django-axes' login
records); each app registers its own steps when it is ready (chats/retention.py), so this
module imports no app's services.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.utils import timezone


@dataclass
class Purged:
    kind: str  # stable name, for tests and logs
    label: str  # what the command prints
    count: int


def purge_ip_addresses(now: datetime | None = None, dry_run: bool = False) -> list[Purged]:
    """Remove everything IP-related that is past its retention; one count per kind."""
    now = now or timezone.now()
    return [run(now, dry_run) for run in STEPS if _applies(run)]


def _applies(run) -> bool:
    return run.needs_model is None or _model(run.needs_model) is not None


def _model(label: str):
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def step(kind: str, label: str, needs_model: str | None = None):
    """Register a purge step `fn(now, dry_run) -> count`, run only if `needs_model` exists."""

    def register(fn: Callable[[datetime, bool], int]):
        def run(now, dry_run):
            return Purged(kind, label, fn(now, dry_run))

        run.needs_model = needs_model
        STEPS.append(run)
        return fn

    return register


STEPS: list = []


def delete_rows(queryset, dry_run: bool) -> int:
    if dry_run:
        return queryset.count()
    # Count the rows of this model only, not what the delete cascades to.
    return queryset.delete()[1].get(queryset.model._meta.label, 0)


# --- Login records (django-axes keeps the address of every failed login) -----------------------


@step("login_attempts", "failed-login records past retention (django-axes)", "axes.AccessAttempt")
def delete_old_login_attempts(now, dry_run):
    model = _model("axes.AccessAttempt")
    return delete_rows(model.objects.filter(attempt_time__lt=_login_cutoff(now)), dry_run)


@step("login_logs", "login log records past retention (django-axes)", "axes.AccessLog")
def delete_old_login_logs(now, dry_run):
    model = _model("axes.AccessLog")
    return delete_rows(model.objects.filter(attempt_time__lt=_login_cutoff(now)), dry_run)


@step(
    "login_failures",
    "failed-login log records past retention (django-axes)",
    "axes.AccessFailureLog",
)
def delete_old_login_failures(now, dry_run):
    model = _model("axes.AccessFailureLog")
    return delete_rows(model.objects.filter(attempt_time__lt=_login_cutoff(now)), dry_run)


def _login_cutoff(now: datetime) -> datetime:
    """Keep a lockout alive as long as it runs, and never longer than the retention."""
    keep = timedelta(days=settings.LOGIN_RECORD_RETENTION_DAYS)
    cooloff = getattr(settings, "AXES_COOLOFF_TIME", None)
    if isinstance(cooloff, int | float):
        cooloff = timedelta(hours=cooloff)
    if isinstance(cooloff, timedelta):
        keep = max(keep, cooloff)
    return now - keep
