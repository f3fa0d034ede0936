"""Statistics are counters, never rows per conversation: (line, day, metric, key) -> count."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from chats.models import ServiceLine


class Topic(models.Model):
    line = models.ForeignKey(
        ServiceLine, on_delete=models.CASCADE, related_name="topics", verbose_name=_("line")
    )
    slug = models.SlugField(_("short name"))
    name = models.CharField(_("name (Finnish)"), max_length=120)
    name_sv = models.CharField(_("name (Swedish)"), max_length=120, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=120, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["line", "order", "slug"]
        constraints = [models.UniqueConstraint(fields=["line", "slug"], name="topic_slug_per_line")]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")

    def __str__(self):
        return self.name


class DailyCount(models.Model):
    line = models.ForeignKey(
        ServiceLine, on_delete=models.CASCADE, related_name="daily_counts", verbose_name=_("line")
    )
    day = models.DateField(_("day"), db_index=True)
    metric = models.CharField(_("metric"), max_length=40)
    key = models.CharField(
        _("breakdown"),
        max_length=60,
        blank=True,
        default="",
        help_text=_("What the count is split by, e.g. a role or a topic; empty if not split."),
    )
    count = models.PositiveIntegerField(_("count"), default=0)

    class Meta:
        ordering = ["day", "line", "metric", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["line", "day", "metric", "key"], name="one_counter_per_cell"
            )
        ]
        verbose_name = _("daily count")
        verbose_name_plural = _("daily counts")

    def __str__(self):
        key = f"[{self.key}]" if self.key else ""
        return f"{self.day} {self.line.slug} {self.metric}{key} = {self.count}"


class StatisticsExport(DailyCount):
    """No table of its own: the admin's entry for the export page (see stats/admin.py)."""

    class Meta:
        proxy = True
        verbose_name = _("statistics export")
        verbose_name_plural = _("statistics export")


class StatisticsChart(DailyCount):
    """No table of its own: the admin's entry for the chart page."""

    class Meta:
        proxy = True
        verbose_name = _("statistics chart")
        verbose_name_plural = _("statistics charts")


class JobRun(models.Model):
    """When a periodic job (verkkoapu/jobs.py) last ran: the runner's memory across restarts."""

    name = models.CharField(_("job"), max_length=60, unique=True)
    started_at = models.DateTimeField(_("last started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("last finished"), null=True, blank=True)
    # What the job printed, e.g. the purge's counts: never an address or a text.
    output = models.TextField(_("output of the last run"), blank=True)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")

    def __str__(self):
        return self.name
