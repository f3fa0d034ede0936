"""Where a login lands: each role at its own place (LOGIN_REDIRECT_URL points here).

A helper works in the console; a coordinator (or a superuser) who is not also a helper runs the
service in the admin. Anyone else has neither and gets the console's own answer (404).
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect


def place_of(user) -> str:
    """The URL name of the page this user works on."""
    if hasattr(user, "helper"):
        return "console"
    if user.is_staff or user.is_superuser:
        return "admin:index"
    return "console"


@login_required
def home(request):
    return redirect(place_of(request.user))
