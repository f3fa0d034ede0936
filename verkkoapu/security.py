"""Security measures that cut across the apps (docs/security.md).

- Browser headers: per-page framing and referrer rules on top of SECURE_CSP and the
  SecurityMiddleware (asker pages send no referrer; only the demo page may be framed, and only
  by EMBEDDING_ORIGINS).
- Logins: an attempt reserved atomically before the password is checked (per username and
  address, and per address), the address django-axes records, its lockout page, and two-factor
  enforcement for /console/ and /admin/ when OTP_REQUIRED is on.
- Sessions: a session is written, and its cookie set, only when it holds a login.
- Helper sockets: whether the login behind a socket still holds (not logged out, not idle past
  SESSION_COOKIE_AGE, same password, verified with a code when required).
- Client addresses, the address rule and per-address limits live in verkkoapu/addresses.py;
  their names are imported here too.

Nothing here imports chats at module level (chats imports this module); inside functions only
chats.models, chats.errors and chats.notify, which import nothing of the chat services.
"""

import logging
import math
from importlib import import_module
from urllib.parse import urlencode

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.middleware import SessionMiddleware
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.csp import CSP
from django.utils.deprecation import MiddlewareMixin

from .addresses import (  # noqa: F401  (read from here too: chats, feedback, letters)
    COUNTERS,
    LETTERS,
    address_hash,
    admit_group_join,
    client_ip,
    count_chat_start,
    count_token_miss,
    limit_key,
    purge_address_counters,
    refuse_token_guessing,
    request_ip,
    uncount_chat_start,
    window_start,
)
from .counters import HOUR, WindowCounter

log = logging.getLogger(__name__)

# --- Browser headers -------------------------------------------------------------------------

# Pages an asker opens: a referrer would tell the next site where they were.
ASKER_PREFIXES = (
    "/feedback/",
    "/group/",
    "/letters/",
    "/api/widget/",
    "/api/feedback/",
    "/api/letters/",
)
# The demo page embeds the widget and may itself be framed by the sites of EMBEDDING_ORIGINS.
EMBEDDABLE_PATHS = ("/",)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def is_asker_page(path: str) -> bool:
    return path in EMBEDDABLE_PATHS or path.startswith(ASKER_PREFIXES)


class SecurityHeadersMiddleware(MiddlewareMixin):
    """Sits inside the CSP middleware and outside X-Frame-Options: adjusts both per page."""

    def process_response(self, request, response):
        path = request.path_info
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if is_asker_page(path):
            response.headers["Referrer-Policy"] = "no-referrer"
        if path in EMBEDDABLE_PATHS:
            origins = list(settings.EMBEDDING_ORIGINS)
            if not hasattr(response, "_csp_config"):
                response._csp_config = {
                    **settings.SECURE_CSP,
                    "frame-ancestors": origins or [CSP.NONE],
                }
            if origins:
                # X-Frame-Options cannot name sites; frame-ancestors, which browsers prefer, does.
                del response.headers["X-Frame-Options"]
        return response


# --- Logins ---------------------------------------------------------------------------------


class LoginAttemptsBackend(AxesStandaloneBackend):
    """The gate in front of the password check, for logins over the network.

    Before any password is checked, one attempt is reserved atomically for the username from
    this address (LOGIN_FAILURE_LIMIT) and for the address whatever the username
    (LOGIN_ADDRESS_FAILURE_LIMIT), by the address rule (an IPv6 /64 is one address), in the
    current lock window; past either the login is refused (django-axes' 429 page) without a
    check, so N simultaneous guesses never get more than the limit of checks, on any
    database and process. A login that succeeds gives its reservations back (`login_succeeded`).
    django-axes' own check and records (its admin, the sliding cool-off) stay behind the gate.
    A call without a request (the test client's `login()`, a script) has no address to count
    and is left to the next backend.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        if not reserve_login(request, username):
            request.axes_locked_out = True
            raise AxesBackendPermissionDenied("too many login attempts in this window")
        return super().authenticate(request, username=username, password=password, **kwargs)


def _login_cells(request, username) -> list[tuple[WindowCounter, str, int]]:
    """What a login attempt counts against: this username from this address (the lock, as
    django-axes keys it: a colleague at the same address, or the same person elsewhere, still
    logs in), and this address for every username (password spraying)."""
    ip = request_ip(request)
    if not ip:
        return []
    name = f"{(username or '').casefold()}@{limit_key(ip)}"
    pair = salted_hmac("verkkoapu.login", name, algorithm="sha256").hexdigest()
    return [
        (LOGINS, pair, settings.AXES_FAILURE_LIMIT),
        (ADDRESS_LOGINS, address_hash(ip), settings.LOGIN_ADDRESS_FAILURE_LIMIT),
    ]


def _login_seconds() -> int:
    """The lock window: LOGIN_COOLOFF_MINUTES long, never across an hour (the counters' purge
    forgets past hours)."""
    return int(min(settings.AXES_COOLOFF_TIME, HOUR).total_seconds())


# This username from this address, and this address whatever the username.
LOGINS = WindowCounter(COUNTERS, "login", _login_seconds)
ADDRESS_LOGINS = WindowCounter(COUNTERS, "login.address", _login_seconds)


def reserve_login(request, username) -> bool:
    """Take one attempt for this username from this address, and for this address, before the
    password is checked; False (and nothing taken) when either limit is used up this window."""
    now = timezone.now()
    taken = []
    for counter, hashed, limit in _login_cells(request, username):
        if not counter.take(hashed, now, limit):
            for earlier, key in taken:
                earlier.give_back(key, now)
            return False
        taken.append((counter, hashed))
    request._login_reserved = (now, taken)
    return True


def login_succeeded(sender, request, user, **kwargs):
    """`user_logged_in`: the attempt was right, so it does not count; and as django-axes does
    (AXES_RESET_ON_SUCCESS), the username's earlier mistakes from this address are forgotten."""
    now, taken = getattr(request, "_login_reserved", (None, ()))
    for counter, hashed in taken:
        if counter is LOGINS:
            counter.forget(hashed)
        else:
            counter.give_back(hashed, now)
    if request is not None:
        request._login_reserved = (None, ())


