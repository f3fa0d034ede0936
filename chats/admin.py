from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from scheduling.admin import HoursExceptionInline, OpeningHoursInline
from stats.admin import TopicInline

from .models import Bar, Chat, DutySession, GroupSession, HelperProfile, PreparedText, ServiceLine


@admin.register(ServiceLine)
class ServiceLineAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "active", "order"]
    list_filter = ["kind", "active"]
    list_editable = ["active", "order"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OpeningHoursInline, HoursExceptionInline, TopicInline]


@admin.register(HelperProfile)
class HelperProfileAdmin(admin.ModelAdmin):
    list_display = ["display_name", "role", "user", "line_list"]
    list_filter = ["role", "lines"]
    search_fields = ["display_name", "user__username"]
    filter_horizontal = ["lines"]

    @admin.display(description=_("lines"))
    def line_list(self, obj):
        return ", ".join(line.slug for line in obj.lines.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lines").select_related("user")


class ReadOnlyAdmin(admin.ModelAdmin):
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
class BarAdmin(admin.ModelAdmin):
    """Bars show only their line and end; the address exists only as a keyed hash."""

    list_display = ["pk", "line", "until", "created_at"]
    list_filter = ["line"]
    fields = ["line", "until"]

    def has_add_permission(self, request):
        return False


@admin.register(PreparedText)
class PreparedTextAdmin(admin.ModelAdmin):
    """The helpers' library of replies, referrals and duty-to-report notices."""

    list_display = ["title", "kind", "line", "order", "active"]
    list_filter = ["kind", "line", "active"]
    list_editable = ["order", "active"]
    search_fields = ["title", "text"]


class GroupSessionForm(forms.ModelForm):
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
        return data


@admin.register(GroupSession)
class GroupSessionAdmin(admin.ModelAdmin):
    """The group chat schedule; a session's messages and nicknames are never shown here."""

    form = GroupSessionForm
    list_display = ["title", "line", "language", "starts_at", "ends_at", "capacity", "closed_at"]
    list_filter = ["line", "language"]
    date_hierarchy = "starts_at"
    filter_horizontal = ["moderators"]
    search_fields = ["title"]
