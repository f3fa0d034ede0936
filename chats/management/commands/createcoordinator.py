from chats.accounts import create_coordinator
from chats.management.account_command import AccountCommand


class Command(AccountCommand):
    help = "Create a coordinator account: Django admin for lines, hours, shifts and statistics."

    def create(self, username, password, **options):
        return create_coordinator(username, password), f"Coordinator {username!r} created."
