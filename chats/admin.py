from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from scheduling.admin import HoursExceptionInline, OpeningHoursInline, ShiftSlotInline
from scheduling.services import BookingError, parse_slot_label
from stats.admin import PageAdmin, TopicInline
from verkkoapu.admin_forms import LabelledInputs

from . import board, duty, followups, group_series, groups
from .admin_base import GuardedAdmin
from .models import (
    AgeRange,
    AuditEvent,
    Bar,
    Chat,
    DutySession,
    GroupSeries,
    GroupSession,
    HelperProfile,
    LiveBoard,
    PreparedText,
    Referral,
    ServiceLine,
)

LIVE_REFRESH_SECONDS = 15


class AgeRangeInline(admin.TabularInline):
    """The line's age question (statistics only); none: the line asks no age."""

    model = AgeRange
    fk_name = "line"
    extra = 0


class ServiceLineForm(forms.ModelForm):
    class Meta:
        model = ServiceLine
        fields = "__all__"  # noqa: DJ007 (the admin lists the fields)

    def clean_default_slots(self):
        value = self.cleaned_data["default_slots"]
        for label in filter(None, (part.strip() for part in value.split(","))):
            try:
                parse_slot_label(label)
            except BookingError as error:
                raise forms.ValidationError(str(error)) from None
        return value


