"""Anonymous letters (docs/letters.md): writing at any hour, a code that alone opens the replies,
claims that exactly one helper wins, kept threads, approval of peers' replies, and counts.

The clock is set to 03:00 on a Wednesday night: the violence line's chat is closed (weekdays
12–18), and letters are taken all the same.
"""

import json
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.test import Client

from chats import followups
from chats.models import CodeGuess, PreparedText
from chats.services import ChatError
from letters import answering, services
from letters.models import Letter, LetterSettings, Thread
from scheduling.hours import HELSINKI
from scheduling.services import line_status
from stats import export
from stats.models import DailyCount
from tests.conftest import in_threads, need_services, on_postgres
from verkkoapu import jobs

pytestmark = pytest.mark.django_db(transaction=True)

NIGHT = datetime(2027, 3, 3, 3, 0, tzinfo=HELSINKI)  # a Wednesday, 03:00
ASKER_IP = "203.0.113.61"


@pytest.fixture
def clock():
    with time_machine.travel(NIGHT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def letter_line(lines):
    line = lines["vakivalta"]
    LetterSettings.objects.create(
        line=line, offers_letters=True, answer_days=3, same_helper_days=14
    )
    return line


def write(text="Kotona on vaikeaa öisin.", **kwargs):
    return services.write_letter("vakivalta", text, ip=ASKER_IP, **kwargs)


def post_json(client, path, body, **extra):
    return client.post(path, json.dumps(body), content_type="application/json", **extra)


# --- Writing at night, claiming ------------------------------------------------------------------


def test_a_letter_written_at_night_is_claimed_by_exactly_one_of_two_racing_helpers(
    letter_line, make_helper, clock
):
    need_services(on_postgres(), "the race needs PostgreSQL's row locks")
    assert not line_status(letter_line).open  # the chat is closed at night
    written = write(topics=["henkinen"])
    assert len(written.code.split("-")) == 6
    assert written.answer_time == "Kirjeisiin vastataan yleensä 3 arkipäivän kuluessa."
    helpers = [make_helper(), make_helper()]
    won, lost = [], []

    def race(i):
        try:
            answering.claim(helpers[i], written.thread_id)
            won.append(i)
        except ChatError as error:
            lost.append(error.code)

    assert in_threads(2, race) == []
    assert len(won) == 1 and lost == ["taken"]
    thread = Thread.objects.get()
    assert thread.claimed_by == helpers[won[0]]
    # The loser's inbox says who is answering and offers no claim.
    row = answering.inbox(helpers[1 - won[0]])[0]
    assert row["claimed_by"] == helpers[won[0]].display_name and not row["may_claim"]


def test_the_inbox_lists_oldest_first_with_the_waiting_time(letter_line, make_helper, clock):
    first = write("Ensimmäinen")
    clock.shift(timedelta(hours=2))
    second = write("Toinen")
    clock.shift(timedelta(minutes=30))
    rows = answering.inbox(make_helper())
    assert [row["id"] for row in rows] == [first.thread_id, second.thread_id]
    assert [row["waiting_seconds"] for row in rows] == [9000, 1800]
    assert services.inbox_summary(letter_line.pk) == (2, NIGHT)


def test_a_line_without_letters_takes_none(lines):
    with pytest.raises(ChatError) as refused:
        services.write_letter("ero", "Hei", ip=ASKER_IP)
    assert refused.value.code == "not_found"
    assert Client().get("/letters/ero/").status_code == 404


# --- Reading with the code -----------------------------------------------------------------------


def answered(make_helper, text="Kiitos kirjeestäsi. Olet tervetullut kirjoittamaan lisää.", **kw):
    written = write()
    helper = make_helper(**kw)
    answering.claim(helper, written.thread_id)
    answering.answer(helper, written.thread_id, text)
    return written, helper


def test_the_reply_is_readable_only_with_the_code(letter_line, make_helper, clock):
    written, helper = answered(make_helper)
    other = services.new_code()
    with pytest.raises(ChatError) as refused:
        services.read_thread(other, ip=ASKER_IP)
    assert refused.value.code == "not_found"

    client = Client()
    wrong = post_json(client, "/api/letters/read/", {"code": other})
    assert wrong.status_code == 404 and "Kiitos" not in wrong.content.decode()
    right = post_json(client, "/api/letters/read/", {"code": written.code.upper()})
    assert right.status_code == 200
    letters = right.json()["letters"]
    assert [(letter["from"], letter["text"]) for letter in letters] == [
        ("asker", "Kotona on vaikeaa öisin."),
        ("helper", "Kiitos kirjeestäsi. Olet tervetullut kirjoittamaan lisää."),
    ]
    assert letters[1]["helper"] == helper.display_name
    assert not client.cookies and not right.cookies
    # Only a keyed hash of the code is stored.
    assert Thread.objects.get().code_hash == followups.code_hash(written.code)
    assert written.code not in json.dumps(list(Thread.objects.values()), default=str)


def test_a_wrong_code_is_refused_and_counted(letter_line, clock, settings):
    settings.FOLLOW_UP_GUESS_LIMIT = 3
    written = write()
    client = Client()
    for _ in range(3):
        answer = post_json(
            client, "/api/letters/read/", {"code": "kala-kissa-koira"}, REMOTE_ADDR=ASKER_IP
        )
        assert answer.status_code == 404 and answer.json()["error"] == "not_found"
    assert CodeGuess.objects.get().count == 3
    # The same limit as follow-up codes: now even the right code waits for the next window.
    limited = post_json(client, "/api/letters/read/", {"code": written.code}, REMOTE_ADDR=ASKER_IP)
    assert limited.status_code == 429 and limited.json()["limit"] == "codes"
    other = post_json(
        client, "/api/letters/read/", {"code": written.code}, REMOTE_ADDR="198.51.100.9"
    )
    assert other.status_code == 200


# --- Kept threads and approval -------------------------------------------------------------------


def test_a_kept_thread_goes_to_the_same_helper(letter_line, make_helper, clock):
    written = write()
    anna, ben = make_helper(name="Anna"), make_helper(name="Ben")
    answering.claim(anna, written.thread_id)
    answering.answer(anna, written.thread_id, "Kirjoitellaan.", keep=True)
    other = write("Toisen ihmisen kirje")  # waits for anyone

    clock.shift(timedelta(days=3))
    services.write_again(written.code, "Kiitos, tässä lisää.", ip=ASKER_IP)
    rows = answering.inbox(anna)
    assert [(row["id"], row["kept_for_you"]) for row in rows] == [
        (written.thread_id, True),
        (other.thread_id, False),
    ]
    assert not answering.inbox(ben)[1]["may_claim"]
    with pytest.raises(ChatError) as refused:
        answering.claim(ben, written.thread_id)
    assert refused.value.code == "reserved"
    assert answering.claim_next(ben, "vakivalta").pk == other.thread_id

    # Anna does not answer within the line's 14 days: the letter goes to the line.
    clock.shift(timedelta(days=14))
    answering.claim(ben, written.thread_id)
    answering.answer(ben, written.thread_id, "Anna on poissa, vastaan minä.")
    assert Thread.objects.get(pk=written.thread_id).kept_by is None


def test_an_approval_required_reply_is_not_shown_before_approval(letter_line, make_helper, clock):
    LetterSettings.objects.filter(line=letter_line).update(approval_required=True)
    written, peer = answered(make_helper, "Vertaisen vastaus", role="peer")
    assert [letter["from"] for letter in services.read_thread(written.code)["letters"]] == ["asker"]
    assert "Vertaisen vastaus" not in json.dumps(services.read_thread(written.code))
    reply = Letter.objects.get(sender="helper")
    with pytest.raises(ChatError) as refused:
        answering.approve(peer, reply.pk)
    assert refused.value.code == "forbidden"

    professional = make_helper()
    assert [row["id"] for row in answering.approvals(professional)] == [reply.pk]
    assert (
        answering.helper_thread(professional, written.thread_id)["letters"][1]["released"] is False
    )
    clock.shift(timedelta(hours=5))
    answering.approve(professional, reply.pk)
    texts = [letter["text"] for letter in services.read_thread(written.code)["letters"]]
    assert texts[-1] == "Vertaisen vastaus"
    # A professional's own reply is not held.
    again = write()
    answering.claim(professional, again.thread_id)
    assert answering.answer(professional, again.thread_id, "Ammattilainen").released_at


def test_a_claim_is_needed_to_answer_and_can_be_handed_back(letter_line, make_helper, clock):
    written = write()
    anna, ben = make_helper(), make_helper()
    with pytest.raises(ChatError) as refused:
        answering.answer(anna, written.thread_id, "Hei")
    assert refused.value.code == "not_claimed"
    answering.claim(anna, written.thread_id)
    answering.hand_back(anna, written.thread_id)
    answering.claim(ben, written.thread_id)
    with pytest.raises(ChatError):
        answering.answer(anna, written.thread_id, "Hei")


# --- Ending and retention ------------------------------------------------------------------------


def test_the_asker_ends_the_thread_and_it_is_gone(letter_line, make_helper, clock):
    written, _helper = answered(make_helper)
    answer = post_json(Client(), "/api/letters/end/", {"code": written.code})
    assert answer.status_code == 200
    assert not Thread.objects.exists() and not Letter.objects.exists()
    assert post_json(Client(), "/api/letters/read/", {"code": written.code}).status_code == 404


def test_threads_are_erased_after_the_reply_was_read_or_left_unread(
    letter_line, make_helper, clock
):
    read, helper = answered(make_helper)
    unread = write("Ei koskaan luettu")
    answering.claim(helper, unread.thread_id)
    answering.answer(helper, unread.thread_id, "Vastaus jota ei lueta")
    never_answered = write("Kukaan ei vastannut")
    clock.shift(timedelta(days=1))
    services.read_thread(read.code)
    clock.shift(timedelta(days=30, minutes=1))
    assert services.sweep() == 1  # 30 days after the reply was read
    assert set(Thread.objects.values_list("pk", flat=True)) == {
        unread.thread_id,
        never_answered.thread_id,
    }
    clock.shift(timedelta(days=29))
    assert services.sweep() == 2  # 60 days without anything
    assert not Letter.objects.exists()
    ended = DailyCount.objects.filter(metric="letter_threads_ended")
    assert set(ended.values_list("key", flat=True)) == {"expired"}
    assert sum(ended.values_list("count", flat=True)) == 3


def test_the_sweep_runs_every_night(lines):
    job = next(job for job in jobs.JOBS if job.name == "sweep_letters")
    after = datetime(2027, 3, 3, 3, 30, tzinfo=HELSINKI)
    assert job.next_after(after) == datetime(2027, 3, 4, 3, 30, tzinfo=HELSINKI)
    assert job.next_after(after - timedelta(minutes=1)) == after
    assert job.next_after(after).astimezone(HELSINKI).time() == time(3, 30)


# --- Statistics ----------------------------------------------------------------------------------


def test_statistics_show_the_letter_counts_only(letter_line, make_helper, clock):
    written = write(topics=["henkinen"])
    helper = make_helper()
    clock.shift(timedelta(days=2))
    answering.claim(helper, written.thread_id)
    answering.answer(helper, written.thread_id, "Vastaus tilastoja varten")
    services.write_again(written.code, "Vielä yksi", ip=ASKER_IP)
    services.end_by_asker(written.code)
    counts = {}
    for metric, key, count in DailyCount.objects.values_list("metric", "key", "count"):
        counts[(metric, key)] = counts.get((metric, key), 0) + count
    assert counts == {
        ("letters_written", ""): 2,
        ("letter_threads", ""): 1,
        ("letter_topic", "henkinen"): 1,
        ("letter_replies", "professional"): 1,
        ("letter_answer_time", "1-3d"): 1,
        ("letter_threads_ended", "asker"): 1,
    }
    table = export.build_table([letter_line], NIGHT.date(), NIGHT.date() + timedelta(days=3))
    labels = {row.metric: row.label for row in table.rows}
    assert labels["letter_topic"] == "Kirjoittajien valitsemat aiheet: Henkinen väkivalta"
    suppressed = export.build_table(
        [letter_line], NIGHT.date(), NIGHT.date() + timedelta(days=3), suppress_below=5
    )
    assert {suppressed.cell_text(row.cells[0]) for row in suppressed.rows} == {"<5"}


# --- Pages ---------------------------------------------------------------------------------------


def test_the_writing_page_sets_no_cookie_and_shows_the_code_once(letter_line, clock):
    client = Client()
    page = client.get("/letters/vakivalta/")
    assert page.status_code == 200 and not page.cookies
    assert "Kuka tahansa" in page.content.decode() or "Whoever holds" in page.content.decode()
    sent = client.post("/letters/vakivalta/", {"text": "Hei yöllä", "topics": ["henkinen"]})
    assert sent.status_code == 201 and not sent.cookies and not client.cookies
    assert "no-store" in sent["Cache-Control"] and sent["Referrer-Policy"] == "no-referrer"
    code = sent.content.decode().split('id="letter-code">')[1].split("<")[0]
    assert Thread.objects.get().code_hash == followups.code_hash(code)
    read = client.post("/letters/read/", {"code": code, "action": "read"})
    assert "Hei yöllä" in read.content.decode() and not read.cookies


def test_the_helper_api_claims_answers_with_a_prepared_text_at_hand(
    letter_line, make_helper, clock
):
    PreparedText.objects.create(title="Nollalinja", text="Soita Nollalinjaan.", kind="referral")
    written = write()
    helper = make_helper()
    client = Client(enforce_csrf_checks=True)
    client.force_login(helper.user)
    inbox = client.get("/console/letters/api/").json()
    assert [row["id"] for row in inbox["letters"]] == [written.thread_id]
    refused = client.post(f"/console/letters/api/{written.thread_id}/claim/")
    assert refused.status_code == 403  # no CSRF token: the helper's side has cookies to protect
    client = Client()
    client.force_login(helper.user)
    claimed = client.post(f"/console/letters/api/{written.thread_id}/claim/")
    assert claimed.json()["letters"][0]["text"] == "Kotona on vaikeaa öisin."
    inbox_page = client.get("/console/letters/").content.decode()
    assert "Sinä vastaat" in inbox_page  # "You are answering"
    page = client.get(f"/console/letters/{written.thread_id}/")
    assert "Soita Nollalinjaan." in page.content.decode()
    answered = post_json(
        client, f"/console/letters/api/{written.thread_id}/answer/", {"text": "Soita Nollalinjaan."}
    )
    assert answered.json()["released"] is True
    assert Client().get("/console/letters/api/").status_code == 302  # login first


# --- Coordinators and the helpers' nudge ----------------------------------------------------------


def test_coordinators_see_each_inbox_length_and_oldest_letter(letter_line, clock):
    """In the letter settings' list and on the live board: counts and times, never a letter."""
    from chats.accounts import create_coordinator

    write()
    clock.shift(timedelta(hours=3))
    write("Toinen kirje")
    client = Client()
    client.force_login(create_coordinator("koordinaattori", "correct horse battery"))
    page = client.get("/admin/letters/lettersettings/").content.decode()
    assert '<td class="field-waiting">2</td>' in page
    assert '<td class="field-oldest_waiting">3' in page  # 3 hours (tunnit), in Finnish
    assert "Kotona on vaikeaa" not in page  # counts only: no letter is shown in the admin

    board = client.get("/admin/chats/liveboard/")
    row = next(row for row in board.context["board"] if row["line"].slug == "vakivalta")
    assert row["letters"] == {"waiting": 2, "oldest": NIGHT}
    text = board.content.decode()
    assert "2 kirjettä odottaa vastausta." in text
    assert "Vanhin on odottanut 3" in text  # 3 hours (tuntia)
    assert "Kotona on vaikeaa" not in text and "Toinen kirje" not in text
    ero = next(row for row in board.context["board"] if row["line"].slug == "ero")
    assert "letters" not in ero  # a line that takes no letters shows none


async def test_a_letter_arriving_tells_the_lines_consoles_the_inbox_length(
    letter_line, make_helper, helper_socket
):
    """Like the queue's length: a console of the line is told the inbox's length when it
    starts and each time a letter arrives; a console of a line without letters hears nothing.

    The start frame also says the socket has joined its groups: they are joined after the
    socket is accepted, so a letter written before that frame could pass unheard (the cause of
    this test's timeouts in full runs, where the machine is loaded: docs/letters.md)."""
    from asgiref.sync import sync_to_async

    from tests.conftest import next_frame, receive_nothing

    console = await helper_socket(await sync_to_async(make_helper)())
    elsewhere = await helper_socket(await sync_to_async(make_helper)(services=("ero",)))
    start = await next_frame(console, "letters", timeout=15)  # a wait, not a speed limit
    assert start == {"type": "letters", "service": "vakivalta", "waiting": 0}
    await next_frame(elsewhere, "follow_ups", timeout=15)  # started, and in its groups
    await sync_to_async(write)()
    frame = await next_frame(console, "letters", timeout=15)
    assert frame == {"type": "letters", "service": "vakivalta", "waiting": 1}
    await sync_to_async(write)("Toinen kirje")
    assert (await next_frame(console, "letters", timeout=15))["waiting"] == 2
    assert await receive_nothing(elsewhere, timeout=0.5, ignore=("queue", "follow_ups"))


def test_the_widget_of_an_embedding_site_may_call_the_letters_api(letter_line, settings):
    settings.EMBEDDING_ORIGINS = ["https://turvakoti.example"]
    site = {"origin": "https://turvakoti.example"}
    preflight = Client().options("/api/letters/read/", headers=site)
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "https://turvakoti.example"
    assert "Content-Type" in preflight["Access-Control-Allow-Headers"]
    line = Client().get("/api/letters/vakivalta/", headers=site)
    assert line["Access-Control-Allow-Origin"] == "https://turvakoti.example"
    assert not line.cookies

    elsewhere = {"origin": "https://evil.example"}
    assert Client().options("/api/letters/read/", headers=elsewhere).status_code == 405
    assert "Access-Control-Allow-Origin" not in Client().get(
        "/api/letters/vakivalta/", headers=elsewhere
    )
