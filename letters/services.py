"""Anonymous letters (docs/letters.md): write, read, answer, approve, end, and erase.

The asker needs no account, address or cookie: writing a letter gives a code of words, and
whoever holds the code reads the replies, writes again or ends the thread. Only a keyed hash of
the code is stored, made by the follow-up codes' own functions (chats/followups.py), and wrong
codes are counted and limited by the same per-address counters. Open hours do not apply.

Helpers of the line claim a waiting thread with a conditional update (like `accept_next`): of
two helpers claiming at once exactly one gets it. A thread a helper keeps waits for them first,
for the line's `same_helper_days`, then for anyone of the line. A peer's reply on a line that
requires approval reaches the asker only when a professional of the line approves it.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from chats import followups
from chats import services as chats
from chats.errors import ChatError
from chats.models import HelperProfile, ServiceLine
from stats import services as stats
from stats.models import Topic
from verkkoapu import security

from . import notify
from .models import Letter, LetterSettings, Thread

# Follow-up codes are five words (41 bits) and live for one shift; a letter code lives for weeks,
# so it gets a sixth word of the same list (49.7 bits). It never equals a follow-up code.
CODE_EXTRA_WORDS = 1
CODE_BITS = followups.CODE_BITS * (followups.CODE_WORDS + CODE_EXTRA_WORDS) / followups.CODE_WORDS
LANGUAGES = ("fi", "sv", "en")

# Answer times are counted in days (statistics keys), not in the chats' minutes.
ANSWER_BUCKETS = ((1, "<1d"), (3, "1-3d"), (7, "3-7d"))
LAST_ANSWER_BUCKET = "7d+"


def new_code() -> str:
    extra = (secrets.choice(followups.WORDS) for _ in range(CODE_EXTRA_WORDS))
    return "-".join([followups.new_code(), *extra])


def answer_bucket(waited: timedelta) -> str:
    days = waited.total_seconds() / 86400
    for limit, label in ANSWER_BUCKETS:
        if days < limit:
            return label
    return LAST_ANSWER_BUCKET


def _day(moment: datetime):
    return timezone.localdate(moment)


# --- Lines -------------------------------------------------------------------------------------


def settings_of(line_id: int) -> LetterSettings:
    """The line's letter settings; the defaults (taking no letters) for a line without a row."""
    return LetterSettings.objects.filter(line_id=line_id).first() or LetterSettings(line_id=line_id)


def letter_line(slug: str) -> tuple[ServiceLine, LetterSettings]:
    """An active line that offers letters, or `not_found`."""
    line = ServiceLine.objects.filter(slug=slug, active=True).first()
    config = line and settings_of(line.pk)
    if not line or not config.offers_letters:
        raise ChatError("not_found", _("This service does not take letters."))
    return line, config


def answer_time_text(config: LetterSettings) -> str:
    return ngettext(
        "Letters are usually answered within %(days)s weekday.",
        "Letters are usually answered within %(days)s weekdays.",
        config.answer_days,
    ) % {"days": config.answer_days}


def topic_name(topic: Topic, language: str) -> str:
    return {"sv": topic.name_sv, "en": topic.name_en}.get(language) or topic.name


def line_object(line: ServiceLine, config: LetterSettings, language: str) -> dict:
    """What the writing page (or a widget) shows before a letter."""
    return {
        "service": line.slug,
        "name": line.localized_name(language),
        "answer_days": config.answer_days,
        "answer_time": answer_time_text(config),
        "topics": [
            {"slug": topic.slug, "name": topic_name(topic, language)}
            for topic in line.topics.filter(active=True)
        ],
    }


# --- The asker ----------------------------------------------------------------------------------


def _clean_text(text) -> str:
    text = (text or "").strip() if isinstance(text, str) else ""
    if not text:
        raise ChatError("bad_request", _("The letter is empty."))
    if len(text) > settings.LETTER_MAX_CHARS:
        raise ChatError(
            "too_long",
            _("The letter is too long: at most %(n)s characters.")
            % {"n": settings.LETTER_MAX_CHARS},
        )
    return text


