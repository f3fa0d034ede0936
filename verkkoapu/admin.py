"""The admin of people and their logins: accounts, authenticators, login records.

Coordinators manage helpers' and coordinators' accounts, but never their own or anyone's rights
(superuser, staff, groups, permissions are read-only for them, and a POST that sets them is
refused), never a superuser's account, and never see a TOTP key or a login address. Nobody
sees a TOTP key here: `resetotp` and the actions below give a person an enrolment code for a
new authenticator instead (verkkoapu/twofactor.py, docs/security.md). The changes themselves
are audited by chats/audit.py.
"""

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from chats.accounts import enrolment_path, issue_enrolment_code

User = get_user_model()
# What only a superuser may set on an account.
RIGHTS_FIELDS = ("is_superuser", "is_staff", "groups", "user_permissions")


class DeclaredLookupsOnly:
    """Lookups in the URL only on the declared list filters (Django accepts any local field,
    e.g. `?password__startswith=` or `?ip_address__startswith=`, which would answer a test)."""

    def lookup_allowed(self, lookup, value, request):
        declared = {
            entry if isinstance(entry, str) else entry[0]
            for entry in self.get_list_filter(request)
            if isinstance(entry, str | tuple | list)
        }
        if lookup.split("__")[0] not in declared:
            return False
        return super().lookup_allowed(lookup, value, request)


def _only_superuser_edits_superuser(request, obj) -> bool:
    return obj is None or not obj.is_superuser or request.user.is_superuser


if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class PersonAdmin(DeclaredLookupsOnly, UserAdmin):
    list_display = ["username", "first_name", "last_name", "is_active", "is_staff", "has_device"]
    actions = ["issue_enrolment_codes", "replace_authenticators"]

    @admin.display(description=_("two-step login"), boolean=True, ordering="device_set_up")
    def has_device(self, obj):
        return obj.device_set_up

    def get_queryset(self, request):
        devices = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(device_set_up=Exists(devices))

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += [field for field in RIGHTS_FIELDS if field not in fields]
        return fields

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and _only_superuser_edits_superuser(request, obj)

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and _only_superuser_edits_superuser(request, obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if (
            request.method == "POST"
            and not request.user.is_superuser
            and any(field in request.POST for field in RIGHTS_FIELDS)
        ):
            raise PermissionDenied("Only a superuser changes a person's rights.")
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_queryset(self, request, queryset):
        if not request.user.is_superuser and queryset.filter(is_superuser=True).exists():
            raise PermissionDenied("Only a superuser deletes a superuser.")
        super().delete_queryset(request, queryset)

    def _people(self, request, queryset):
        if request.user.is_superuser:
            return list(queryset)
        people = list(queryset.filter(is_superuser=False))
        if len(people) < queryset.count():
            self.message_user(
                request, _("A superuser's account is left to a superuser."), messages.WARNING
            )
        return people

    def _codes_page(self, request, people, title):
        codes = []
        for person in people:
            code = issue_enrolment_code(person, actor=request.user)
            codes.append((person, code, request.build_absolute_uri(enrolment_path(code))))
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "codes": codes,
            "opts": self.model._meta,
        }
        response = TemplateResponse(request, "admin/auth/user/enrolment_codes.html", context)
        response["Cache-Control"] = "no-store"  # the codes are shown once
        return response

    @admin.action(
        description=_("Give an enrolment code for a new authenticator"), permissions=["change"]
    )
    def issue_enrolment_codes(self, request, queryset):
        people = self._people(request, queryset)
        return self._codes_page(request, people, _("Enrolment codes"))

    @admin.action(
        description=_("Remove authenticators now (lost phone) and give an enrolment code"),
        permissions=["change"],
    )
    def replace_authenticators(self, request, queryset):
        people = self._people(request, queryset)
        for device in TOTPDevice.objects.filter(user__in=people):
            device.delete()  # one by one: each removal is audited
        return self._codes_page(request, people, _("Enrolment codes"))


# --- Authenticators: which exist, never their keys ------------------------------------------------

if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


class ViewAndDeleteOnly(DeclaredLookupsOnly, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TOTPDevice)
class AuthenticatorAdmin(ViewAndDeleteOnly):
    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    search_fields = ["user__username"]
    fields = list_display
    readonly_fields = list_display

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and _only_superuser_edits_superuser(request, obj and obj.user)


# --- Login records: who and when, never from where ------------------------------------------------

for model in (AccessAttempt, AccessLog, AccessFailureLog):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class LoginRecordAdmin(ViewAndDeleteOnly):
    """A django-axes record: its username, time and one more column, read-only."""

    list_filter = ["attempt_time"]
    search_fields = ["username"]

    def get_fields(self, request, obj=None):
        return self.list_display

    def get_readonly_fields(self, request, obj=None):
        return self.list_display


@admin.register(AccessAttempt)
class LoginAttemptAdmin(LoginRecordAdmin):
    """Deleting a row lifts that lockout."""

    list_display = ["username", "attempt_time", "failures_since_start"]


@admin.register(AccessLog)
class LoginLogAdmin(LoginRecordAdmin):
    list_display = ["username", "attempt_time", "logout_time"]


@admin.register(AccessFailureLog)
class LoginFailureAdmin(LoginRecordAdmin):
    list_display = ["username", "attempt_time", "locked_out"]
    list_filter = ["attempt_time", "locked_out"]
