"""Follow-ups with the same helper (contract section 5): offer, start with the code, expire.

A helper ends a chat with `follow_up_at` inside one of their own booked shifts of the line; the
asker gets a one-time code of five words. From 15 minutes before that time until the shift
ends, `start` with the code queues the asker for that helper alone, ahead of the general queue.
Only a keyed hash of the code is stored, with the helper, the line, the time and the helper's
optional private note; the row goes with the follow-up chat when it ends, or with the sweep when
the shift is over unused. Wrong codes are counted per address (a keyed hash) in the database, so
the limit holds across server processes.
"""

import hashlib
import hmac
import math
import re
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduling import services as scheduling
from stats import services as stats
from verkkoapu import addresses
from verkkoapu.counters import WindowCounter

from . import notify, protocol
from .errors import Answer, ChatError
from .models import Chat, FollowUp, HelperProfile
from .services.bars import refuse_barred
from .services.ending import end_chat
from .services.helpers import checked_topics, own_chat
from .services.queue import announce_queue, create_queued_chat, get_line, queue_order

# Short, common Finnish words without å, ä or ö (typed on any keyboard), no two of which differ
# only by a doubled letter (tuli/tuuli), so a word read aloud is written down one way only.
WORDS = tuple(
    """
kala kissa koira hevonen lintu karhu kettu orava siili lammas vuohi kana kukko ankka hanhi
joutsen kotka haukka varis harakka tikka peippo sorsa lokki hylje norppa majava saukko ilves
poro peura hiiri sammakko etana perhonen kameli leijona tiikeri seepra kirahvi norsu apina
pingviini delfiini valas papukaija kyyhky tiainen kurki haikara pelikaani flamingo panda
koala kenguru hamsteri marsu lohi hauki ahven silakka muikku kuha taimen simpukka rapu
meduusa mustekala meri joki puro lampi saari ranta niitty pelto vuori kallio kivi hiekka
savi sammal kukka ruusu tulppaani lilja orvokki kielo ruoho koivu pihlaja vaahtera tammi
paju haapa omena luumu kirsikka mansikka mustikka puolukka vadelma karpalo lakka banaani
sitruuna meloni ananas persikka porkkana peruna tomaatti kurkku sipuli kaali herne papu
maissi kurpitsa sieni kanerva kaisla lumi sade tuuli pilvi aurinko taivas sumu kuura salama
aalto virta kumpu laakso rinne polku silta satama majakka laituri talo katto ikkuna ovi
lattia tuoli lamppu kello peili matto tyyny peitto kuppi lautanen lusikka haarukka kattila
pannu kannu pullo purkki kori laukku reppu kassi avain lukko kirja lehti kartta kirje kortti
paperi naula ruuvi lapio harava kukkaro lompakko hattu pipo huivi takki paita hame mekko
sukka saapas lapanen nappi lanka nauha pallo nukke leija keinu palapeli noppa kitara piano
rumpu huilu viulu torvi laulu tanssi runo satu kuva maali sivellin liitu kumi viivain voi
juusto maito kahvi tee mehu vesi keitto pulla kakku keksi piirakka pasta riisi suola sokeri
hunaja hillo jogurtti muna pizza lettu vohveli karamelli suklaa auto bussi juna laiva vene
kanootti lautta reki sukset luistin lentokone raketti traktori rekka taksi sininen keltainen
musta valkoinen harmaa ruskea violetti oranssi pinkki kulta hopea kruunu linna torni kirkko
tori kauppa koulu kirjasto puisto tasku yksi kaksi kolme viisi kuusi kahdeksan kymmenen sata
tuhat syksy talvi aamu ilta viikko vuosi tiistai torstai perjantai lauantai sunnuntai
kompassi kamera radio puhelin tabletti robotti ankkuri purje mela airo teltta nuotio retki
kalastus marja tuoksu kevyt
""".split()
)
CODE_WORDS = 5
CODE_BITS = CODE_WORDS * math.log2(len(WORDS))  # 41.4 with 313 words: at least 40
EARLY = timedelta(minutes=15)  # a follow-up opens this long before its time


