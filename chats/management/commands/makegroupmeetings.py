"""Make the next meetings of every active group series (a daily job, verkkoapu/jobs.py)."""

from django.core.management.base import BaseCommand

from chats import group_series


class Command(BaseCommand):
    help = "Make the next meetings of the group series; report meetings skipped for a closure."

    def handle(self, *args, **options):
        for series, made in group_series.make_all():
            if made.created or made.skipped:
                skipped = ", ".join(f"{day:%d.%m.%Y}" for day in made.skipped) or "-"
                self.stdout.write(
                    f"{series.title}: {len(made.created)} made; on a closure, skipped: {skipped}"
                )
