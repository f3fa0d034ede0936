from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from chats.admin_base import GuardedAdmin
from verkkoapu.admin_forms import LabelledInline

from . import services, views
from .models import DailyCount, JobRun, StatisticsChart, StatisticsExport, Topic


class TopicInline(LabelledInline):
    model = Topic
    extra = 0


class ReadOnly(GuardedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # counters are the service's record: nobody deletes them by hand


class MetricFilter(admin.SimpleListFilter):
    """The metrics by their names, not their keys."""

    title = _("metric")
    parameter_name = "metric"

    def lookups(self, request, model_admin):
        return list(services.METRICS.items())

    def queryset(self, request, queryset):
        return queryset.filter(metric=self.value()) if self.value() else queryset


@admin.register(DailyCount)
class DailyCountAdmin(ReadOnly):
    list_display = ["day", "line", "metric_label", "key", "count"]
    list_filter = ["line", MetricFilter]
    date_hierarchy = "day"

    @admin.display(description=_("metric"), ordering="metric")
    def metric_label(self, obj):
        return services.METRICS.get(obj.metric, obj.metric)


class PageAdmin(ReadOnly):
    """An admin entry that is a page, not a list: the proxy model only gives it a place."""

    page = None
    title = ""

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": self.title,
            **(extra_context or {}),
        }
        return type(self).page(request, context)

    def get_urls(self):
        # Only the list URL: there are no objects to add, change or delete.
        return super().get_urls()[:1]


@admin.register(StatisticsExport)
class StatisticsExportAdmin(PageAdmin):
    page = staticmethod(views.export_page)
    title = _("Statistics export")


@admin.register(StatisticsChart)
class StatisticsChartAdmin(PageAdmin):
    page = staticmethod(views.chart_page)
    title = _("Statistics charts")


@admin.register(JobRun)
class JobRunAdmin(ReadOnly):
    list_display = ["name", "started_at", "finished_at"]
    fields = ["name", "started_at", "finished_at", "output"]
