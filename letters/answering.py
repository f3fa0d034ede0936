"""The helper side of anonymous letters (docs/letters.md): inbox, claim, answer, approve, end.

Helpers of the line claim a waiting thread with a conditional update (like `accept_next`): of
two helpers claiming at once exactly one gets it. A thread a helper keeps waits for them first,
for the line's `same_helper_days`, then for anyone of the line. A peer's reply on a line that
requires approval reaches the asker only when a professional of the line approves it. The
asker's side, the shared rules and the retention sweep are in letters/services.py.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from chats import services as chats
from chats.errors import ChatError
from chats.models import HelperProfile
from stats import services as stats

from . import notify
from .models import Letter, LetterSettings, Thread
from .services import answer_bucket, clean_text, erase, settings_of, stats_day


def _claim_lapsed(now: datetime) -> datetime:
    return now - timedelta(hours=settings.LETTER_CLAIM_HOURS)


def reserved_until(thread: Thread, config: LetterSettings) -> datetime | None:
    """Until when a waiting kept thread is for its own helper only (None: for anyone)."""
    if not thread.kept_by_id or not thread.waiting_since or not config.same_helper_days:
        return None
    return thread.waiting_since + timedelta(days=config.same_helper_days)


def _helper_threads(helper: HelperProfile):
    return Thread.objects.filter(line__in=helper.lines.filter(active=True))


def _may_take(helper: HelperProfile, thread: Thread, config: LetterSettings, now) -> bool:
    until = reserved_until(thread, config)
    return until is None or thread.kept_by_id == helper.pk or until <= now


def inbox(helper: HelperProfile, now=None) -> list[dict]:
    """The helper's letters inbox: waiting threads of their lines, those kept for them first,
    then oldest first, with the waiting time; claimed ones say by whom."""
    now = now or timezone.now()
    waiting = (
        _helper_threads(helper)
        .waiting()
        .select_related("line", "claimed_by", "kept_by")
        .prefetch_related("topics")
        .order_by("waiting_since", "pk")
    )
    configs = {}
    rows = []
    for thread in waiting:
        config = configs.setdefault(thread.line_id, settings_of(thread.line_id))
        live = thread.claimed_at and thread.claimed_at > _claim_lapsed(now)
        claim = thread.claimed_by if live else None
        until = reserved_until(thread, config)
        rows.append(
            {
                "id": thread.pk,
                "service": thread.line.slug,
                "waiting_since": thread.waiting_since.isoformat(),
                "waiting_seconds": int((now - thread.waiting_since).total_seconds()),
                "topics": [topic.slug for topic in thread.topics.all()],
                "claimed_by": claim.display_name if claim else None,
                "yours": claim is not None and claim.pk == helper.pk,
                "kept_for_you": thread.kept_by_id == helper.pk,
                "reserved_until": until.isoformat() if until and until > now else None,
                "may_claim": claim is None and _may_take(helper, thread, config, now),
            }
        )
    rows.sort(key=lambda row: not row["kept_for_you"])  # stable: oldest first within each
    return rows


def claim(helper: HelperProfile, thread_id: int, now=None) -> Thread:
    """Take a waiting thread to answer: exactly one of helpers claiming at once gets it."""
    now = now or timezone.now()
    thread = _helper_threads(helper).filter(pk=thread_id, waiting_since__isnull=False).first()
    if thread is None:
        raise ChatError("not_found", _("This letter is not waiting for an answer."))
    if not _may_take(helper, thread, settings_of(thread.line_id), now):
        raise ChatError("reserved", _("This letter waits for the helper who keeps the thread."))
    free = Q(claimed_by=None) | Q(claimed_by=helper) | Q(claimed_at__lt=_claim_lapsed(now))
    # A conditional update, like accept_next: on PostgreSQL the second of two racing helpers
    # waits for the first's row lock, then finds the row claimed and updates nothing.
    taken = Thread.objects.filter(free, pk=thread.pk, waiting_since__isnull=False).update(
        claimed_by=helper, claimed_at=now
    )
    if not taken:
        raise ChatError("taken", _("Another helper is already answering this letter."))
    notify.inbox_changed(thread.line)
    return thread


def claim_next(helper: HelperProfile, slug: str, now=None) -> Thread | None:
    """The longest-waiting letter of the line this helper may take (kept for them first)."""
    now = now or timezone.now()
    chats.helpers_line(helper, slug)
    for row in inbox(helper, now):
        if row["service"] == slug and row["may_claim"]:
            try:
                return claim(helper, row["id"], now)
            except ChatError:
                continue  # another helper took it meanwhile: try the next
    return None


def _claimed(helper: HelperProfile, thread_id: int, now) -> Thread:
    thread = (
        _helper_threads(helper)
        .filter(pk=thread_id, claimed_by=helper, claimed_at__gte=_claim_lapsed(now))
        .select_related("line")
        .first()
    )
    if thread is None:
        raise ChatError("not_claimed", _("Claim the letter before answering it."))
    return thread


def hand_back(helper: HelperProfile, thread_id: int, now=None) -> None:
    """Give a claimed letter back to the inbox, for anyone of the line."""
    now = now or timezone.now()
    thread = _claimed(helper, thread_id, now)
    Thread.objects.filter(pk=thread.pk, claimed_by=helper).update(claimed_by=None, claimed_at=None)
    notify.inbox_changed(thread.line)


def needs_approval(helper: HelperProfile, config: LetterSettings) -> bool:
    return config.approval_required and helper.role != HelperProfile.Role.PROFESSIONAL


def answer(helper: HelperProfile, thread_id: int, text: str, *, keep=False, now=None) -> Letter:
    """The helper's reply to a thread they claimed. On a line that requires approval a peer's
    reply waits for a professional; otherwise the asker can read it at once. With `keep` the
    thread's next letters wait for this helper first."""
    now = now or timezone.now()
    text = clean_text(text)
    with transaction.atomic():
        thread = _claimed(helper, thread_id, now)
        config = settings_of(thread.line_id)
        held = needs_approval(helper, config)
        reply = Letter.objects.create(
            thread=thread,
            sender=Letter.Sender.HELPER,
            text=text,
            written_at=now,
            helper=helper,
            released_at=None if held else now,
        )
        kept_by = helper if keep and config.same_helper_days else None
        Thread.objects.filter(pk=thread.pk).update(
            waiting_since=None,
            claimed_by=None,
            claimed_at=None,
            kept_by=kept_by,
            last_activity_at=now,
        )
        if not held:
            _released(thread, reply, now)
        notify.inbox_changed(thread.line)
    return reply