def _count_letter(ip: str | None, now: datetime) -> None:
    """One more letter from this address this hour; past the limit, `rate_limited`."""
    if not ip:
        return
    hashed = security.address_hash(ip)  # the address rule: an IPv6 /64 is one address
    window = security.window_start(now)
    if not security.take("letter", hashed, window, settings.LETTERS_MAX_PER_HOUR):
        raise ChatError(
            "rate_limited",
            _("Many letters were written from this connection. Please try again later."),
            limit="letters",
        )


@dataclass
class Written:
    code: str
    thread_id: int
    answer_time: str


def write_letter(
    slug: str, text: str, *, topics=(), language: str = "fi", ip: str | None = None, now=None
) -> Written:
    """A new thread with the asker's first letter; the code is returned once and never stored."""
    now = now or timezone.now()
    line, config = letter_line(slug)
    text = _clean_text(text)
    language = language if language in LANGUAGES else "fi"
    chosen = _checked_topics(line, topics)
    chats.refuse_barred(ip, line, language, now)
    with transaction.atomic():
        _count_letter(ip, now)
        code, thread = _new_thread(line, language, now)
        thread.topics.set(chosen)
        Letter.objects.create(thread=thread, sender=Letter.Sender.ASKER, text=text, written_at=now)
        cells = [("letters_written", ""), ("letter_threads", "")]
        cells += [("letter_topic", topic.slug) for topic in chosen]
        day = _day(now)
        transaction.on_commit(lambda: stats.increment_each(line.pk, day, cells))
        notify.inbox_changed(line)
    return Written(code, thread.pk, answer_time_text(config))


def _checked_topics(line: ServiceLine, slugs) -> list[Topic]:
    if not isinstance(slugs, list | tuple) or not all(isinstance(s, str) for s in slugs):
        raise ChatError("bad_request", _("Topics are a list of names."))
    found = list(line.topics.filter(active=True, slug__in=set(slugs)))
    unknown = sorted(set(slugs) - {topic.slug for topic in found})
    if unknown:
        raise ChatError(
            "unknown_topic",
            _("Unknown topic(s) for this line: %(topics)s.") % {"topics": ", ".join(unknown)},
        )
    return found


def _new_thread(line, language, now) -> tuple[str, Thread]:
    while True:
        code = new_code()
        try:
            with transaction.atomic():
                thread = Thread.objects.create(
                    line=line,
                    code_hash=followups.code_hash(code),
                    language=language,
                    created_at=now,
                    last_activity_at=now,
                    waiting_since=now,
                )
            return code, thread
        except IntegrityError:
            continue  # the same code twice (one in 2**49): draw another


def open_thread(code, ip: str | None, now: datetime) -> Thread:
    """The thread of this code, or `not_found` (counted as a wrong code for the address)."""
    followups.take_guess(ip, now)  # reserved before the look-up: simultaneous guesses get no more
    thread = None
    if isinstance(code, str) and code.strip():
        thread = (
            Thread.objects.filter(code_hash=followups.code_hash(code))
            .select_related("line")
            .first()
        )
    if thread is None:
        raise ChatError("not_found", _("No letters were found with this code."))
    followups.right_guess(ip, now)
    return thread


def read_thread(code, *, ip: str | None = None, now=None) -> dict:
    """The thread as the asker sees it: their letters and the released replies, oldest first."""
    now = now or timezone.now()
    thread = open_thread(code, ip, now)
    if thread.last_reply_at and (thread.read_at is None or thread.read_at < thread.last_reply_at):
        # The first read of the last reply starts the after-read retention.
        Thread.objects.filter(pk=thread.pk).update(read_at=now, last_activity_at=now)
    released = Q(sender=Letter.Sender.ASKER) | Q(released_at__isnull=False)
    letters = thread.letters.filter(released).select_related("helper")
    config = settings_of(thread.line_id)
    return {
        "service": thread.line.slug,
        "name": thread.line.localized_name(thread.language),
        "answer_time": answer_time_text(config),
        "waiting": thread.waiting_since is not None,
        "letters": [_asker_view(letter) for letter in letters],
    }


