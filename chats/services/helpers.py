"""A helper's own chats and lines: what a helper may touch, and the one answer when not."""

from django.db import transaction
from django.utils.translation import gettext as _

from .. import audit
from ..errors import ChatError
from ..models import Chat, HelperProfile, Message, ServiceLine
from .messages import post_message


def helper_chats(helper: HelperProfile) -> list[Chat]:
    return list(Chat.objects.active().filter(helper=helper).select_related("line"))


def own_chat(helper: HelperProfile, chat_id: int) -> Chat:
    chat = Chat.objects.active().filter(pk=chat_id, helper=helper).select_related("line").first()
    if chat is None:
        raise not_your_chat()
    return chat


def not_your_chat() -> ChatError:
    """The one answer for a chat that is not the helper's, or no longer exists."""
    return ChatError("not_found", _("No such chat of yours; it may have ended."))


def helpers_line(helper: HelperProfile, slug: str) -> ServiceLine:
    """One of the helper's active lines, or `not_found`."""
    line = helper.lines.filter(slug=slug, active=True).first()
    if line is None:
        raise ChatError("not_found", _("You are not a helper of %(line)s.") % {"line": slug})
    return line


def checked_topics(chat: Chat, topics: list[str]) -> list[str]:
    """The topics, once each, if every one is an active topic of the chat's line."""
    known = set(chat.line.topics.filter(active=True).values_list("slug", flat=True))
    unknown = sorted(set(topics) - known)
    if unknown:
        raise ChatError(
            "unknown_topic",
            _("Unknown topic(s) for this line: %(topics)s.") % {"topics": ", ".join(unknown)},
        )
    return sorted(set(topics))


def send_notice(helper: HelperProfile, chat_id: int, text: str, now=None) -> Message:
    """The helper's notice (e.g. of the duty to report): the asker sees it as a system message."""
    chat = own_chat(helper, chat_id)
    with transaction.atomic():
        message = post_message(chat_id, Message.Sender.SYSTEM, text, helper=helper, now=now)
        audit.record(helper, audit.Action.NOTICE, line=chat.line, now=now)
    return message
