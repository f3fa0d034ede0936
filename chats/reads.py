"""What the sockets read on their own, on a database thread: a console's welcome and glance, an
asker's state, a helper's login and pause. Synchronous; consumers call them through `db()`.
"""

from dataclasses import dataclass

from django.db.models import Count, Q

from verkkoapu import security

from . import asking, followups, peer_support, services, taking, transfer
from .errors import Answer, ChatError
from .models import Chat, DutySession, HelperProfile

ACTIVE = Chat.Status.ACTIVE
# Frames other apps add to a console's start, each a function of the helper giving a list of
# frames (the letters inbox: letters/apps.py); read in the same trip as the rest of the welcome.
WELCOME_FRAMES: list = []


def helper_of(user) -> HelperProfile | None:
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return HelperProfile.objects.filter(user=user).first()


def admitted_helper(scope) -> HelperProfile | None:
    """The socket's helper, if the login behind it is valid (else the socket is refused)."""
    helper = helper_of(scope.get("user"))
    return helper if helper is not None and security.socket_login_valid(scope) else None


@dataclass
class Welcome:
    queues: dict[str, int]  # the helper's lines and their queues' lengths
    chats: list[Answer]  # `assigned` and history of each chat the helper holds
    follow_ups: list[dict]
    offers: list[dict]  # transfers offered to the helper, not yet answered
    support: dict  # the `support` frame: support person, debriefs due (issue 21)
    supported: list[int]  # the helpers whose support person this helper is
    extra: list[dict]  # other apps' frames (WELCOME_FRAMES)


def welcome(helper, channel_name: str) -> Welcome:
    """A console's start: on duty, then what it shows (HelperConsumer.connect)."""
    services.start_duty(helper, channel_name)
    return Welcome(
        queues=glance(helper, []).queues,
        chats=[taking.helper_chat_answer(chat) for chat in services.helper_chats(helper)],
        follow_ups=followups.follow_ups_of(helper),
        offers=transfer.offers_to(helper),
        support=peer_support.support_frame(helper),
        supported=peer_support.supported_by(helper),
        extra=[frame for frames_of in WELCOME_FRAMES for frame in frames_of(helper)],
    )


def asker_state(chat_id: int) -> dict | None:
    """`assigned` or `position` as the asker should see it now; None once the chat has ended."""
    chat = Chat.objects.select_related("helper").filter(pk=chat_id).first()
    return None if chat is None else asking.asker_state_frame(chat)


def chat_row(chat_id: int) -> tuple[str, int] | None:
    """The chat's status and last message id (loopdb.chat_state on a thread)."""
    return Chat.objects.filter(pk=chat_id).values_list("status", "last_seq").first()


@dataclass
class Glance:
    last_seqs: dict  # chat id -> last seq, for the helper's chats still active and theirs
    queues: dict  # line slug -> queue length, for the helper's lines


def glance(helper, chat_ids: list[int]) -> Glance:
    mine = Chat.objects.active().filter(pk__in=chat_ids, helper_id=helper.pk)
    waiting = Q(chats__status=Chat.Status.QUEUED, chats__follow_up__isnull=True)
    lines = helper.lines.filter(active=True).annotate(waiting=Count("chats", filter=waiting))
    return Glance(
        dict(mine.values_list("pk", "last_seq")) if chat_ids else {},
        dict(lines.values_list("slug", "waiting")),
    )


def own_chat_or_none(helper, chat_id):
    try:
        return services.own_chat(helper, chat_id)
    except ChatError:
        return None


def set_paused(channel_name: str, paused: bool) -> None:
    DutySession.objects.filter(channel_name=channel_name).update(paused=paused)
