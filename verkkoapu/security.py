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
- The address rule (an IPv6 /64 is one address) and its keyed hash, for every per-address
  measure; per-address limits that hold across server processes: open chats, chats started per
  hour, unknown tokens per hour, and `take_in`, the atomic reservation every guess limit uses.
  Counters are keyed hashes in the database, purged with their hour.

Nothing here imports chats at module level (chats imports this module); inside functions only
chats.models, chats.errors and chats.notify, which import nothing of the chat services.
"""

import ipaddress
import logging
import math
from datetime import datetime, timedelta
from importlib import import_module
from urllib.parse import urlencode

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.csp import CSP
from django.utils.deprecation import MiddlewareMixin

log = logging.getLogger(__name__)

# --- Browser headers -------------------------------------------------------------------------

# Pages an asker opens: a referrer would tell the next site where they were.
ASKER_PREFIXES = ("/feedback/", "/group/", "/api/widget/")
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


# --- Client addresses: the one adapter (a socket reads its scope, a view its request) ---


def client_ip(scope: dict) -> str | None:
    """The asker's address: the socket peer, or a trusted proxy's header about it."""
    peer = (scope.get("client") or [None])[0]
    header = settings.PROXY_IP_HEADER.lower().encode()
    if header and peer in settings.TRUSTED_PROXIES:
        for name, value in scope.get("headers", []):
            if name == header:
                # Rightmost entry not added by one of our own proxies is the client.
                hops = [hop.strip() for hop in value.decode("latin-1").split(",")]
                for hop in reversed(hops):
                    if hop and hop not in settings.TRUSTED_PROXIES:
                        peer = hop
                        break
    try:
        return str(ipaddress.ip_address(peer)) if peer else None
    except ValueError:
        return None


def request_ip(request) -> str | None:
    """The client's address as the chat sockets see it (the same trusted-proxy rules)."""
    scope = getattr(request, "scope", None)
    if scope is None:  # WSGI (the test client): rebuild what client_ip reads from a scope
        headers = []
        if settings.PROXY_IP_HEADER:
            meta = "HTTP_" + settings.PROXY_IP_HEADER.upper().replace("-", "_")
            if meta in request.META:
                headers.append(
                    (settings.PROXY_IP_HEADER.lower().encode(), request.META[meta].encode())
                )
        scope = {"client": [request.META.get("REMOTE_ADDR"), 0], "headers": headers}
    return client_ip(scope)


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


def _login_cells(request, username) -> list[tuple[str, str, int]]:
    """What a login attempt counts against: this username from this address (the lock, as
    django-axes keys it: a colleague at the same address, or the same person elsewhere, still
    logs in), and this address for every username (password spraying)."""
    ip = request_ip(request)
    if not ip:
        return []
    name = f"{(username or '').casefold()}@{limit_key(ip)}"
    pair = salted_hmac("verkkoapu.login", name, algorithm="sha256").hexdigest()
    return [
        ("login", pair, settings.AXES_FAILURE_LIMIT),
        ("login.address", address_hash(ip), settings.LOGIN_ADDRESS_FAILURE_LIMIT),
    ]


