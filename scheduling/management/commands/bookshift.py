from datetime import date

from django.core.management.base import BaseCommand, CommandError, no_translations
from django.utils.translation import gettext as _

from chats.models import HelperProfile
from scheduling.services import BookingError, book_shift


class Command(BaseCommand):
    help = "Book a shift slot of a service line on a day for a helper (as the calendar does)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--service", required=True, help="the line's slug")
        parser.add_argument("--date", required=True, help="YYYY-MM-DD")
        parser.add_argument("--slot", required=True, help="e.g. 12-14")

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # The contract wants a one-line reason: argparse's error line without the usage block.
        parser.print_usage = lambda file=None: None
        return parser

    @no_translations  # English on the shell, like createhelper; the calendar page translates
    def handle(self, *args, username, verbosity, **options):
        helper = HelperProfile.objects.filter(user__username=username).first()
        if helper is None:
            raise CommandError(f"Unknown helper '{username}'.")
        try:
            day = _parse_day(options["date"])
            booking = book_shift(helper, options["service"], day, options["slot"])
        except BookingError as error:
            raise CommandError(str(error)) from None
        if verbosity:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Booked {booking.slot.line.slug} {booking.slot.label} on "
                    f"{booking.day:%Y-%m-%d} for {helper.display_name}."
                )
            )


def _parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BookingError(
            _("Cannot read the date '%(value)s'; write it like 2026-12-03.") % {"value": value}
        ) from None
