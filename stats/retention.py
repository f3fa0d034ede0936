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
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db.models import Q
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


def _delete(queryset, dry_run: bool) -> int:
    if dry_run:
        return queryset.count()
    # Count the rows of this model only, not what the delete cascades to.
    return queryset.delete()[1].get(queryset.model._meta.label, 0)


# --- One-to-one chats --------------------------------------------------------------------------


@step("chats_too_old", "live chats past the maximum age or with a vanished asker (ended)")
def end_old_chats(now, dry_run):
    from chats import services
    from chats.models import Chat

    oldest = now - timedelta(hours=settings.CHAT_MAX_AGE_HOURS)
    asker_gone = now - timedelta(seconds=settings.CHAT_ASKER_GRACE_SECONDS)
    stale = Chat.objects.filter(Q(queued_at__lt=oldest) | Q(asker_seen_at__lt=asker_gone))
    if dry_run:
        return stale.count()
    return sum(
        services.end_chat(chat_id, by="system", now=now)
        for chat_id in stale.values_list("pk", flat=True)
    )


@step("bars_expired", "expired bars (address hashes)")
def delete_expired_bars(now, dry_run):
    from chats.models import Bar

    return _delete(Bar.objects.filter(until__lte=now), dry_run)


@step("duty_stale", "on-duty rows of closed consoles")
def delete_stale_duty(now, dry_run):
    from chats.models import DutySession

    gone = now - timedelta(seconds=settings.CHAT_HELPER_GRACE_SECONDS)
    return _delete(DutySession.objects.filter(seen_at__lt=gone), dry_run)


# --- Login records (django-axes keeps the address of every failed login) -----------------------


@step("login_attempts", "failed-login records past retention (django-axes)", "axes.AccessAttempt")
def delete_old_login_attempts(now, dry_run):
    model = _model("axes.AccessAttempt")
    return _delete(model.objects.filter(attempt_time__lt=_login_cutoff(now)), dry_run)


@step("login_logs", "login log records past retention (django-axes)", "axes.AccessLog")
def delete_old_login_logs(now, dry_run):
    model = _model("axes.AccessLog")
    return _delete(model.objects.filter(attempt_time__lt=_login_cutoff(now)), dry_run)


@step(
    "login_failures",
    "failed-login log records past retention (django-axes)",
    "axes.AccessFailureLog",
)
def delete_old_login_failures(now, dry_run):
    model = _model("axes.AccessFailureLog")
    return _delete(model.objects.filter(attempt_time__lt=_login_cutoff(now)), dry_run)


def _login_cutoff(now: datetime) -> datetime:
    """Keep a lockout alive as long as it runs, and never longer than the retention."""
    keep = timedelta(days=settings.LOGIN_RECORD_RETENTION_DAYS)
    cooloff = getattr(settings, "AXES_COOLOFF_TIME", None)
    if isinstance(cooloff, int | float):
        cooloff = timedelta(hours=cooloff)
    if isinstance(cooloff, timedelta):
        keep = max(keep, cooloff)
    return now - keep


# --- Group chats (contract section 6) -----------------------------------------------------------


@step("group_sessions_over", "group sessions past their end (closed)", "chats.GroupSession")
def close_ended_group_sessions(now, dry_run):
    from chats import groups
    from chats.models import GroupSession

    over = GroupSession.objects.filter(closed_at=None, ends_at__lte=now)
    if dry_run:
        return over.count()
    # Closing counts the session for statistics and deletes its people and messages.
    return sum(groups.close_session(pk, now=now) for pk in over.values_list("pk", flat=True))


@step(
    "group_leftovers",
    "participants (address hashes) and messages of closed group sessions",
    "chats.GroupParticipant",
)
def delete_group_leftovers(now, dry_run):
    from chats.models import GroupMessage, GroupParticipant

    # Closing deletes them; these are rows a crash left behind (sessions past their end are
    # closed by the step above first).
    done = Q(session__closed_at__isnull=False)
    return _delete(GroupParticipant.objects.filter(done), dry_run) + _delete(
        GroupMessage.objects.filter(done), dry_run
    )


# --- Follow-ups (contract section 5) ------------------------------------------------------------


@step(
    "code_guesses_expired",
    "wrong-code counters (address hashes) past their window",
    "chats.CodeGuess",
)
def delete_old_code_guesses(now, dry_run):
    from chats.models import CodeGuess

    # The window the limiter counts in (chats/followups.py); an older counter limits nothing.
    window = timedelta(seconds=getattr(settings, "FOLLOW_UP_GUESS_WINDOW_SECONDS", 3600))
    return _delete(CodeGuess.objects.filter(window_start__lt=now - window), dry_run)


@step("follow_ups_expired", "follow-up codes past their shift", "chats.FollowUp")
def expire_follow_ups(now, dry_run):
    from chats import followups
    from chats.models import Chat, FollowUp

    # A code whose follow-up chat is going on ends with that chat; any other ends with its shift.
    over = FollowUp.objects.filter(expires_at__lte=now).exclude(chat__status=Chat.Status.ACTIVE)
    if dry_run:
        return over.count()
    # The feature's own sweep: it counts unused codes for statistics and sends a waiting asker
    # to the general queue.
    swept = followups.sweep(now=now)
    return swept["expired"] + swept["released"]


# --- Per-address limits (verkkoapu/security.py) ---------------------------------------------------


@step(
    "address_counters_expired",
    "per-address limit counters (address hashes) of past hours",
    "chats.AddressCounter",
)
def delete_old_address_counters(now, dry_run):
    from verkkoapu import security

    return security.purge_address_counters(now, dry_run)


# --- The audit log (chats/audit.py) ---------------------------------------------------------------


@step("audit_events_old", "audit log events past AUDIT_RETENTION_DAYS", "chats.AuditEvent")
def delete_old_audit_events(now, dry_run):
    from chats import audit

    # Not an address (the log holds none), but kept for a set period like everything else.
    return audit.purge(now, dry_run)
