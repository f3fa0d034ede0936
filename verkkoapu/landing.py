"""Where a login lands: each role at its own place.

A helper works in the console; a coordinator (or a superuser) who is not also a helper runs the
service in the admin. Anyone else has neither and gets the console's own answer (404). A `next`
the login page was given still wins, as with Django's own view.
"""

from django.contrib.auth import views as auth_views
from django.shortcuts import resolve_url


def place_of(user) -> str:
    """The URL of the page this user works on."""
    if not hasattr(user, "helper") and (user.is_staff or user.is_superuser):
        return resolve_url("admin:index")
    return resolve_url("console")


class LoginView(auth_views.LoginView):
    def get_default_redirect_url(self):
        return place_of(self.request.user)