def _guess_limit() -> int:
    return getattr(settings, "FOLLOW_UP_GUESS_LIMIT", 10)


def _guess_seconds() -> int:
    return getattr(settings, "FOLLOW_UP_GUESS_WINDOW_SECONDS", 3600)


# Wrong follow-up codes, invitations and letter codes per address (its own table and window);
# the retention job purges it with its window (chats/retention.py).
CODE_GUESSES = WindowCounter("chats.CodeGuess", seconds=_guess_seconds)


# --- Codes ----------------------------------------------------------------------------------------


def new_code() -> str:
    return "-".join(secrets.choice(WORDS) for _ in range(CODE_WORDS))


def normalize(code: str) -> str:
    """However it was typed: any case, spaces or dashes between words, ä for a."""
    plain = code.casefold().translate(str.maketrans("äöå", "aoa"))
    return "-".join(re.findall(r"[a-z]+", plain))


def code_hash(code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, b"follow-up:" + normalize(code).encode(), hashlib.sha256).hexdigest()


# --- The helper offers one ------------------------------------------------------------------------


def offer(
    helper: HelperProfile,
    chat_id: int,
    topics: list[str],
    at: datetime,
    note: str | None = None,
    now=None,
) -> dict:
    """End the helper's chat offering a follow-up at `at`; the asker's `ended` gets the code.

    Returns the helper's `follow_up` field. Raises `bad_follow_up` (and the chat stays open)
    unless `at` is in the future and inside one of the helper's own booked shifts of the line.
    """
    now = now or timezone.now()
    chat = own_chat(helper, chat_id)
    topics = checked_topics(chat, topics)
    if at <= now:
        raise ChatError("bad_follow_up", _("The follow-up time must be in the future."))
    shift = scheduling.shift_containing(helper, chat.line, at)
    if shift is None:
        raise ChatError(
            "bad_follow_up", _("The follow-up time must be inside one of your booked shifts.")
        )
    code = new_code()
    when = protocol.iso(at)
    follow_up = {"asker": {"code": code, "at": when}, "helper": {"at": when}}
    with transaction.atomic():
        FollowUp.objects.create(
            line=chat.line,
            helper=helper,
            code_hash=code_hash(code),
            at=at,
            expires_at=shift[1],
            note=(note or "").strip(),
            created_at=now,
        )
        if not end_chat(chat_id, by="helper", topics=topics, now=now, follow_up=follow_up):
            raise ChatError("not_found", _("This chat has already ended."))
        stats.increment(chat.line_id, timezone.localdate(now), "follow_ups_offered")
        notify.helper(helper.pk, "follow_ups.changed")
    return follow_up["helper"]


# --- The asker comes back with the code -----------------------------------------------------------


def enqueue_with_code(slug: str, code: str, *, language: str, ip: str | None, now=None) -> Answer:
    """`queued` for the code's helper alone; `closed` until 15 minutes before; else refused."""
    now = now or timezone.now()
    line = get_line(slug)
    refuse_barred(ip, line, language, now)
    take_guess(ip, now)
    follow_up = FollowUp.objects.filter(
        code_hash=code_hash(code), line=line, chat=None, expires_at__gt=now
    ).first()
    if follow_up is None:
        raise ChatError("not_found", "This code is unknown, already used or expired.")
    right_guess(ip, now)
    if now < follow_up.at - EARLY:
        return Answer([protocol.closed_frame(follow_up.at)])
    with transaction.atomic():
        chat = create_queued_chat(line, language=language, ip=ip, now=now)
        if not FollowUp.objects.filter(pk=follow_up.pk, chat=None).update(chat=chat):
            # Another socket started with the same code this instant: it won.
            raise ChatError("not_found", "This code is unknown, already used or expired.")
        cells = [("chats_started", ""), ("contact", "follow_up")]
        transaction.on_commit(lambda: stats.increment_each(line.pk, timezone.localdate(now), cells))
        notify.helper(follow_up.helper_id, "follow_ups.changed")
    position = reserved_position(chat)
    queued = protocol.queued_frame(chat.token, position)
    return Answer([queued], chat.pk, chat=chat, position=position)


