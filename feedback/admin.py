from django.contrib import admin
from django.http import HttpResponse
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from chats.admin_base import GuardedAdmin
from stats.export import EXCEL_FI, rows_to_csv, rows_to_xlsx
from verkkoapu.admin_forms import MonthFilter

from .models import Feedback

COLUMNS = ["month", "line", "rating", "got_help", "would_use_again", "text"]


def _rows(queryset):
    header = [str(Feedback._meta.get_field(name).verbose_name) for name in COLUMNS]
    rows = [
        [
            f"{item.month:%Y-%m}",
            item.line.slug,
            item.rating or "",
            item.get_got_help_display(),
            item.get_would_use_again_display(),
            item.text,
        ]
        for item in queryset.select_related("line").order_by("month", "line__order", "id")
    ]
    return header, rows


@admin.register(Feedback)
class FeedbackAdmin(GuardedAdmin):
    """Read and export; nobody edits what an asker wrote. Text is escaped like any admin value."""

    list_display = ["month_display", "line", "rating", "got_help", "would_use_again", "excerpt"]
    list_filter = ["line", MonthFilter, "rating", "got_help", "would_use_again"]
    search_fields = ["text"]
    fields = COLUMNS
    readonly_fields = COLUMNS
    actions = ["export_csv", "export_xlsx", "export_csv_excel_fi"]

    @admin.display(description=_("month"), ordering="month")
    def month_display(self, obj):
        return f"{obj.month:%Y-%m}"

    @admin.display(description=_("free text"))
    def excerpt(self, obj):
        return Truncator(obj.text).chars(80)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Export selected feedback as CSV"), permissions=["view"])
    def export_csv(self, request, queryset):
        header, rows = _rows(queryset)
        response = HttpResponse(rows_to_csv(header, rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="verkkoapu-feedback.csv"'
        return response

    @admin.action(description=_("Export selected feedback as Excel"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        header, rows = _rows(queryset)
        response = HttpResponse(
            rows_to_xlsx([(gettext("Feedback"), header, rows)]),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = 'attachment; filename="verkkoapu-feedback.xlsx"'
        return response

    @admin.action(description=_("Export selected feedback as CSV for Excel"), permissions=["view"])
    def export_csv_excel_fi(self, request, queryset):
        header, rows = _rows(queryset)
        content = rows_to_csv(header, rows, EXCEL_FI)
        response = HttpResponse(content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="verkkoapu-feedback.csv"'
        return response
