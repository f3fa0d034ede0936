"""Anonymous letters (docs/letters.md), the asker's side: write, read, write again, end, erase.

The asker needs no account, address or cookie: writing a letter gives a code of words, and
whoever holds the code reads the replies, writes again or ends the thread. Only a keyed hash of
the code is stored, made by the follow-up codes' own functions (chats/followups.py), and wrong
codes are counted and limited by the same per-address counters. Open hours do not apply.

The helper side (inbox, claim, answer, approve, end) is in letters/answering.py; the shared
rules (settings, text, erasing) and the retention sweep stay here.
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
from chats.models import ServiceLine
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


def stats_day(moment: datetime):
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


def clean_text(text) -> str:
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
    if not security.LETTERS.take(hashed, now, settings.LETTERS_MAX_PER_HOUR):
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
    text = clean_text(text)
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
        day = stats_day(now)
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
    text = clean_text(text)
    thread = open_thread(code, ip, now)
    chats.refuse_barred(ip, thread.line, thread.language, now)
    with transaction.atomic():
        _count_letter(ip, now)
        Letter.objects.create(thread=thread, sender=Letter.Sender.ASKER, text=text, written_at=now)
        Thread.objects.filter(pk=thread.pk, waiting_since=None).update(waiting_since=now)
        Thread.objects.filter(pk=thread.pk).update(last_activity_at=now)
        day = stats_day(now)
        transaction.on_commit(lambda: stats.increment(thread.line_id, day, "letters_written"))
        notify.inbox_changed(thread.line)


def end_by_asker(code, *, ip: str | None = None, now=None) -> None:
    """The asker ends the thread: it is erased at once, every letter with it."""
    now = now or timezone.now()
    thread = open_thread(code, ip, now)
    erase(thread, "asker", now)


def erase(thread: Thread, by: str, now: datetime) -> bool:
    with transaction.atomic():
        # Deleting the row erases its letters (cascade) and the code's hash in one statement.
        if not Thread.objects.filter(pk=thread.pk).delete()[0]:
            return False  # the other side or the sweep got there first
        stats.increment(thread.line_id, stats_day(now), "letter_threads_ended", by)
        if thread.waiting_since:
            notify.inbox_changed(thread.line)
    return True


# --- Coordinators -------------------------------------------------------------------------------


def inbox_summary(line_id: int, now=None) -> tuple[int, datetime | None]:
    """How many threads wait on the line, and since when the oldest."""
    waiting = Thread.objects.waiting().filter(line_id=line_id)
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
    return sum(erase(thread, "expired", now) for thread in due)