@admin.register(ServiceLine)
class ServiceLineAdmin(LabelledInputs, GuardedAdmin):
    form = ServiceLineForm
    list_display = ["name", "slug", "kind", "active", "practice", "order"]
    list_filter = ["kind", "active", "practice"]
    list_editable = ["active", "order"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [
        AgeRangeInline,
        OpeningHoursInline,
        HoursExceptionInline,
        ShiftSlotInline,
        TopicInline,
    ]


@admin.register(HelperProfile)
class HelperProfileAdmin(GuardedAdmin):
    list_display = ["display_name", "role", "user", "line_list", "capacity", "support_person"]
    list_filter = ["role", "lines"]
    search_fields = ["display_name", "user__username"]
    filter_horizontal = ["lines"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # A support person is an employee: a plain, labelled list of the professionals (the
        # autocomplete widget's box had no accessible name).
        if db_field.name == "support_person":
            kwargs["queryset"] = HelperProfile.objects.filter(
                role=HelperProfile.Role.PROFESSIONAL
            ).order_by("display_name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("lines"))
    def line_list(self, obj):
        return ", ".join(line.slug for line in obj.lines.all())

    @admin.display(description=_("chats at once"))
    def capacity(self, obj):
        return duty.capacity_of(obj)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("lines")
            .select_related("user", "support_person")
        )


class ReadOnlyAdmin(GuardedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Chat)
class ChatAdmin(ReadOnlyAdmin):
    """Live chats at a glance: never their messages, token or the asker's address."""

    list_display = ["pk", "line", "status", "helper", "queued_at", "assigned_at"]
    list_filter = ["line", "status"]
    fields = list_display

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DutySession)
class DutySessionAdmin(ReadOnlyAdmin):
    list_display = ["helper", "started_at", "seen_at", "paused", "connected"]
    list_filter = ["paused", "connected", "helper__lines"]


@admin.register(Bar)
class BarAdmin(GuardedAdmin):
    """Bars show only their line and end; the address exists only as a keyed hash."""

    list_display = ["pk", "kind", "line", "until", "created_at"]
    list_filter = ["kind", "line"]
    fields = ["line", "until"]

    def has_add_permission(self, request):
        return False


@admin.register(PreparedText)
class PreparedTextAdmin(LabelledInputs, GuardedAdmin):
    """The helpers' library of replies, referrals and duty-to-report notices."""

    list_display = ["title", "kind", "line", "order", "active"]
    list_filter = ["kind", "line", "active"]
    list_editable = ["order", "active"]
    search_fields = ["title", "text"]


class GroupSessionForm(forms.ModelForm):
    new_invite = forms.BooleanField(
        label=_("Closed group with a generated invitation"),
        required=False,
        help_text=_(
            "Replaces the invitation with five random words, as hard to guess as a follow-up "
            "code. An invitation typed here is accepted, with a warning when it is easy to guess."
        ),
    )

    class Meta:
        model = GroupSession
        fields = [
            "line",
            "title",
            "language",
            "starts_at",
            "ends_at",
            "capacity",
            "moderators",
            "invite",
            "pinned",
        ]

    def clean(self):
        data = super().clean()
        line, moderators = data.get("line"), data.get("moderators")
        if line and moderators:
            outsiders = [m for m in moderators if not m.lines.filter(pk=line.pk).exists()]
            if outsiders:
                names = ", ".join(m.display_name for m in outsiders)
                self.add_error(
                    "moderators",
                    _("Moderators must be helpers of this line: %(names)s is not.")
                    % {"names": names},
                )
        if data.get("new_invite"):
            data["invite"] = groups.new_invite()
        return data


@admin.register(GroupSession)
class GroupSessionAdmin(GuardedAdmin):
    """The group chat schedule; a session's messages and nicknames are never shown here."""

    form = GroupSessionForm
    list_display = ["title", "line", "language", "starts_at", "ends_at", "capacity", "closed_at"]
    list_filter = ["line", "language"]
    date_hierarchy = "starts_at"
    filter_horizontal = ["moderators"]
    search_fields = ["title"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if form.cleaned_data.get("new_invite"):
            self.message_user(request, _("Invitation: %(code)s") % {"code": obj.invite})
        elif "invite" in form.changed_data and groups.weak_invite(obj.invite):
            self.message_user(
                request,
                _(
                    "The invitation is easy to guess (about %(bits)d bits; a generated one "
                    "has %(strong)d). Guesses are limited, but a generated invitation is safer."
                )
                % {"bits": groups.invite_bits(obj.invite), "strong": followups.CODE_BITS},
                messages.WARNING,
            )


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Who did what and when; nobody edits or deletes it here (purged after its period)."""

    list_display = ["at", "actor_name", "action", "line", "detail"]
    list_filter = ["action", "line"]
    search_fields = ["actor_name", "detail"]
    date_hierarchy = "at"
    fields = list_display

    def has_delete_permission(self, request, obj=None):
        return False


def _live_page(request, context):
    context = {**context, "board": board.live_board(), "refresh": LIVE_REFRESH_SECONDS}
    return TemplateResponse(request, "chats/live.html", context)


@admin.register(LiveBoard)
class LiveBoardAdmin(PageAdmin):
    """A page, not a list: who is on duty, how many chats each holds, each line's queue."""

    page = staticmethod(_live_page)
    title = _("On duty now")


@admin.register(Referral)
class ReferralAdmin(GuardedAdmin):
    """The referral directory: services askers are pointed to, per line and region."""

    list_display = ["name", "region", "phone", "url", "always_open", "languages", "active"]
    list_filter = ["active", "always_open", "lines", "region"]
    search_fields = ["name", "region"]
    filter_horizontal = ["lines"]


@admin.register(GroupSeries)
class GroupSeriesAdmin(GuardedAdmin):
    """Recurring groups and closed series; the action (and a daily job) makes their meetings."""

    list_display = ["title", "line", "kind", "language", "weekday", "starts", "ends", "active"]
    list_filter = ["line", "kind", "language", "active"]
    filter_horizontal = ["moderators"]
    actions = ["make_meetings"]

    @admin.action(description=_("Make the next meetings"))
    def make_meetings(self, request, queryset):
        for series in queryset:
            made = group_series.make_meetings(series)
            self.message_user(
                request,
                _("%(title)s: %(n)d meeting(s) made.")
                % {"title": series.title, "n": len(made.created)},
            )
            if made.skipped:
                days = ", ".join(f"{day:%d.%m.%Y}" for day in made.skipped)
                self.message_user(
                    request,
                    _("%(title)s: no meeting on a closure: %(days)s.")
                    % {"title": series.title, "days": days},
                    messages.WARNING,
                )
            if not series.active:
                self.message_user(
                    request,
                    _("%(title)s is not in use (an example): copy it first.")
                    % {"title": series.title},
                    messages.WARNING,
                )
