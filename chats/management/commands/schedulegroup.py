from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from chats import followups, groups
from scheduling.hours import HELSINKI


def moment(value: str) -> datetime:
    """ISO 8601; without an offset the time is Helsinki time."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not an ISO 8601 time (e.g. 2027-03-04T18:00).") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=HELSINKI)


class Command(BaseCommand):
    help = "Schedule a group chat session on a group line, with its moderators."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the group line, e.g. unichat")
        parser.add_argument("--start", required=True, help="ISO 8601; no offset = Helsinki time")
        parser.add_argument("--end", required=True, help="ISO 8601; no offset = Helsinki time")
        parser.add_argument("--title", required=True)
        parser.add_argument("--language", default="fi", help="fi or en")
        parser.add_argument("--capacity", type=int, default=30)
        parser.add_argument("--moderator", action="append", default=[], metavar="USERNAME")
        parser.add_argument("--invite", default="", help="a closed group's shared code")
        parser.add_argument(
            "--closed",
            action="store_true",
            help="a closed group with a generated invitation (printed once; as strong as a "
            "follow-up code)",
        )

    def handle(
        self, *args, slug, start, end, title, language, capacity, moderator, invite, closed, **o
    ):
        if closed and invite:
            raise CommandError("Give --invite CODE or --closed (a generated code), not both.")
        if closed:
            invite = groups.new_invite()
        try:
            session = groups.schedule_session(
                slug,
                starts_at=moment(start),
                ends_at=moment(end),
                title=title,
                language=language,
                capacity=capacity,
                moderators=moderator,
                invite=invite,
            )
        except groups.ScheduleError as error:
            raise CommandError(str(error)) from None
        if o["verbosity"]:
            when = session.starts_at.astimezone(HELSINKI)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Scheduled session {session.pk} of {slug}: {session.title}, "
                    f"{when:%d.%m.%Y %H:%M}–{session.ends_at.astimezone(HELSINKI):%H:%M}."
                )
            )
        if closed:
            self.stdout.write(f"Invitation: {session.invite}")
        elif groups.weak_invite(invite):
            self.stderr.write(
                self.style.WARNING(
                    f"Warning: the invitation is easy to guess (about "
                    f"{groups.invite_bits(invite):.0f} bits; a generated one, --closed, has "
                    f"{followups.CODE_BITS:.0f}). Guesses are limited per address and "
                    "per session, but a longer code is safer."
                )
            )
