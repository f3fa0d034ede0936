"""Periodic jobs, run by `python manage.py runjobs` (one process in docker-compose): the
monthly purge_ip_addresses, clearsessions every hour and makegroupmeetings daily.

A plain loop, not Django's tasks framework: django.tasks (Django 6) queues one-off work for a
backend's worker but has no schedule and ships no worker, so a monthly job would still need a
loop like this one. Each job remembers its last run in the database (stats.JobRun), so a
restarted runner neither skips a month nor runs twice; with no record it runs once at start.
Two runners at once are harmless: a run is claimed with a conditional update.
"""

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.management import call_command
from django.utils import timezone

from stats.models import JobRun

log = logging.getLogger(__name__)

HELSINKI = ZoneInfo("Europe/Helsinki")


def first_of_month_at(at: time) -> Callable[[datetime], datetime]:
    """A schedule: the first moment on the 1st of a month at `at` (Helsinki) after `moment`."""

    def next_after(moment: datetime) -> datetime:
        local = moment.astimezone(HELSINKI)
        candidate = datetime.combine(local.date().replace(day=1), at, tzinfo=HELSINKI)
        while candidate <= moment:
            month = candidate.month % 12 + 1
            year = candidate.year + (candidate.month == 12)
            candidate = datetime.combine(
                candidate.date().replace(year=year, month=month), at, tzinfo=HELSINKI
            )
        return candidate

    return next_after


def every(period: timedelta) -> Callable[[datetime], datetime]:
    """A schedule: `period` after the last run."""

    def next_after(moment: datetime) -> datetime:
        return moment + period

    return next_after


def daily_at(at: time) -> Callable[[datetime], datetime]:
    """A schedule: the first moment at `at` (Helsinki) after `moment`."""

    def next_after(moment: datetime) -> datetime:
        local = moment.astimezone(HELSINKI)
        candidate = datetime.combine(local.date(), at, tzinfo=HELSINKI)
        while candidate <= moment:
            candidate = datetime.combine(candidate.date() + timedelta(days=1), at, tzinfo=HELSINKI)
        return candidate

    return next_after


def _command(name: str, *args) -> Callable[[], str]:
    def run() -> str:
        out = io.StringIO()
        call_command(name, *args, stdout=out, no_color=True)
        return out.getvalue()

    return run


@dataclass(frozen=True)
class Job:
    name: str
    next_after: Callable[[datetime], datetime]
    run: Callable[[], str]


JOBS = [
    # The contract's monthly purge: 1st of the month, 03:00 Helsinki.
    Job("purge_ip_addresses", first_of_month_at(time(3)), _command("purge_ip_addresses")),
    # Helpers' login sessions past their expiry (SESSION_COOKIE_AGE idle, or logged out from a
    # closed browser): Django's clearsessions, hourly. Django never deletes them by itself.
    Job("clearsessions", every(timedelta(hours=1)), _command("clearsessions")),
    # Letter threads past their line's retention (docs/letters.md): days count, so every night.
    Job("sweep_letters", daily_at(time(3, 30)), _command("sweep_letters")),
    # The next meetings of recurring groups and closed series (chats/group_series.py), daily.
    Job("makegroupmeetings", every(timedelta(days=1)), _command("makegroupmeetings")),
]


def due(job: Job, now: datetime) -> bool:
    record = JobRun.objects.filter(name=job.name).first()
    if record is None or record.started_at is None:
        return True  # never ran (or unknown): run once now
    return job.next_after(record.started_at) <= now


def run_due(now: datetime | None = None, jobs=None) -> list[str]:
    """Run every job that is due; the names of those this process ran."""
    now = now or timezone.now()
    ran = []
    for job in jobs or JOBS:
        if not due(job, now):
            continue
        record, _ = JobRun.objects.get_or_create(name=job.name)
        # Claim the run: 0 rows means another runner started it since we looked.
        if not JobRun.objects.filter(pk=record.pk, started_at=record.started_at).update(
            started_at=now
        ):
            continue
        try:
            output = job.run()
        except Exception:
            # Not done: give the run back, so the loop retries it after its pause.
            JobRun.objects.filter(pk=record.pk).update(started_at=record.started_at)
            raise
        JobRun.objects.filter(pk=record.pk).update(finished_at=timezone.now(), output=output)
        log.info("job %s done: %s", job.name, " / ".join(output.strip().splitlines()))
        ran.append(job.name)
    return ran


def seconds_until_next(now: datetime, jobs=None) -> float:
    """How long the loop may sleep: until the earliest next run, at most an hour."""
    waits = [3600.0]
    for job in jobs or JOBS:
        record = JobRun.objects.filter(name=job.name).first()
        last = record.started_at if record and record.started_at else now
        waits.append((job.next_after(last) - now).total_seconds())
    return max(1.0, min(waits))


def run_forever(sleep: Callable[[float], None], jobs=None) -> None:
    while True:
        try:
            run_due(jobs=jobs)
            wait = seconds_until_next(timezone.now(), jobs)
        except Exception:
            # A job failed, or the database is restarting: try again in a minute, never die.
            log.exception("job runner: a job failed; retrying in a minute")
            wait = 60.0
        sleep(wait)
