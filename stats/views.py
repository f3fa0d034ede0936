"""The coordinators' statistics pages, served inside the Django admin (see stats/admin.py)."""

from datetime import timedelta

from django.conf import settings
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from chats.models import ServiceLine

from . import charts, export
from .forms import ExportForm, RangeForm, initial_range

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_page(request, context: dict):
    """The export form; with a valid range, a preview or the CSV/Excel file."""
    if not request.GET:
        form = ExportForm(initial={**initial_range(), "period": "all", "suppress": True})
        return TemplateResponse(request, "stats/export.html", {**context, "form": form})
    form = ExportForm(request.GET)
    if not form.is_valid():
        return TemplateResponse(request, "stats/export.html", {**context, "form": form})
    data = form.cleaned_data
    table = export.build_table(
        data["lines"],
        data["first"],
        data["last"],
        data["period"],
        settings.STATS_SUPPRESS_BELOW if data["suppress"] else 0,
    )
    wanted = request.GET.get("format", "html")
    if wanted == "csv":
        return _download(export.table_csv(table), "text/csv; charset=utf-8", table, "csv")
    if wanted == export.EXCEL_FI:
        content = export.table_csv(table, export.EXCEL_FI)
        return _download(content, "text/csv; charset=utf-8", table, "csv")
    if wanted == "xlsx":
        return _download(export.table_xlsx(table), XLSX, table, "xlsx")
    rows = [table.values(row) for row in table.rows]
    return TemplateResponse(
        request,
        "stats/export.html",
        {**context, "form": form, "table": table, "rows": rows, "query": request.GET.urlencode()},
    )


def _download(content: bytes, content_type: str, table, extension: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename(table, extension)}"'
    return response


def chart_page(request, context: dict):
    """Chats started per week and topics per line, for a range (by default the last 12 weeks)."""
    today = timezone.localdate()
    default = {"first": charts.week_start(today) - timedelta(weeks=11), "last": today}
    form = RangeForm(request.GET or None, initial=default)
    if form.is_bound and form.is_valid():
        lines, first, last = (form.cleaned_data[k] for k in ("lines", "first", "last"))
    else:
        lines, first, last = list(ServiceLine.objects.all()), default["first"], default["last"]
    weekly = charts.chats_per_week(lines, first, last)
    context.update(
        {
            "form": form,
            "first": first,
            "last": last,
            "weekly": weekly,
            "weekly_total": sum(bar.value for bar in weekly),
            "topic_charts": charts.topics(lines, first, last),
            "chart_width": charts.WIDTH,
            "chart_height": charts.HEIGHT,
            "axis_y": charts.HEIGHT - charts.AXIS,
            "topic_width": charts.WIDTH,
            "label_x": charts.LABEL - 8,
            "subtitle": _("Chats started per week and topics, %(first)s – %(last)s")
            % {"first": first.isoformat(), "last": last.isoformat()},
        }
    )
    return TemplateResponse(request, "stats/chart.html", context)
