"""Helper and coordinator accounts: made by the contract's commands, checked by the admin.

Also the one-time enrolment codes that let a person set up (or replace) the authenticator of
two-step login (verkkoapu/twofactor.py, docs/security.md): shown once, kept as a hash, expiring.
"""

import hashlib
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from . import audit
from .models import AuditEvent, EnrolmentCode, HelperProfile, ServiceLine

COORDINATORS = "Coordinators"
# Coordinators run everything the service has; Django's own auth models only for people.
COORDINATED_APPS = ("chats", "scheduling", "stats", "feedback", "letters")


class AccountError(Exception):
    pass


def sync_coordinator_group(**kwargs) -> Group:
    """Coordinators may do everything on the service's own models and manage user accounts."""
    group, _ = Group.objects.get_or_create(name=COORDINATORS)
    permissions = Permission.objects.filter(content_type__app_label__in=COORDINATED_APPS)
    people = Permission.objects.filter(content_type__app_label="auth", content_type__model="user")
    group.permissions.set([*permissions, *people])
    return group


def _new_user(username: str, password: str):
    User = get_user_model()
    if not username or not username.strip():
        raise AccountError("The username cannot be empty.")
    if User.objects.filter(username=username).exists():
        raise AccountError(f"A user named {username!r} already exists.")
    if not password:
        raise AccountError("The password cannot be empty.")
    return User.objects.create_user(username=username, password=password)


def password_warnings(password: str, user) -> list[str]:
    """What AUTH_PASSWORD_VALIDATORS say of the password just set (empty when it passes).

    The contract's commands take any password and never stop on these: an operator scripting
    a set-up gets the account, and a warning on stderr to change a weak password in admin.
    """
    try:
        with translation.override("en"):  # as the rest of the commands' output
            validate_password(password, user)
    except ValidationError as error:
        return [f"Weak password: {message} Change it in admin." for message in error.messages]
    return []


@transaction.atomic
def create_helper(username, password, role, display_name, services) -> HelperProfile:
    if role not in HelperProfile.Role.values:
        raise AccountError(f"Unknown role {role!r}; use professional, peer or volunteer.")
    if not display_name or not display_name.strip():
        raise AccountError("The display name cannot be empty.")
    if not services:
        raise AccountError("Name at least one --service.")
    lines = list(ServiceLine.objects.filter(slug__in=services))
    unknown = sorted(set(services) - {line.slug for line in lines})
    if unknown:
        raise AccountError(f"Unknown service {', '.join(map(repr, unknown))}.")
    user = _new_user(username, password)
    helper = HelperProfile.objects.create(user=user, display_name=display_name.strip(), role=role)
    helper.lines.set(lines)
    return helper


@transaction.atomic
def create_coordinator(username, password):
    user = _new_user(username, password)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(sync_coordinator_group())
    return user


# --- Enrolment codes ------------------------------------------------------------------------------


def _code_hash(code: str) -> str:
    # The code is random (120 bits): a plain digest is as good as a slow hash, and lookups by it
    # are one indexed query.
    return hashlib.sha256(code.strip().encode()).hexdigest()


def issue_enrolment_code(user, *, actor=None, now=None) -> str:
    """A new one-time code for `user` (the earlier ones, used or not, go); shown once."""
    now = now or timezone.now()
    code = secrets.token_urlsafe(15)
    with transaction.atomic():
        EnrolmentCode.objects.filter(user=user).delete()
        EnrolmentCode.objects.create(
            user=user,
            code_hash=_code_hash(code),
            created_at=now,
            expires_at=now + timedelta(hours=settings.OTP_ENROLMENT_HOURS),
        )
        audit.record(
            actor if actor is not None else audit.current_actor(),
            AuditEvent.Action.ENROLMENT,
            detail=f"enrolment code for {user.get_username()}",
            now=now,
        )
    return code


def enrolment_path(code: str) -> str:
    """The link that opens the setup page with the code filled in (after the login)."""
    return f"{reverse('otp-setup')}?{urlencode({'code': code})}"


def valid_enrolment_code(user, code: str, now=None) -> EnrolmentCode | None:
    """The unused, unexpired code of `user` that `code` is; None if it is not one."""
    if not code or not code.strip():
        return None
    return EnrolmentCode.objects.filter(
        user=user,
        code_hash=_code_hash(code),
        used_at__isnull=True,
        expires_at__gt=now or timezone.now(),
    ).first()


def spend_enrolment_code(enrolment: EnrolmentCode, now=None) -> bool:
    """Mark the code used; False if another request spent it first (call in a transaction)."""
    return bool(
        EnrolmentCode.objects.filter(pk=enrolment.pk, used_at__isnull=True).update(
            used_at=now or timezone.now()
        )
    )


def add_enrolment_argument(parser):
    parser.add_argument(
        "--enrolment-code",
        action="store_true",
        help="print a one-time enrolment code even with two-step login off (OTP_REQUIRED)",
    )


def enrolment_line(user) -> str:
    """One line with a new one-time enrolment code for the person's first authenticator."""
    code = issue_enrolment_code(user)
    return (
        f"Enrolment code for {user.get_username()} (shown once, valid "
        f"{settings.OTP_ENROLMENT_HOURS} h): {code} (or, after logging in: {enrolment_path(code)})"
    )
