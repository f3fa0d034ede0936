"""Prometheus metrics: counts only, never anything about a person (docs/operations.md).

Two kinds, both in one registry of our own (prometheus_client's text format, not hand-written):

- Read from the database at each scrape (`DatabaseCollector`): queue length and waiting askers,
  open chats, helpers on duty, messages stored, the wait-time histogram and when each periodic
  job last ran. Every process answers the same for these, so any one daphne may be scraped.
- Counted by the process itself (`count_*`): nudges the channel layer failed to carry, channel-
  layer rejoins after a Redis outage, sweeps run. These are per process: scrape every daphne
  (web1:8000, web2:8000), not through nginx, and let Prometheus' `instance` label tell them
  apart; a restarted process starts again from 0, as Prometheus counters may.

The only label is a service line's slug (and a periodic job's name). Chats, helpers, askers,
addresses, tokens, nicknames and texts are never labels or values.
"""

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry(auto_describe=True)

NUDGES_FAILED = Counter(
    "verkkoapu_nudges_failed",
    "Nudges between processes that the channel layer did not carry (this process); "
    "consumers catch up from the database",
    registry=REGISTRY,
)
LAYER_REJOINS = Counter(
    "verkkoapu_layer_rejoins",
    "Times this process found Redis back after an outage and re-joined every consumer's groups",
    registry=REGISTRY,
)
SWEEPS = Counter(
    "verkkoapu_sweeps",
    "Sweeps run by this process (vanished askers and helpers, limits, transfers)",
    registry=REGISTRY,
)


def count_nudge_failed() -> None:
    NUDGES_FAILED.inc()


def count_layer_rejoin() -> None:
    LAYER_REJOINS.inc()


def count_sweep() -> None:
    SWEEPS.inc()


class DatabaseCollector:
    """Gauges and the wait histogram, read from the database when Prometheus scrapes."""

    def describe(self):
        return []  # read at scrape time only: no queries when the registry is built

    def collect(self):
        from django.db.models import Count, Q, Sum

        from chats.models import Chat, HelperProfile, Message, ServiceLine
        from stats.models import DailyCount, JobRun
        from stats.services import BUCKETS, LAST_BUCKET

        slugs = list(ServiceLine.objects.filter(active=True).values_list("slug", flat=True))

        def per_line(rows, key="n"):
            found = {row["line__slug"]: row[key] or 0 for row in rows}
            return [(slug, found.get(slug, 0)) for slug in slugs]

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
            ),
        ]
        for name, documentation, rows in families:
            gauge = GaugeMetricFamily(name, documentation, labels=["line"])
            rows = [
                {"line__slug": row.get("line__slug", row.get("chat__line__slug")), "n": row["n"]}
                for row in rows
            ]
            for slug, value in per_line(rows):
                gauge.add_metric([slug], value)
            yield gauge

        from chats.services import on_duty  # the one rule of who is on duty

        helpers = GaugeMetricFamily(
            "verkkoapu_helpers_on_duty",
            "Helpers with a live console for the line (paused ones included)",
            labels=["line"],
        )
        rows = (
            HelperProfile.lines.through.objects.filter(
                helperprofile_id__in=on_duty().values("helper_id")
            )
            .values("serviceline__slug")
            .annotate(n=Count("helperprofile_id", distinct=True))
        )
        rows = [{"line__slug": row["serviceline__slug"], "n": row["n"]} for row in rows]
        for slug, value in per_line(rows):
            helpers.add_metric([slug], value)
        yield helpers

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
        yield wait

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


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
