"""Client addresses, the address rule and per-address limits (docs/security.md).

- The one client-address adapter: `client_ip(scope)` for a socket, `request_ip(request)` for a
  view, by the same trusted-proxy rules.
- The address rule (an IPv6 /64 is one address, `limit_key`) and its keyed hash
  (`address_hash`, salted_hmac): what bars, kicks, counters and limits store.
- Per-address limits that hold across server processes: chats started per hour,
  unknown tokens per hour, group joins; the named window counters every limit counts with
  (`STARTS`, `TOKEN_MISSES`, ..., all `counters.WindowCounter`). Counters are keyed hashes in
  the database, purged with their hour.

Of chats only chats.errors (the refusals), which imports none of the chat services: chats
imports this module. The open-chats limit, which counts chats, is chats.services.queue's.
"""

import ipaddress
import logging
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils.crypto import salted_hmac

from chats.errors import ChatError  # below every chat service: it imports only chats.models

from .counters import WindowCounter, window_start

log = logging.getLogger(__name__)

COUNTERS = "chats.AddressCounter"  # the table of every per-address count but wrong codes


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


# --- Per-address limits: window counters (verkkoapu/counters.py) -----------------------------

STARTS = WindowCounter(COUNTERS, "start")  # chats started per address and hour
TOKEN_MISSES = WindowCounter(COUNTERS, "token_miss")  # unknown chat tokens per address and hour
INVITE_GUESSES = WindowCounter(COUNTERS, "invite_guess")  # per closed group session, from anyone
LETTERS = WindowCounter(COUNTERS, "letter")  # letters written per address and hour


def joins(session_id: int) -> WindowCounter:
    """Joins of one group session per address and hour."""
    return WindowCounter(COUNTERS, f"join.{session_id}")


def bump(counter: WindowCounter, key: str, now: datetime) -> int:
    """`counter.bump`, and once per hour and process the past hours of everyone go."""
    count = counter.bump(key, now)
    window = window_start(now)
    if window != _forgotten_for:
        # A new hour in this process: past hours of everyone can go, once this transaction is
        # over (two chat starts must never wait on each other's cleanup). Once per hour and
        # process, not per address: a burst of new addresses ran it for each of them. Marked
        # done only when it ran: a refused start rolls back and leaves it to the next.
        transaction.on_commit(lambda: _forget_past_hours(now))
    return count


_forgotten_for: datetime | None = None  # the hour whose past this process last cleared


def _forget_past_hours(now: datetime) -> None:
    global _forgotten_for
    window = window_start(now)
    try:
        with transaction.atomic():
            # Rows another process is deleting right now are its business: skip, never wait.
            old = STARTS.over(now)  # every kind of the table: no window outlives its hour
            ids = list(old.select_for_update(skip_locked=True).values_list("pk", flat=True)[:1000])
            STARTS.model.objects.filter(pk__in=ids).delete()
    except DatabaseError:
        log.warning("could not delete past hours' address counters; the purge will")
        return
    _forgotten_for = window


def _rate_limited(message: str, limit: str):
    """`rate_limited`, with `limit` naming which (an addition to the contract: a client can say
    what to do, e.g. the widget tells an asker to end the chat open in another tab)."""
    return ChatError("rate_limited", message, limit=limit)


def count_chat_start(ip: str | None, now: datetime) -> None:
    """Count a start in the address's hour, in one statement of its own; past the hour's limit
    it is uncounted and refused (`rate_limited`). The open chats are counted after the insert
    (chats.services.queue, `create_queued_chat` on PostgreSQL)."""
    if not ip:
        return
    if bump(STARTS, address_hash(ip), now) > settings.CHAT_MAX_STARTS_PER_HOUR:
        uncount_chat_start(ip, now)
        raise _rate_limited(
            "Too many chats started from this connection. Try again later.", "starts"
        )


def uncount_chat_start(ip: str, now: datetime) -> None:
    """A start admitted and then taken back: it does not count towards the hour's starts."""
    STARTS.give_back(address_hash(ip), now)


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
    if bump(joins(session_id), address_hash(ip), now) > settings.CHAT_MAX_STARTS_PER_HOUR:
        raise _rate_limited("Too many joins from this connection. Try again later.", "starts")


def refuse_token_guessing(ip: str | None, now: datetime) -> None:
    """`rate_limited` once an address has sent too many unknown tokens this hour."""
    if not ip:
        return
    misses = TOKEN_MISSES.count(address_hash(ip), now)
    if misses >= settings.CHAT_MAX_TOKEN_MISSES_PER_HOUR:
        raise _rate_limited(
            "Too many unknown chats from this connection. Try again later.", "token_misses"
        )


def count_token_miss(ip: str | None, now: datetime) -> None:
    if ip:
        bump(TOKEN_MISSES, address_hash(ip), now)


def purge_address_counters(now: datetime, dry_run: bool = False) -> int:
    """Delete the counters of past hours (for purge_ip_addresses); how many went."""
    old = STARTS.over(now)  # every kind of the table: their windows end with the hour
    if dry_run:
        return old.count()
    return old.delete()[1].get(COUNTERS, 0)