def _released(thread: Thread, reply: Letter, now: datetime) -> None:
    """A reply reaches the asker: the thread's reply time moves, and statistics count it."""
    previous = thread.last_reply_at
    asked = thread.letters.filter(sender=Letter.Sender.ASKER, written_at__lte=reply.written_at)
    if previous:
        asked = asked.filter(written_at__gt=previous)
    first = asked.order_by("written_at").values_list("written_at", flat=True).first()
    Thread.objects.filter(pk=thread.pk).update(last_reply_at=now, last_activity_at=now)
    cells = [("letter_replies", reply.helper.role if reply.helper else "")]
    if first:
        cells.append(("letter_answer_time", answer_bucket(now - first)))
    line_id, day = thread.line_id, stats_day(now)
    transaction.on_commit(lambda: stats.increment_each(line_id, day, cells))


def approvals(helper: HelperProfile) -> list[dict]:
    """Replies waiting for a professional's approval on the helper's lines (none for a peer)."""
    if helper.role != HelperProfile.Role.PROFESSIONAL:
        return []
    pending = (
        Letter.objects.filter(
            released_at__isnull=True,
            sender=Letter.Sender.HELPER,
            thread__line__in=helper.lines.filter(active=True),
        )
        .select_related("thread__line", "helper")
        .order_by("written_at")
    )
    return [
        {
            "id": reply.pk,
            "thread": reply.thread_id,
            "service": reply.thread.line.slug,
            "by": reply.helper.display_name if reply.helper else "",
            "written_at": reply.written_at.isoformat(),
        }
        for reply in pending
    ]


def approve(helper: HelperProfile, reply_id: int, now=None) -> Letter:
    """A professional of the line releases a held reply to the asker."""
    now = now or timezone.now()
    if helper.role != HelperProfile.Role.PROFESSIONAL:
        raise ChatError("forbidden", _("Only a professional can approve a reply."))
    with transaction.atomic():
        reply = (
            Letter.objects.filter(pk=reply_id, thread__line__in=helper.lines.filter(active=True))
            .select_related("thread", "helper")
            .first()
        )
        if reply is None or reply.released_at is not None:
            raise ChatError("not_found", _("This reply is not waiting for approval."))
        if not Letter.objects.filter(pk=reply.pk, released_at=None).update(
            released_at=now, approved_by=helper
        ):
            raise ChatError("not_found", _("This reply is not waiting for approval."))
        _released(reply.thread, reply, now)
    return reply


def helper_thread(helper: HelperProfile, thread_id: int, now=None) -> dict:
    """A thread as a helper sees it: open to the helper who claimed or keeps it, and to the
    line's professionals while a reply waits for approval."""
    now = now or timezone.now()
    thread = _helper_threads(helper).filter(pk=thread_id).select_related("line").first()
    if thread is None or not _may_read(helper, thread, now):
        raise ChatError("not_found", _("This letter thread is not open to you."))
    letters = thread.letters.select_related("helper", "approved_by")
    return {
        "id": thread.pk,
        "service": thread.line.slug,
        "language": thread.language,
        "topics": list(thread.topics.values_list("slug", flat=True)),
        "waiting": thread.waiting_since is not None,
        "claimed": thread.claimed_by_id == helper.pk,
        "kept_by_you": thread.kept_by_id == helper.pk,
        "may_keep": bool(settings_of(thread.line_id).same_helper_days),
        "letters": [
            {
                "id": letter.pk,
                "from": letter.sender,
                "text": letter.text,
                "at": letter.written_at.isoformat(),
                "helper": letter.helper.display_name if letter.helper else None,
                "released": letter.sender == Letter.Sender.ASKER or letter.released_at is not None,
            }
            for letter in letters
        ],
    }


def _may_read(helper: HelperProfile, thread: Thread, now) -> bool:
    if thread.claimed_by_id == helper.pk and thread.claimed_at >= _claim_lapsed(now):
        return True
    if thread.kept_by_id == helper.pk:
        return True
    return (
        helper.role == HelperProfile.Role.PROFESSIONAL
        and thread.letters.filter(sender=Letter.Sender.HELPER, released_at__isnull=True).exists()
    )


def end_by_helper(helper: HelperProfile, thread_id: int, now=None) -> None:
    """The helper who claimed or keeps the thread ends it: erased at once."""
    now = now or timezone.now()
    thread = _helper_threads(helper).filter(pk=thread_id).select_related("line").first()
    mine = thread and (
        thread.kept_by_id == helper.pk
        or (thread.claimed_by_id == helper.pk and thread.claimed_at >= _claim_lapsed(now))
    )
    if not mine:
        raise ChatError("not_found", _("This letter thread is not open to you."))
    erase(thread, "helper", now)