def _login_window(now: datetime) -> datetime:
    """The lock window: LOGIN_COOLOFF_MINUTES long, never across an hour (the counters' purge
    forgets past hours)."""
    hour = window_start(now)
    length = min(settings.AXES_COOLOFF_TIME, WINDOW).total_seconds()
    return hour + timedelta(seconds=(now - hour).total_seconds() // length * length)


def reserve_login(request, username) -> bool:
    """Take one attempt for this username from this address, and for this address, before the
    password is checked; False (and nothing taken) when either limit is used up this window."""
    window = _login_window(timezone.now())
    taken = []
    for kind, hashed, limit in _login_cells(request, username):
        if not take(kind, hashed, window, limit):
            for earlier in taken:
                give_back(*earlier, window)
            return False
        taken.append((kind, hashed))
    request._login_reserved = (window, taken)
    return True


def login_succeeded(sender, request, user, **kwargs):
    """`user_logged_in`: the attempt was right, so it does not count; and as django-axes does
    (AXES_RESET_ON_SUCCESS), the username's earlier mistakes from this address are forgotten."""
    from chats.models import AddressCounter

    window, taken = getattr(request, "_login_reserved", (None, ()))
    for kind, hashed in taken:
        if kind == "login":
            AddressCounter.objects.filter(kind=kind, address_hash=hashed).delete()
        else:
            give_back(kind, hashed, window)
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


def close_sockets_of_session(sender, request, user, **kwargs):
    """`user_logged_out`: every helper socket opened with this login closes (4403)."""
    from chats import notify

    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        notify.session_ended(key)


# --- Per-address limits ----------------------------------------------------------------------

WINDOW = timedelta(hours=1)


# --- The address rule: which addresses are the same person -----------------------------------


def limit_key(ip: str) -> str:
    """The address rule, for every per-address measure (limits, bars, kicks, guesses, feedback):
    an IPv4 address as it is; an IPv6 address as its network of ADDRESS_IPV6_PREFIX bits (/64:
    one home connection holds the whole /64 and picks any address in it); IPv4-mapped IPv6 as
    the IPv4 address. Something that is not an address is its own key."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{settings.ADDRESS_IPV6_PREFIX}", strict=False))
    return str(address)


def address_hash(ip: str) -> str:
    """The address rule as a keyed hash: what bars, kicks and counters store, never the address.
    Recognisable while a measure lasts, not reversible without SECRET_KEY."""
    key = limit_key(ip)
    return salted_hmac("verkkoapu.address", key, algorithm="sha256").hexdigest()


def window_start(now: datetime) -> datetime:
    """The start of the hour the per-address counters count in."""
    seconds = WINDOW.total_seconds()
    return datetime.fromtimestamp(now.timestamp() // seconds * seconds, tz=now.tzinfo)


def _cell(kind: str, hashed: str, now: datetime):
    from chats.models import AddressCounter

    return AddressCounter.objects.filter(
        kind=kind, address_hash=hashed, window_start=window_start(now)
    )


def count_in_window(kind: str, hashed: str, now: datetime) -> int:
    return _cell(kind, hashed, now).values_list("count", flat=True).first() or 0


# One statement on both databases (SQLite 3.35+, PostgreSQL): the first event of an hour creates
# the row, later ones count on it. It was four round trips, and every chat start pays it.
_BUMP_SQL = """
INSERT INTO {table} (kind, address_hash, window_start, count) VALUES (%s, %s, %s, 1)
ON CONFLICT (kind, address_hash, window_start) DO UPDATE SET count = {table}.count + 1
RETURNING count
"""


def bump(kind: str, hashed: str, now: datetime) -> int:
    """Count one event for this address in the current hour; the count including it.

    Inside a transaction the counter row stays locked until it ends (PostgreSQL), so one
    address's concurrent attempts, on any process, take their turns.
    """
    from chats.models import AddressCounter

    window = window_start(now)
    table = connection.ops.quote_name(AddressCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            _BUMP_SQL.format(table=table),
            [kind, hashed, connection.ops.adapt_datetimefield_value(window)],
        )
        (count,) = cursor.fetchone()
    if window != _forgotten_for:
        # A new hour in this process: past hours of everyone can go, once this transaction is
        # over (two chat starts must never wait on each other's cleanup). Once per hour and
        # process, not per address: a burst of new addresses ran it for each of them. Marked
        # done only when it ran: a refused start rolls back and leaves it to the next.
        transaction.on_commit(lambda: _forget_past_hours(now))
    return count


_forgotten_for: datetime | None = None  # the hour whose past this process last cleared


# One statement on both databases: count one more attempt unless the limit is reached; a row
# comes back only when the attempt was taken. The row's lock (PostgreSQL) or the database's
# write lock (SQLite) makes simultaneous attempts take their turns, so no more than `limit`
# ever get through, whatever the number of processes.
_TAKE_SQL = """
INSERT INTO {table} ({keys}, count) VALUES ({marks}, 1)
ON CONFLICT ({keys}) DO UPDATE SET count = {table}.count + 1 WHERE {table}.count < %s
RETURNING count
"""


def take_in(model, keys: dict, limit: int) -> bool:
    """Reserve one attempt in `model`'s counter row `keys` (its unique columns) unless it
    already holds `limit`: whether it was taken. Call before the expensive or secret check."""
    if limit < 1:
        return False
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in keys)
    values = [
        connection.ops.adapt_datetimefield_value(value) if isinstance(value, datetime) else value
        for value in keys.values()
    ]
    sql = _TAKE_SQL.format(table=table, keys=columns, marks=", ".join(["%s"] * len(keys)))
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, limit])
        return cursor.fetchone() is not None


def give_back_in(model, keys: dict) -> None:
    """The attempt turned out right (a login, a code): it does not count."""
    model.objects.filter(count__gt=0, **keys).update(count=F("count") - 1)


def take(kind: str, hashed: str, window: datetime, limit: int) -> bool:
    from chats.models import AddressCounter

    keys = {"kind": kind, "address_hash": hashed, "window_start": window}
    return take_in(AddressCounter, keys, limit)


def give_back(kind: str, hashed: str, window: datetime) -> None:
    from chats.models import AddressCounter

    give_back_in(AddressCounter, {"kind": kind, "address_hash": hashed, "window_start": window})


def _forget_past_hours(now: datetime) -> None:
    from chats.models import AddressCounter

    global _forgotten_for
    window = window_start(now)
    try:
        with transaction.atomic():
            # Rows another process is deleting right now are its business: skip, never wait.
            old = AddressCounter.objects.filter(window_start__lt=window)
            ids = list(old.select_for_update(skip_locked=True).values_list("pk", flat=True)[:1000])
            AddressCounter.objects.filter(pk__in=ids).delete()
    except DatabaseError:
        log.warning("could not delete past hours' address counters; the purge will")
        return
    _forgotten_for = window


def _rate_limited(message: str, limit: str):
    """`rate_limited`, with `limit` naming which (an addition to the contract: a client can say
    what to do, e.g. the widget tells an asker to end the chat open in another tab)."""
    from chats.errors import ChatError  # the bottom of chats: it imports nothing of theirs

    return ChatError("rate_limited", message, limit=limit)


def open_chats_from(ip: str, up_to: int | None = None) -> int:
    """Queued or live one-to-one chats whose asker has this address (or its IPv6 /64); with
    `up_to`, only those started no later than that chat."""
    from chats.models import Chat

    key = limit_key(ip)
    chats = Chat.objects.all() if up_to is None else Chat.objects.filter(pk__lte=up_to)
    if ":" not in key:
        return chats.filter(asker_ip=key).count()
    addresses = chats.filter(asker_ip__contains=":").values_list("asker_ip", flat=True)
    return sum(1 for address in addresses if limit_key(address) == key)


def too_many_open():
    return _rate_limited(
        "This connection already has open chats. End one before a new one.", "open_chats"
    )


def admit_chat_start(ip: str | None, now: datetime) -> None:
    """Refuse (`rate_limited`) a new chat from an address that holds or started too many.

    Call inside the transaction that creates the chat: a refusal rolls its count back, and the
    counter row's lock makes one address's starts take turns across processes.
    """
    if not ip:
        return  # no address to count by (a local socket); nothing to limit
    count_chat_start(ip, now)
    if open_chats_from(ip) >= settings.CHAT_MAX_OPEN_PER_ADDRESS:
        raise too_many_open()


def count_chat_start(ip: str | None, now: datetime) -> None:
    """Count a start in the address's hour, in one statement of its own; past the hour's limit
    it is uncounted and refused (`rate_limited`). The open chats are counted after the insert
    (chats.services.queue, `create_queued_chat` on PostgreSQL)."""
    if not ip:
        return
    if bump("start", address_hash(ip), now) > settings.CHAT_MAX_STARTS_PER_HOUR:
        uncount_chat_start(ip, now)
        raise _rate_limited(
            "Too many chats started from this connection. Try again later.", "starts"
        )


def uncount_chat_start(ip: str, now: datetime) -> None:
    """A start admitted and then taken back: it does not count towards the hour's starts."""
    _cell("start", address_hash(ip), now).update(count=F("count") - 1)


def admit_group_join(session_id: int, ip: str | None, present_from_address, now) -> None:
    """The same limits for a group session: people present from the address, joins per hour.

    `present_from_address` is the session's participants present from this address; call
    inside the transaction that holds the session's lock.
    """
    if not ip:
        return
    if present_from_address.count() >= settings.CHAT_MAX_OPEN_PER_ADDRESS:
        raise _rate_limited(
            "This connection is already in the group. Use that window.", "open_chats"
        )
    if bump(f"join.{session_id}", address_hash(ip), now) > settings.CHAT_MAX_STARTS_PER_HOUR:
        raise _rate_limited("Too many joins from this connection. Try again later.", "starts")


def refuse_token_guessing(ip: str | None, now: datetime) -> None:
    """`rate_limited` once an address has sent too many unknown tokens this hour."""
    if not ip:
        return
    misses = count_in_window("token_miss", address_hash(ip), now)
    if misses >= settings.CHAT_MAX_TOKEN_MISSES_PER_HOUR:
        raise _rate_limited(
            "Too many unknown chats from this connection. Try again later.", "token_misses"
        )


def count_token_miss(ip: str | None, now: datetime) -> None:
    if ip:
        bump("token_miss", address_hash(ip), now)


def purge_address_counters(now: datetime, dry_run: bool = False) -> int:
    """Delete the counters of past hours (for purge_ip_addresses); how many went."""
    from chats.models import AddressCounter

    old = AddressCounter.objects.filter(window_start__lt=window_start(now))
    if dry_run:
        return old.count()
    return old.delete()[1].get(AddressCounter._meta.label, 0)
