"""The metrics read from the database at each scrape (verkkoapu/metrics.py serves them).

Counts per service line only: queue length and waiting askers, open chats, helpers on duty,
messages stored, the wait-time histogram (from the statistics' buckets) and when each periodic
job last ran. Every process answers the same, so any one daphne may be scraped.
"""

from django.db.models import Count, Q, Sum
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

from chats.models import Chat, DutySession, HelperProfile, Message, ServiceLine
from verkkoapu.metrics import REGISTRY

from .models import DailyCount, JobRun
from .services import BUCKETS, LAST_BUCKET


class DatabaseCollector:
    """Gauges and the wait histogram, read from the database when Prometheus scrapes."""

    def describe(self):
        return []  # read at scrape time only: no queries when the registry is built

    def collect(self):
        slugs = list(ServiceLine.objects.filter(active=True).values_list("slug", flat=True))
        yield from _chat_gauges(slugs)
        yield _helpers_on_duty(slugs)
        yield _wait_histogram(slugs)
        yield from _job_times()


def _per_line(name, documentation, slugs, rows, slug_field="line__slug"):
    """A gauge with one value per active line from `rows` (`slug_field`, `n`); no row is 0."""
    gauge = GaugeMetricFamily(name, documentation, labels=["line"])
    found = {row[slug_field]: row["n"] or 0 for row in rows}
    for slug in slugs:
        gauge.add_metric([slug], found.get(slug, 0))
    return gauge


def _chat_gauges(slugs):
    chats = Chat.objects.values("line__slug")
    families = [
        (
            "verkkoapu_queue_length",
            "Chats in the line's general queue (follow-ups waiting for their own helper "
            "are not in it)",
            chats.annotate(
                n=Count("pk", filter=Q(status=Chat.Status.QUEUED, follow_up__isnull=True))
            ),
        ),
        (
            "verkkoapu_waiting_askers",
            "Askers waiting for an answer on the line (the queue and follow-ups)",
            chats.annotate(n=Count("pk", filter=Q(status=Chat.Status.QUEUED))),
        ),
        (
            "verkkoapu_chats_open",
            "Chats being answered on the line",
            chats.annotate(n=Count("pk", filter=Q(status=Chat.Status.ACTIVE))),
        ),
        (
            "verkkoapu_messages_stored",
            "Messages held in the database for the line's live chats",
            Message.objects.values("chat__line__slug").annotate(n=Count("pk")),
            "chat__line__slug",
        ),
    ]
    for name, documentation, rows, *slug_field in families:
        yield _per_line(name, documentation, slugs, rows, *slug_field)


def _helpers_on_duty(slugs):
    rows = (
        HelperProfile.lines.through.objects.filter(
            helperprofile_id__in=DutySession.objects.on_duty().values("helper_id")
        )
        .values("serviceline__slug")
        .annotate(n=Count("helperprofile_id", distinct=True))
    )
    return _per_line(
        "verkkoapu_helpers_on_duty",
        "Helpers with a live console for the line (paused ones included)",
        slugs,
        rows,
        "serviceline__slug",
    )


def _wait_histogram(slugs):
    # The statistics keep waiting times as bucketed counts only (stats/services.py): the
    # histogram has the same buckets, and no sum (no exact wait is ever stored).
    wait = HistogramMetricFamily(
        "verkkoapu_wait_seconds",
        "Waiting time of answered chats before the answer (from the statistics' buckets)",
        labels=["line"],
    )
    cells = DailyCount.objects.filter(metric="wait").values("line__slug", "key")
    counts: dict[str, dict[str, int]] = {}
    for row in cells.annotate(n=Sum("count")):
        counts.setdefault(row["line__slug"], {})[row["key"]] = row["n"] or 0
    for slug in slugs:
        by_key = counts.get(slug, {})
        running, buckets = 0, []
        for limit, label in BUCKETS:
            running += by_key.get(label, 0)
            buckets.append((str(float(limit)), running))
        buckets.append(("+Inf", running + by_key.get(LAST_BUCKET, 0)))
        wait.add_metric([slug], buckets, None)
    return wait


def _job_times():
    started = GaugeMetricFamily(
        "verkkoapu_job_last_started_timestamp_seconds",
        "When the periodic job (the monthly purge among them) last started",
        labels=["job"],
    )
    finished = GaugeMetricFamily(
        "verkkoapu_job_last_finished_timestamp_seconds",
        "When the periodic job last finished",
        labels=["job"],
    )
    for job in JobRun.objects.all():
        if job.started_at:
            started.add_metric([job.name], job.started_at.timestamp())
        if job.finished_at:
            finished.add_metric([job.name], job.finished_at.timestamp())
    yield started
    yield finished


REGISTRY.register(DatabaseCollector())
