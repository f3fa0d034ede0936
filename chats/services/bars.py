"""Bars and "come back later": is an address barred on a line now, and the words it is told.

Addresses are compared by their keyed hash (verkkoapu.addresses.address_hash: the one address
rule, an IPv6 /64 is one address)."""

from datetime import datetime

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from verkkoapu import addresses
from verkkoapu.recent import Recent

from .. import protocol
from ..errors import ChatError
from ..models import Bar, ServiceLine

# Every start asks whether its address is barred; bars are few. Kept two seconds per process and
# cleared when a bar is saved here (chats/apps.py): a bar set on another process holds within that.
_bars = Recent(2.0)


forget_bars = _bars.forget


def active_bar(ip: str | None, line: ServiceLine, now: datetime) -> Bar | None:
    if not ip:
        return None
    hashed = addresses.address_hash(ip)
    bars = _bars.get("all", lambda: list(Bar.objects.order_by("-until")))
    return next(
        (
            bar
            for bar in bars
            if bar.address_hash == hashed and bar.until > now and bar.line_id in (None, line.pk)
        ),
        None,
    )


def refuse_barred(ip: str | None, line: ServiceLine, language: str, now: datetime) -> None:
    bar = active_bar(ip, line, now)
    if bar:
        raise ChatError("blocked", _blocked_message(bar, language), until=protocol.iso(bar.until))


def _blocked_message(bar: Bar, language: str) -> str:
    with translation.override(language):
        until = timezone.localtime(bar.until).strftime("%d.%m.%Y %H:%M")
        if bar.kind == Bar.Kind.COME_BACK_LATER:
            return _(
                "You are welcome to come back to the chat from %(until)s. Until then, chats "
                "from this connection are paused. In an emergency, call 112."
            ) % {"until": until}
        return _("A helper has paused chats from this connection until %(until)s.") % {
            "until": until
        }
