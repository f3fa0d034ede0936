"""What `createhelper` and `createcoordinator` share: a username and a password, the enrolment
code option, the password's warnings and the enrolment line."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from chats.accounts import AccountError, add_enrolment_argument, enrolment_line, password_warnings


class AccountCommand(BaseCommand):
    """A command that creates one account: subclasses add their arguments and `create` it."""

    def add_account_arguments(self, parser) -> None:
        """The arguments after the username and the password."""

    def create(self, username: str, password: str, **options):
        """The new account's user and what to say about it."""
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        self.add_account_arguments(parser)
        add_enrolment_argument(parser)

    def handle(self, *args, username, password, **options):
        try:
            user, created = self.create(username, password, **options)
        except AccountError as error:
            raise CommandError(str(error)) from None
        for warning in password_warnings(password, user):
            self.stderr.write(self.style.WARNING(warning))
        self.stdout.write(self.style.SUCCESS(created))
        # With two-step login on, the first authenticator needs the printed enrolment code.
        if settings.OTP_REQUIRED or options["enrolment_code"]:
            self.stdout.write(enrolment_line(user))
