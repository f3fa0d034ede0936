from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from chats.accounts import (
    AccountError,
    add_enrolment_argument,
    create_coordinator,
    enrolment_line,
    password_warnings,
)


class Command(BaseCommand):
    help = "Create a coordinator account: Django admin for lines, hours, shifts and statistics."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        add_enrolment_argument(parser)

    def handle(self, *args, username, password, **options):
        try:
            user = create_coordinator(username, password)
        except AccountError as error:
            raise CommandError(str(error)) from None
        for warning in password_warnings(password, user):
            self.stderr.write(self.style.WARNING(warning))
        self.stdout.write(self.style.SUCCESS(f"Coordinator {username!r} created."))
        if settings.OTP_REQUIRED or options["enrolment_code"]:
            self.stdout.write(enrolment_line(user))
