from django.core.management.base import BaseCommand

from letters import services


class Command(BaseCommand):
    help = (
        "Erase the letter threads past their line's retention (after the last reply was read, "
        "or unread). Safe to run at any time."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, dry_run, verbosity, **options):
        count = services.sweep(dry_run=dry_run)
        if verbosity:
            verb = "to erase" if dry_run else "erased"
            self.stdout.write(self.style.SUCCESS(f"{count} letter thread(s) {verb}."))