def cooloff_minutes() -> int:
    return math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out login: the login page with the reason, status 429."""
    return render(
        request,
        "security/locked.html",
        {"form": AuthenticationForm(request), "minutes": cooloff_minutes()},
        status=429,
    )


# Pages that need a code-verified session when OTP_REQUIRED is on; the admin's own login and
# logout stay reachable, as do /accounts/ (login, logout, the two-factor pages themselves).
OTP_PROTECTED = ("/console/", "/admin/")
OTP_EXEMPT = ("/admin/login/", "/admin/logout/")


class RequireOTPMiddleware(MiddlewareMixin):
    """A logged-in user without a verified code goes to set one up, or to enter one."""

    def process_request(self, request):
        path = request.path_info
        if not settings.OTP_REQUIRED or not path.startswith(OTP_PROTECTED):
            return None  # asker pages never touch the session
        if path.startswith(OTP_EXEMPT):
            return None
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        from django_otp import user_has_device

        step = "otp-verify" if user_has_device(user, confirmed=True) else "otp-setup"
        return redirect(f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}")


def otp_verified(user, session) -> bool:
    """Whether this session was verified with a code from one of the user's own devices."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.models import Device

    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    if not isinstance(persistent_id, str):
        return False
    device = Device.from_persistent_id(persistent_id)
    return device is not None and device.user_id == user.pk and device.confirmed


# --- Sessions ------------------------------------------------------------------------------


class LoginSessionMiddleware(SessionMiddleware):
    """Django's session middleware, writing only sessions that hold a login.

    With SESSION_SAVE_EVERY_REQUEST (inactivity expiry) the stock middleware saved every
    request's session that came with a cookie: an unknown or made-up `sessionid` was loaded
    (to read its expiry), found missing, and saved as a new empty row with a new cookie. Here a
    session is saved, and its cookie set, only when it holds a login; a logout (a flushed
    session) still deletes its cookie. Asker pages never set or delete a cookie at all.
    """

    def process_response(self, request, response):
        session = getattr(request, "session", None)
        if session is not None and not is_asker_page(request.path_info):
            if SESSION_KEY in session or (session.modified and session.is_empty()):
                return super().process_response(request, response)
        if session is not None and session.accessed:
            patch_vary_headers(response, ("Cookie",))
        return response


# --- Helper sockets --------------------------------------------------------------------------


def session_alive(session_key: str | None, user_id: int, *, refresh: bool = False) -> bool:
    """Whether the login behind a helper socket still holds (sync; call it in a thread).

    False once the session was logged out or expired (SESSION_COOKIE_AGE without use), the
    password changed, the account was deactivated, or (with OTP_REQUIRED) the session has no
    verified code. `refresh` counts the socket's own activity as use of the session, so a
    helper who is chatting is never logged out for want of page loads.
    """
    if not session_key:
        return False
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    if store.get(SESSION_KEY) != str(user_id):
        return False  # gone (logged out, expired) or someone else's
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    if not constant_time_compare(store.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()):
        return False
    if settings.OTP_REQUIRED and not otp_verified(user, store):
        return False
    if refresh:
        store.modified = True
        try:
            store.save()  # a new expiry, counted from now
        except UpdateError:
            return False  # logged out this very moment
    return True


def socket_login_valid(scope) -> bool:
    session, user = scope.get("session"), scope.get("user")
    if session is None or user is None or not user.is_authenticated:
        return False
    return session_alive(session.session_key, user.pk)


def socket_session_key(scope) -> str | None:
    session = scope.get("session")
    return session.session_key if session is not None else None
