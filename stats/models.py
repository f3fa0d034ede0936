"""Statistics are counters, never rows per conversation: (line, day, metric, key) -> count."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from chats.models import ServiceLine


class Topic(models.Model):
    line = models.ForeignKey(ServiceLine, on_delete=models.CASCADE, related_name="topics")
    slug = models.SlugField()
    name = models.CharField(_("name (Finnish)"), max_length=120)
    name_sv = models.CharField(_("name (Swedish)"), max_length=120, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=120, blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["line", "order", "slug"]
        constraints = [models.UniqueConstraint(fields=["line", "slug"], name="topic_slug_per_line")]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")

    def __str__(self):
        return self.name


class DailyCount(models.Model):
    line = models.ForeignKey(ServiceLine, on_delete=models.CASCADE, related_name="daily_counts")
    day = models.DateField(db_index=True)
    metric = models.CharField(max_length=40)
    key = models.CharField(max_length=60, blank=True, default="")
    count = models.PositiveIntegerField(default=0)

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
