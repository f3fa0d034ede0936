from django.core.management.base import BaseCommand

from stats import retention


class Command(BaseCommand):
    help = (
        "Remove every IP address and IP-derived value past its retention (expired bars, "
        "overage chats, stale rows of other features). Safe to run at any time."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would go; change nothing."
        )

    def handle(self, *args, dry_run, verbosity, **options):
        results = retention.purge_ip_addresses(dry_run=dry_run)
        if verbosity:
            for purged in results:
                self.stdout.write(f"{purged.count:>6}  {purged.label}")
            total = sum(purged.count for purged in results)
            verb = "would be removed (dry run)" if dry_run else "removed"
            self.stdout.write(self.style.SUCCESS(f"{total} item(s) {verb}."))
