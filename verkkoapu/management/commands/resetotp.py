from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from chats.accounts import enrolment_line


class Command(BaseCommand):
    help = (
        "Give a person a new one-time enrolment code for a new two-step login authenticator "
        "(a new phone). The current authenticator keeps working until the new one is confirmed; "
        "--remove takes it away now (a lost or stolen phone: their open sessions stay "
        "unverified from now on)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--remove", action="store_true", help="remove the current authenticators now"
        )

    def handle(self, *args, username, remove, verbosity, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        with transaction.atomic():
            removed = 0
            if remove:
                for device in TOTPDevice.objects.filter(user=user):
                    device.delete()  # one by one: each removal is audited
                    removed += 1
            line = enrolment_line(user)
        if remove and verbosity:
            self.stdout.write(
                self.style.SUCCESS(f"{removed} authenticator(s) of {username} removed.")
            )
        self.stdout.write(line)  # the code is the point: printed at any verbosity
