"""The audit log: who did what and when, for the actions that matter for trust.

Helpers' actions are recorded by the services that perform them (a chat taken, a transfer, a
limit, a bar, a notice of the duty to report); logins, logouts and failed logins by Django's
auth signals; coordinators' changes in the admin and every file downloaded from it (statistics
and feedback exports) by `AuditMiddleware`; every change of a person's rights (superuser, staff,
active, groups, permissions), password or authenticators, by whoever and however made (admin,
command, the two-step login pages), by the model signals below (never the password or key).
A record names the account and the line, never an asker's address, words, token or chat.
Records older than AUDIT_RETENTION_DAYS are deleted by purge_ip_addresses (stats/retention.py).
"""

import re
from contextvars import ContextVar
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import AuditEvent, HelperProfile

Action = AuditEvent.Action
FLAGS = {ADDITION: "added", CHANGE: "changed", DELETION: "deleted"}
FILENAME = re.compile(r'filename="?([^";]+)"?')
# The request being answered, so that model signals can name who made a change.
_request: ContextVar = ContextVar("audit_request", default=None)


def current_actor():
    """The logged-in user of the request being answered; None in a command or a job."""
    request = _request.get()
    user = getattr(request, "user", None) if request is not None else None
    return user if user is not None and user.is_authenticated else None


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
        token = _request.set(request)  # read only if a signal below fires (no session touched)
        try:
            return self._answer(request)
        finally:
            _request.reset(token)

    def _answer(self, request):
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


# --- People's rights, passwords and authenticators (model signals; connected in ChatsConfig) ----

RIGHTS = ("is_superuser", "is_staff", "is_active")


def _who(user) -> str:
    return user.get_username() if user is not None else "?"


def _person(user, text: str) -> None:
    actor = current_actor()
    if actor is not None and user is not None and text.endswith(" deleted") and actor.pk == user.pk:
        actor = None  # the account is gone: the record keeps its name in the text
    action = Action.RIGHTS
    if text.startswith("password"):
        action = Action.PASSWORD
    elif text.startswith("authenticator"):
        action = Action.DEVICE
    record(actor, action, detail=text)


def user_before_save(sender, instance, raw=False, update_fields=None, **kwargs):
    """Notes what a save of an existing account changes (a login's last_login costs nothing)."""
    if raw or instance._state.adding or instance.pk is None:
        return
    # set_password() leaves the new password here until save(); a hash upgraded at login does not.
    changes = ["password"] if getattr(instance, "_password", None) is not None else []
    if update_fields is None or set(update_fields) & set(RIGHTS):
        old = sender.objects.filter(pk=instance.pk).values(*RIGHTS).first() or {}
        for field in RIGHTS:
            if field in old and old[field] != getattr(instance, field):
                state = "off" if old[field] else "on"
                changes.append(f"{field.removeprefix('is_')} {state}")
    instance._audit_changes = changes


def user_saved(sender, instance, created=False, raw=False, **kwargs):
    if raw:
        return
    name = _who(instance)
    if created:
        rights = [field.removeprefix("is_") for field in RIGHTS[:2] if getattr(instance, field)]
        _person(instance, f"account {name} added" + (f" ({', '.join(rights)})" if rights else ""))
        return
    changes = getattr(instance, "_audit_changes", [])
    instance._audit_changes = []
    if "password" in changes:
        _person(instance, f"password of {name} set")
    rights = [change for change in changes if change != "password"]
    if rights:
        _person(instance, f"rights of {name}: {', '.join(rights)}")


def user_deleted(sender, instance, **kwargs):
    _person(instance, f"account {_who(instance)} deleted")
    # Records made during the deletion (its authenticators) by the account itself keep its name.
    AuditEvent.objects.filter(actor_id=instance.pk).update(actor=None)


def memberships_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    """Groups and permissions of a person, or the permissions of a group (its members')."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if action != "post_clear" and not pk_set:
        return
    sign = {"post_add": "+", "post_remove": "-", "post_clear": "all -"}[action]
    names = ", ".join(str(item) for item in model.objects.filter(pk__in=pk_set or [])[:5])
    kind = sender._meta.model_name  # user_groups, user_user_permissions, group_permissions
    label = {"user_groups": "groups", "group_permissions": "permissions"}.get(kind, "permissions")
    whose = str(instance) if not reverse else f"{model._meta.verbose_name} {names}"
    what = names if not reverse else str(instance)
    _person(instance, f"rights: {label} of {whose}: {sign}{what}"[:200])


def device_saved(sender, instance, created=False, raw=False, **kwargs):
    if created and not raw:
        state = "confirmed" if instance.confirmed else "unconfirmed"
        _person(instance.user, f"authenticator of {_who(instance.user)} added ({state})")


def device_deleted(sender, instance, **kwargs):
    user = getattr(instance, "user", None)
    _person(user, f"authenticator of {_who(user)} removed")


def connect_people():
    """Every change of a person's rights, password or authenticators (docs/security.md)."""
    User = get_user_model()
    pre_save.connect(user_before_save, sender=User, dispatch_uid="audit_user_pre")
    post_save.connect(user_saved, sender=User, dispatch_uid="audit_user_saved")
    post_delete.connect(user_deleted, sender=User, dispatch_uid="audit_user_deleted")
    throughs = (User.groups.through, User.user_permissions.through, Group.permissions.through)
    for through in throughs:
        m2m_changed.connect(
            memberships_changed, sender=through, dispatch_uid=f"audit_{through.__name__}"
        )
    post_save.connect(device_saved, sender=TOTPDevice, dispatch_uid="audit_device_saved")
    post_delete.connect(device_deleted, sender=TOTPDevice, dispatch_uid="audit_device_gone")
