"""Helper and coordinator accounts: made by the contract's commands, checked by the admin."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation

from .models import HelperProfile, ServiceLine

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
        raise AccountError(f"Unknown role {role!r}; use professional or peer.")
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
