"""The audit log: who did what and when, for the actions that matter for trust.

Helpers' actions are recorded by the services that perform them (a chat taken, a transfer, a
limit, a bar, a notice of the duty to report); logins, logouts and failed logins by Django's
auth signals; coordinators' changes in the admin and every file downloaded from it (statistics
and feedback exports) by `AuditMiddleware`. A record names the account and the line, never an
asker's address, words, token or chat. Records older than AUDIT_RETENTION_DAYS are deleted by
purge_ip_addresses (stats/retention.py).
"""

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth import get_user_model
from django.utils import timezone

from .models import AuditEvent, HelperProfile

Action = AuditEvent.Action
FLAGS = {ADDITION: "added", CHANGE: "changed", DELETION: "deleted"}
FILENAME = re.compile(r'filename="?([^";]+)"?')


def record(actor, action: str, *, line=None, detail: str = "", now=None) -> AuditEvent:
    """One event by `actor` (a user, a helper or None)."""
    user = actor.user if isinstance(actor, HelperProfile) else actor
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    return AuditEvent.objects.create(
        at=now or timezone.now(),
        actor=user,
        actor_name=user.get_username() if user is not None else "",
        action=action,
        line=line,
        detail=detail[:200],
    )


def purge(now: datetime, dry_run: bool = False) -> int:
    """Delete the events older than AUDIT_RETENTION_DAYS; how many (would) go."""
    old = AuditEvent.objects.filter(at__lt=now - timedelta(days=settings.AUDIT_RETENTION_DAYS))
    return old.count() if dry_run else old.delete()[0]


# --- Logins (django.contrib.auth signals; connected in ChatsConfig.ready) -------------------------


def on_login(sender, request, user, **kwargs):
    record(user, Action.LOGIN)


def on_logout(sender, request, user, **kwargs):
    if user is not None:
        record(user, Action.LOGOUT)


def on_login_failed(sender, credentials, request=None, **kwargs):
    # Only a name that is an account's: a mistyped name may be someone's password.
    username = credentials.get("username") or ""
    user = get_user_model().objects.filter(username=username).first() if username else None
    AuditEvent.objects.create(
        at=timezone.now(),
        actor=user,
        actor_name=user.get_username() if user else "",
        action=Action.LOGIN_FAILED,
        detail="" if user else "unknown username",
    )


# --- The admin: changes and downloads -------------------------------------------------------------


class AuditMiddleware:
    """Records coordinators' admin changes (Django's LogEntry, bulk ones too) and downloads."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        watched = request.path.startswith("/admin/") and _staff(request)
        last_entry = None
        if watched and request.method == "POST":
            last_entry = LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        response = self.get_response(request)
        if not watched:
            return response
        if last_entry is not None:
            for entry in LogEntry.objects.filter(pk__gt=last_entry, user=request.user).order_by(
                "pk"
            ):
                record(request.user, Action.ADMIN_CHANGE, detail=describe(entry))
        disposition = response.get("Content-Disposition", "")
        if response.status_code == 200 and disposition.startswith("attachment"):
            found = FILENAME.search(disposition)
            record(request.user, Action.EXPORT, detail=found.group(1) if found else request.path)
        return response


def _staff(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_staff)


def describe(entry: LogEntry) -> str:
    kind = entry.content_type.model if entry.content_type_id else "?"
    app = entry.content_type.app_label if entry.content_type_id else "?"
    return f"{FLAGS.get(entry.action_flag, '?')} {app}.{kind}: {entry.object_repr}"
