"""A logging filter that takes IP addresses out of every record before a handler writes it.

The app never logs an address or a message text on purpose; this catches the accidents: an
exception that quotes a peer, a library that names its client. It sits on the handlers (see
logging_settings below: settings.LOGGING), so it sees every record that reaches them,
propagated ones included.
"""

import ipaddress
import logging
import re

REDACTED = "[address]"

IPV4 = r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)"
# Anything made of hex groups and colons with at least two colons; checked by ipaddress below,
# so times ("12:30:00") and other colon-separated words stay.
IPV6 = (
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}"
    r"(?:[0-9A-Fa-f]{0,4}|(?:\d{1,3}\.){3}\d{1,3})(?:%\w+)?(?![\w:]|\.\d)"
)
CANDIDATE = re.compile(f"{IPV6}|{IPV4}")


def _replace(match: re.Match) -> str:
    text = match.group(0)
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return text
    return REDACTED


def redact(text: str) -> str:
    """`text` with every IPv4 and IPv6 address replaced by a placeholder."""
    return CANDIDATE.sub(_replace, text)


class RedactAddresses(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def logging_settings(level: str) -> dict:
    """settings.LOGGING: one handler, to standard error, through the filter above."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
        # Every handler redacts IP addresses from what it writes (verkkoapu/logfilters.py).
        "filters": {"no_addresses": {"()": "verkkoapu.logfilters.RedactAddresses"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "filters": ["no_addresses"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Daphne's access log names the client address: off, so the logs never hold an IP.
            "daphne.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "django.request": {"level": "ERROR"},
            # Lockouts (warnings) stay; every failed login and start-up banner would be noise.
            "axes": {"level": "WARNING"},
            # Django's default handlers for "django" would write past the filter: use root's.
            "django": {"handlers": [], "level": "INFO", "propagate": True},
        },
    }
