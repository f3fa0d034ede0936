from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = (
        "Remove a person's two-step login (TOTP) devices, e.g. after a lost phone; their next "
        "login sets up a new authenticator. Their open sessions stay unverified from now on."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, verbosity, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        count, _ = TOTPDevice.objects.filter(user=user).delete()
        if verbosity:
            self.stdout.write(
                self.style.SUCCESS(f"{count} authenticator(s) of {username} removed.")
            )
