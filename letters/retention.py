"""The letters' step of the retention job (stats/retention.py): threads past their line's
retention are erased, texts and code hashes with them. The daily `sweep_letters` job runs the
same function (verkkoapu/jobs.py); the monthly purge runs it too, so nothing waits on one job."""

from stats import retention

from . import services


@retention.step("letter_threads_expired", "letter threads past their retention (erased)")
def erase_expired_threads(now, dry_run):
    return services.sweep(now=now, dry_run=dry_run)
