"""A logging filter that takes IP addresses out of every record before a handler writes it.

The app never logs an address or a message text on purpose; this catches the accidents: an
exception that quotes a peer, a library that names its client. It sits on the handlers (see
LOGGING in settings), so it sees every record that reaches them, propagated ones included.
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
