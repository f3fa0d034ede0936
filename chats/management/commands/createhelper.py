from chats.accounts import create_helper
from chats.management.account_command import AccountCommand


class Command(AccountCommand):
    help = "Create a helper account (professional or peer) for one or more service lines."

    def add_account_arguments(self, parser):
        parser.add_argument("--role", required=True, help="professional, peer or volunteer")
        parser.add_argument("--display-name", required=True, help="the name askers see")
        parser.add_argument("--service", action="append", required=True, help="a line's slug")

    def create(self, username, password, *, role, display_name, service, **options):
        helper = create_helper(username, password, role, display_name, service)
        lines = ", ".join(helper.lines.values_list("slug", flat=True))
        return helper.user, f"Helper {username!r} ({role}) created for {lines}."
