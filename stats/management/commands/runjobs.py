import time

from django.core.management.base import BaseCommand

from verkkoapu import jobs


class Command(BaseCommand):
    help = (
        "Run the periodic jobs forever (purge_ip_addresses on the 1st of each month at 03:00 "
        "Helsinki, and once at start if it has never run; clearsessions hourly). --once: run "
        "what is due and exit."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run the due jobs and exit.")

    def handle(self, *args, once, verbosity, **options):
        if once:
            ran = jobs.run_due()
            if verbosity:
                self.stdout.write(", ".join(ran) + " ran." if ran else "Nothing was due.")
            return
        jobs.run_forever(sleep=time.sleep)