def _asker_view(letter: Letter) -> dict:
    shown_at = letter.released_at or letter.written_at
    entry = {"from": letter.sender, "text": letter.text, "at": shown_at.isoformat()}
    if letter.sender == Letter.Sender.HELPER:
        entry["helper"] = letter.helper.display_name if letter.helper else ""
    return entry


def write_again(code, text, *, ip: str | None = None, now=None) -> None:
    """The asker's next letter in the same thread; it waits in the inbox (for a kept thread's
    helper first)."""
    now = now or timezone.now()
    text = _clean_text(text)
    thread = open_thread(code, ip, now)
    chats.refuse_barred(ip, thread.line, thread.language, now)
    with transaction.atomic():
        _count_letter(ip, now)
        Letter.objects.create(thread=thread, sender=Letter.Sender.ASKER, text=text, written_at=now)
        Thread.objects.filter(pk=thread.pk, waiting_since=None).update(waiting_since=now)
        Thread.objects.filter(pk=thread.pk).update(last_activity_at=now)
        day = _day(now)
        transaction.on_commit(lambda: stats.increment(thread.line_id, day, "letters_written"))
        notify.inbox_changed(thread.line)


def end_by_asker(code, *, ip: str | None = None, now=None) -> None:
    """The asker ends the thread: it is erased at once, every letter with it."""
    now = now or timezone.now()
    thread = open_thread(code, ip, now)
    _erase(thread, "asker", now)


def _erase(thread: Thread, by: str, now: datetime) -> bool:
    with transaction.atomic():
        # Deleting the row erases its letters (cascade) and the code's hash in one statement.
        if not Thread.objects.filter(pk=thread.pk).delete()[0]:
            return False  # the other side or the sweep got there first
        stats.increment(thread.line_id, _day(now), "letter_threads_ended", by)
        if thread.waiting_since:
            notify.inbox_changed(thread.line)
    return True


# --- Helpers ------------------------------------------------------------------------------------


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
        .filter(waiting_since__isnull=False)
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
    text = _clean_text(text)
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
    line_id, day = thread.line_id, _day(now)
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
    _erase(thread, "helper", now)


# --- Coordinators -------------------------------------------------------------------------------


def inbox_summary(line_id: int, now=None) -> tuple[int, datetime | None]:
    """How many threads wait on the line, and since when the oldest."""
    waiting = Thread.objects.filter(line_id=line_id, waiting_since__isnull=False)
    oldest = waiting.order_by("waiting_since").values_list("waiting_since", flat=True).first()
    return waiting.count(), oldest


# --- Retention ----------------------------------------------------------------------------------


def expired(now: datetime):
    """Threads past their line's retention: N days after the last reply was first read, or M
    days after the last activity while a reply is unread or a letter unanswered."""
    fully_read = Thread.objects.filter(
        waiting_since__isnull=True, last_reply_at__isnull=False, read_at__gte=F("last_reply_at")
    )
    due: list[int] = []
    for line_id in Thread.objects.values_list("line_id", flat=True).distinct():
        config = settings_of(line_id)
        read_cutoff = now - timedelta(days=config.erase_days_after_read)
        unread_cutoff = now - timedelta(days=config.erase_days_unread)
        due += fully_read.filter(line_id=line_id, read_at__lt=read_cutoff).values_list(
            "pk", flat=True
        )
        due += (
            Thread.objects.filter(line_id=line_id, last_activity_at__lt=unread_cutoff)
            .exclude(pk__in=fully_read.values("pk"))
            .values_list("pk", flat=True)
        )
    return Thread.objects.filter(pk__in=due)


def sweep(now=None, dry_run: bool = False) -> int:
    """Erase every thread past its retention; how many went."""
    now = now or timezone.now()
    due = expired(now).select_related("line")
    if dry_run:
        return due.count()
    return sum(_erase(thread, "expired", now) for thread in due)
