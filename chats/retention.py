"""chats' retention steps: what of its rows outlives a chat, purged once its time is up
(`manage.py purgeips` and the daily job run every registered step; stats/retention.py holds the
registry). Registered when the app is ready (chats/apps.py)."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q

from stats.retention import delete_rows, step
from verkkoapu import addresses

from . import audit, followups, groups
from .models import (
    Bar,
    Chat,
    DutySession,
    FollowUp,
    GroupMessage,
    GroupParticipant,
    GroupSession,
)
from .services.ending import end_chat

# --- One-to-one chats --------------------------------------------------------------------------


@step("chats_too_old", "live chats past the maximum age or with a vanished asker (ended)")
def end_old_chats(now, dry_run):

    oldest = now - timedelta(hours=settings.CHAT_MAX_AGE_HOURS)
    asker_gone = now - timedelta(seconds=settings.CHAT_ASKER_GRACE_SECONDS)
    stale = Chat.objects.filter(Q(queued_at__lt=oldest) | Q(asker_seen_at__lt=asker_gone))
    if dry_run:
        return stale.count()
    return sum(
        end_chat(chat_id, by="system", now=now) for chat_id in stale.values_list("pk", flat=True)
    )


@step("bars_expired", "expired bars (address hashes)")
def delete_expired_bars(now, dry_run):

    return delete_rows(Bar.objects.filter(until__lte=now), dry_run)


@step("duty_stale", "on-duty rows of closed consoles")
def delete_stale_duty(now, dry_run):

    gone = now - timedelta(seconds=settings.CHAT_HELPER_GRACE_SECONDS)
    return delete_rows(DutySession.objects.filter(seen_at__lt=gone), dry_run)


# --- Group chats (contract section 6) -----------------------------------------------------------


@step("group_sessions_over", "group sessions past their end (closed)", "chats.GroupSession")
def close_ended_group_sessions(now, dry_run):

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

    # Closing deletes them; these are rows a crash left behind (sessions past their end are
    # closed by the step above first).
    done = Q(session__closed_at__isnull=False)
    return delete_rows(GroupParticipant.objects.filter(done), dry_run) + delete_rows(
        GroupMessage.objects.filter(done), dry_run
    )


# --- Follow-ups (contract section 5) ------------------------------------------------------------


@step(
    "code_guesses_expired",
    "wrong-code counters (address hashes) past their window",
    "chats.CodeGuess",
)
def delete_old_code_guesses(now, dry_run):

    # A window that is over (chats/followups.py) limits nothing.
    return delete_rows(followups.CODE_GUESSES.over(now), dry_run)


@step("follow_ups_expired", "follow-up codes past their shift", "chats.FollowUp")
def expire_follow_ups(now, dry_run):

    # A code whose follow-up chat is going on ends with that chat; any other ends with its shift.
    over = FollowUp.objects.filter(expires_at__lte=now).exclude(chat__status=Chat.Status.ACTIVE)
    if dry_run:
        return over.count()
    # The feature's own sweep: it counts unused codes for statistics and sends a waiting asker
    # to the general queue.
    swept = followups.sweep(now=now)
    return swept["expired"] + swept["released"]


# --- Per-address limits (verkkoapu/addresses.py) -----------------------------------------------


@step(
    "address_counters_expired",
    "per-address limit counters (address hashes) of past hours",
    "chats.AddressCounter",
)
def delete_old_address_counters(now, dry_run):

    return addresses.purge_address_counters(now, dry_run)


# --- The audit log (chats/audit.py) ---------------------------------------------------------------


@step("audit_events_old", "audit log events past AUDIT_RETENTION_DAYS", "chats.AuditEvent")
def delete_old_audit_events(now, dry_run):

    # Not an address (the log holds none), but kept for a set period like everything else.
    return audit.purge(now, dry_run)
