from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from chats.accounts import (
    AccountError,
    add_enrolment_argument,
    create_helper,
    enrolment_line,
    password_warnings,
)


class Command(BaseCommand):
    help = "Create a helper account (professional or peer) for one or more service lines."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--role", required=True, help="professional, peer or volunteer")
        parser.add_argument("--display-name", required=True, help="the name askers see")
        parser.add_argument("--service", action="append", required=True, help="a line's slug")
        add_enrolment_argument(parser)

    def handle(self, *args, username, password, role, display_name, service, **options):
        # With two-step login on, the first authenticator needs the printed enrolment code.
        try:
            helper = create_helper(username, password, role, display_name, service)
        except AccountError as error:
            raise CommandError(str(error)) from None
        for warning in password_warnings(password, helper.user):
            self.stderr.write(self.style.WARNING(warning))
        lines = ", ".join(helper.lines.values_list("slug", flat=True))
        self.stdout.write(self.style.SUCCESS(f"Helper {username!r} ({role}) created for {lines}."))
        if settings.OTP_REQUIRED or options["enrolment_code"]:
            self.stdout.write(enrolment_line(helper.user))
