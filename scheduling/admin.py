"""The coordinators' rota: slots, bookings, the coming weeks, gaps, commitment and debriefs."""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from chats.admin_base import GuardedAdmin
from chats.models import HelperProfile, ServiceLine
from verkkoapu.admin_forms import LabelledInline, LabelledInputs

from . import rota
from .models import Debrief, HoursException, OpeningHours, ShiftBooking, ShiftSlot
from .services import slot_span


class OpeningHoursInline(LabelledInline):
    model = OpeningHours
    extra = 0


class HoursExceptionInline(LabelledInline):
    model = HoursException
    extra = 0
    fields = ["first_day", "last_day", "closed", "opens", "closes", "weekdays_only", "note"]


class ShiftSlotInline(LabelledInline):
    """For ServiceLineAdmin: a line's bookable slots beside its hours."""

    model = ShiftSlot
    extra = 0
    fields = ["starts", "ends", "active"]


@admin.register(HoursException)
class HoursExceptionAdmin(GuardedAdmin):
    list_display = ["__str__", "line", "closed", "note"]
    list_filter = ["line", "closed"]
    date_hierarchy = "first_day"


@admin.register(ShiftSlot)
class ShiftSlotAdmin(LabelledInputs, GuardedAdmin):
    list_display = ["line", "label", "starts", "ends", "active"]
    list_filter = ["line", "active"]
    list_editable = ["active"]
    ordering = ["line__order", "starts"]

    @admin.display(description=_("slot"))
    def label(self, obj):
        return obj.label


def _professional_booked():
    """Whether a professional has booked the same slot on the same day."""
    professional = ShiftBooking.objects.filter(
        slot=OuterRef("slot"), day=OuterRef("day"), helper__role=HelperProfile.Role.PROFESSIONAL
    )
    return Exists(professional)


class WhenFilter(admin.SimpleListFilter):
    title = _("when")
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [
            ("coming", _("Coming (today on)")),
            ("4weeks", _("Next 4 weeks")),
            ("past", _("Past")),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "coming":
            return queryset.filter(day__gte=today)
        if self.value() == "4weeks":
            return queryset.filter(day__range=(today, today + timedelta(weeks=4)))
        if self.value() == "past":
            return queryset.filter(day__lt=today)
        return queryset


class GapFilter(admin.SimpleListFilter):
    title = _("professional on the slot")
    parameter_name = "gap"

    def lookups(self, request, model_admin):
        return [("yes", _("Peer without a professional"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(helper__role=HelperProfile.Role.PEER).exclude(
                _professional_booked()
            )
        return queryset


class DebriefFilter(admin.SimpleListFilter):
    title = _("closing debrief")
    parameter_name = "debrief"

    def lookups(self, request, model_admin):
        return [("missing", _("Missing (peer's shift over)")), ("held", _("Held"))]

    def queryset(self, request, queryset):
        if self.value() == "missing":
            return queryset.filter(pk__in=rota.missing_debriefs().values("pk"))
        if self.value() == "held":
            return queryset.filter(debrief__isnull=False)
        return queryset


@admin.register(ShiftBooking)
class ShiftBookingAdmin(GuardedAdmin):
    list_display = ["day_label", "time", "line", "helper", "role", "has_professional", "debrief"]
    list_filter = [
        ("slot__line", admin.RelatedOnlyFieldListFilter),
        WhenFilter,
        "helper__role",
        GapFilter,
        DebriefFilter,
        "helper",
    ]
    date_hierarchy = "day"
    autocomplete_fields = ["helper"]
    fields = ["slot", "day", "helper"]
    search_fields = ["helper__display_name", "helper__user__username"]
    ordering = ["-day", "slot__starts"]
    actions = ["record_debrief"]
    change_list_template = "scheduling/admin/shiftbooking_change_list.html"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("slot__line", "helper", "debrief")
            .annotate(professional_booked=_professional_booked())
        )

    @admin.display(description=_("day"), ordering="day")
    def day_label(self, obj):
        return date_format(obj.day, "D j.n.Y")

    @admin.display(description=_("time"), ordering="slot__starts")
    def time(self, obj):
        return obj.slot.label

    @admin.display(description=_("line"), ordering="slot__line")
    def line(self, obj):
        return obj.slot.line.slug

    @admin.display(description=_("role"), ordering="helper__role")
    def role(self, obj):
        return obj.helper.get_role_display()

    @admin.display(description=_("professional on the slot"), boolean=True)
    def has_professional(self, obj):
        return obj.professional_booked

    @admin.display(description=_("debrief"))
    def debrief(self, obj):
        if obj.helper.role != HelperProfile.Role.PEER:
            return "–"
        record = getattr(obj, "debrief", None)
        if record is not None:
            return f"✓ {timezone.localtime(record.held_at):%d.%m. %H:%M}"
        if slot_span(obj.slot, obj.day)[1] <= timezone.now():
            return _("missing")
        return ""

    @admin.action(description=_("Record that the closing debrief was held (now)"))
    def record_debrief(self, request, queryset):
        now = timezone.now()
        done = 0
        for booking in queryset.filter(helper__role=HelperProfile.Role.PEER, debrief=None):
            Debrief.objects.create(booking=booking, held_at=now, recorded_by=None)
            done += 1
        self.message_user(
            request,
            ngettext("%(n)d debrief recorded.", "%(n)d debriefs recorded.", done) % {"n": done},
            messages.SUCCESS,
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("rota/", view(self.rota_view), name="scheduling_shiftbooking_rota"),
            path(
                "commitment/",
                view(self.commitment_view),
                name="scheduling_shiftbooking_commitment",
            ),
            *super().get_urls(),
        ]

    def rota_view(self, request):
        """The coming weeks of every line at a glance, gaps marked, and who is on duty now."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.now()
        today = timezone.localdate(now)
        monday = today - timedelta(days=today.weekday())
        weeks = settings.SCHEDULING_CALENDAR_WEEKS
        lines = ServiceLine.objects.filter(active=True, kind=ServiceLine.Kind.ONE_TO_ONE)
        calendars = [rota.line_calendar(line, monday, 7 * weeks, now=now) for line in lines]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Rota: the coming weeks"),
            "opts": self.model._meta,
            "calendars": calendars,
            "now_rows": rota.duty_now(now),
            "today": today,
            "missing_url": reverse("admin:scheduling_shiftbooking_changelist") + "?debrief=missing",
            "missing_count": rota.missing_debriefs(now).count(),
        }
        return TemplateResponse(request, "scheduling/admin/rota.html", context)

    def commitment_view(self, request):
        """Each peer's shifts per month against the minimum."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        months = rota.month_starts(next_month, 7)  # five past, this month, the next
        line = ServiceLine.objects.filter(slug=request.GET.get("line") or "").first()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Peer commitment: shifts per month"),
            "opts": self.model._meta,
            "months": months,
            "this_month": today.replace(day=1),
            "rows": rota.peer_commitment(months, line),
            "minimum": rota.minimum_shifts(),
            "lines": ServiceLine.objects.filter(kind=ServiceLine.Kind.ONE_TO_ONE),
            "line": line,
        }
        return TemplateResponse(request, "scheduling/admin/commitment.html", context)


@admin.register(Debrief)
class DebriefAdmin(GuardedAdmin):
    list_display = ["booking", "held_at", "recorded_by", "recorded_at"]
    list_filter = [("booking__slot__line", admin.RelatedOnlyFieldListFilter)]
    date_hierarchy = "held_at"
    autocomplete_fields = ["recorded_by"]
    raw_id_fields = ["booking"]
