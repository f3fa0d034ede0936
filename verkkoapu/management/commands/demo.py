"""Demo mode for trying Verkkoapu on one machine (verkkoapu/demo.py; README)."""

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from verkkoapu import demo


class Command(BaseCommand):
    help = (
        "Open every line around the clock, create a demo helper and coordinator (new passwords "
        "each time) and mark every page as a demo. --off ends it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--off", action="store_true", help="end demo mode")
        parser.add_argument("--days", type=int, default=30, help="how long the lines stay open")

    def handle(self, *args, off=False, days=30, **options):
        if off:
            demo.turn_off()
            self.stdout.write("Demo mode is off: the lines keep their own hours again.")
            return
        if settings.PRODUCTION:
            raise CommandError(
                "Demo mode would open every line and add known accounts: not with PRODUCTION on."
            )
        if days < 1:
            raise CommandError("--days must be at least 1.")
        accounts = demo.turn_on(days)
        base = f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
        self.stdout.write(
            "\n".join(
                [
                    f"Demo mode is on: every line is open around the clock for {days} days.",
                    f"  The asker's page:  {base}/",
                    f"  Log in at          {base}/accounts/login/",
                    f"    helper:      {accounts.helper} / {accounts.helper_password}"
                    "  (lands in the console)",
                    f"    coordinator: {accounts.coordinator} / {accounts.coordinator_password}"
                    "  (lands in the admin)",
                    "  End it with: .venv/bin/python manage.py demo --off",
                ]
            )
        )