def _guesser(ip: str | None) -> str:
    # The address rule (an IPv6 /64 is one address), as addresses.address_hash keys it.
    return addresses.address_hash(ip or "-")


def take_guess(ip: str | None, now: datetime) -> None:
    """Reserve one guess (a follow-up code or a group invitation) for this address before the
    code is looked at; `rate_limited` once the window's FOLLOW_UP_GUESS_LIMIT are taken. One
    atomic statement, so simultaneous guesses from any process never get more looks than that."""
    if not CODE_GUESSES.take(_guesser(ip), now, _guess_limit()):
        raise ChatError("rate_limited", "Too many wrong codes; try again later.", limit="codes")


def right_guess(ip: str | None, now: datetime) -> None:
    """The code was right: its reservation does not count as a wrong guess."""
    CODE_GUESSES.give_back(_guesser(ip), now)


# --- Serving: the helper's own follow-ups first ---------------------------------------------------


def reserved_for(helper: HelperProfile, line_id: int):
    """Queued follow-up chats waiting for this helper on the line, longest waiting first."""
    return (
        Chat.objects.queued()
        .filter(line_id=line_id, follow_up__helper=helper)
        .order_by("queued_at", "pk")
    )


def reserved_position(chat: Chat) -> int | None:
    """A waiting follow-up's place among those of the same helper; None for other chats."""
    helper_id = FollowUp.objects.filter(chat_id=chat.pk).values_list("helper_id", flat=True).first()
    if helper_id is None:
        return None
    ahead = Chat.objects.queued().filter(
        line_id=chat.line_id, follow_up__helper_id=helper_id, queued_at__lt=chat.queued_at
    )
    return ahead.count() + 1


def claimed(helper: HelperProfile, chat: Chat) -> None:
    """After accept_next took a follow-up: the console's list and the others' places change."""
    if not FollowUp.objects.filter(chat_id=chat.pk).exists():
        return
    notify.helper(helper.pk, "follow_ups.changed")
    for waiting in reserved_for(helper, chat.line_id):
        notify.chat(waiting.pk, asker=protocol.position_frame(reserved_position(waiting)))


def assigned_extra(chat: Chat) -> dict:
    """What the helper's `assigned` adds for a follow-up: its time and the helper's note."""
    follow_up = FollowUp.objects.filter(chat_id=chat.pk).first()
    if follow_up is None:
        return {}
    return protocol.follow_up_fields(follow_up.at, follow_up.note)


def follow_ups_of(helper: HelperProfile, now=None) -> list[dict]:
    """The helper console's list: their follow-ups not yet taken, soonest first."""
    now = now or timezone.now()
    rows = (
        FollowUp.objects.filter(helper=helper, expires_at__gt=now)
        .exclude(chat__status=Chat.Status.ACTIVE)
        .select_related("line", "chat")
        .order_by("at", "pk")
    )
    return [
        protocol.follow_up_item(
            row.pk, row.line.slug, row.at, row.expires_at, row.note, row.chat_id is not None
        )
        for row in rows
    ]


# --- Expiry ---------------------------------------------------------------------------------------


def sweep(now=None) -> dict:
    """After a follow-up's shift: an unused code is deleted; a waiting asker joins the general
    queue (the helper is off duty); the wrong-code counters of past windows go."""
    now = now or timezone.now()
    expired = released = 0
    for row in FollowUp.objects.filter(expires_at__lte=now).select_related("chat", "line"):
        if row.chat is not None and row.chat.status == Chat.Status.ACTIVE:
            continue  # the follow-up chat is going on; the row ends with it
        with transaction.atomic():
            row.delete()
            notify.helper(row.helper_id, "follow_ups.changed")
            if row.chat is None:
                stats.increment(row.line_id, timezone.localdate(row.at), "follow_ups_expired")
                expired += 1
                continue
            released += 1
            order = queue_order(row.line_id)
            announce_queue(row.line, positions_moved=True)
            notify.chat(row.chat_id, asker=protocol.position_frame(order.index(row.chat_id) + 1))
    CODE_GUESSES.over(now).delete()
    return {"expired": expired, "released": released}
