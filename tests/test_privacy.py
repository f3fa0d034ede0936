"""The privacy promises, end to end: real chats over the real ASGI app, then every column of
every table is searched for the asker's address, token, nickname and words.

Each secret may be found only where and while the design keeps it (contract section 7):
- a one-to-one chat's address and token in chats_chat, its texts in chats_message, while it lives;
- a group participant's nickname while the session runs, the address only as a keyed hash;
- a bar's keyed hash while the bar runs; feedback with line and month only;
and nowhere once the chat has ended (or the session closed, or the bar run out) and the purge
has run. The logs hold no address and no text, through the real handler and a real daphne.
"""

import io
import logging
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta

import pytest
import time_machine
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone

from chats import followups, groups
from scheduling.hours import HELSINKI
from scheduling.services import book_shift
from stats import retention
from tests.conftest import (
    ROOT,
    WsClient,
    free_port,
    next_frame,
    pair,
    server_env,
    session_cookie,
    tables_holding,
    wait_for_port,
)
from verkkoapu import security

pytestmark = pytest.mark.django_db(transaction=True)

purge = sync_to_async(retention.purge_ip_addresses)
# The per-address limits (chat starts, group joins per hour: verkkoapu/security.py) keep a keyed
# hash of the address for the rest of their hour; the purge removes them after it.
LIMITS = {"chats_addresscounter"}
holding = sync_to_async(tables_holding)


async def where(*secrets) -> set[str]:
    """Every table holding any of `secrets`."""
    found = set()
    for secret in secrets:
        found |= await holding(secret)
    return found


async def one_to_one_chat(line, helper, asker_socket, helper_socket, ip, words):
    console = await helper_socket(helper)
    asker = await asker_socket(line, ip=ip)
    await asker.send_json_to({"type": "start", "language": "fi"})
    token = (await next_frame(asker, "queued"))["token"]
    await console.send_json_to({"type": "accept_next", "service": line.slug})
    assigned = await next_frame(console, "assigned")
    assert assigned["ip"] == ip  # the helper sees it during the chat, as the contract says
    await asker.send_json_to({"type": "message", "text": words[0]})
    await next_frame(console, "message")
    await console.send_json_to({"type": "message", "chat": assigned["chat"], "text": words[1]})
    await next_frame(asker, "message")
    return console, asker, token, assigned["chat"]


async def test_a_one_to_one_chat_leaves_nothing_once_it_ends(
    open_line, make_helper, asker_socket, helper_socket
):
    ip, words = "203.0.113.101", ["Minua-pelottaa-kotona", "Olen-tässä-kuuntelemassa"]
    helper = await sync_to_async(make_helper)()
    console, asker, token, chat = await one_to_one_chat(
        open_line, helper, asker_socket, helper_socket, ip, words
    )
    assert await where(ip) == {"chats_chat"}
    assert await where(token) == {"chats_chat"}
    assert await where(*words) == {"chats_message"}

    await console.send_json_to({"type": "end", "chat": chat, "topics": ["henkinen"]})
    await next_frame(asker, "ended")
    assert await where(ip, token, *words) == set()
    await purge()
    assert await where(ip, token, *words) == set()


async def test_a_bar_keeps_only_a_keyed_hash_and_only_while_it_runs(
    open_line, make_helper, asker_socket, helper_socket
):
    ip = "203.0.113.102"
    helper = await sync_to_async(make_helper)()
    console, asker, token, chat = await one_to_one_chat(
        open_line, helper, asker_socket, helper_socket, ip, ["hei", "moi"]
    )
    await console.send_json_to({"type": "bar", "chat": chat, "hours": 1})
    await next_frame(asker, "ended")
    hashed = security.address_hash(ip)
    assert await where(ip, token) == set()
    assert await where(hashed) - LIMITS == {"chats_bar"}
    await purge()
    assert await where(hashed) - LIMITS == {"chats_bar"}  # the bar still runs
    await purge(now=timezone.now() + timedelta(hours=1, minutes=1))
    assert await where(ip, hashed, token) == set()


async def test_a_chat_nobody_ends_is_gone_after_the_purge(open_line, asker_socket):
    ip = "203.0.113.103"
    asker = await asker_socket(open_line, ip=ip)
    await asker.send_json_to({"type": "start", "language": "fi"})
    token = (await next_frame(asker, "queued"))["token"]
    await asker.send_json_to({"type": "message", "text": "Onko-siellä-ketään"})
    await next_frame(asker, "message")
    # The asker keeps the socket open for more than a day: the purge ends the chat.
    results = await purge(now=timezone.now() + timedelta(hours=25))
    assert {r.kind: r.count for r in results}["chats_too_old"] == 1
    assert (await next_frame(asker, "ended"))["by"] == "system"
    assert await where(ip, token, "Onko-siellä-ketään") == set()


async def test_a_group_session_leaves_nothing_once_it_closes(lines, make_helper, sockets):
    ip, nickname, words = "203.0.113.104", "Valvova-Vanhempi", "Meillä-herätään-viidesti"
    now = timezone.now()
    await sync_to_async(groups.schedule_session)(
        "unichat",
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(minutes=30),
        title="Unichat-ilta",
    )
    participant = await sockets("/ws/group/unichat/", client=[ip, 50000])
    await participant.send_json_to({"type": "join", "nickname": nickname})
    assert (await next_frame(participant, "joined"))["nickname"] == nickname
    await participant.send_json_to({"type": "message", "text": words})
    await next_frame(participant, "message")

    hashed = security.address_hash(ip)
    assert await where(ip) == set()  # never in clear, not even while the session runs
    assert await where(hashed) - LIMITS == {"chats_groupparticipant"}
    assert await where(nickname) == {"chats_groupparticipant", "chats_groupmessage"}
    assert await where(words) == {"chats_groupmessage"}

    # The session's end passes with nobody to close it but the monthly purge.
    # (an hour on, also past the window of the per-address limits)
    await purge(now=now + timedelta(minutes=61))
    assert (await next_frame(participant, "closed"))["type"] == "closed"
    assert await where(ip, hashed, nickname, words) == set()


async def test_feedback_after_a_chat_holds_no_link_to_it(
    open_line, make_helper, asker_socket, helper_socket
):
    ip, words = "203.0.113.105", ["Apua-tarvitsen", "Kerro-lisää"]
    helper = await sync_to_async(make_helper)(name="Auttaja Aino")
    console, asker, token, chat = await one_to_one_chat(
        open_line, helper, asker_socket, helper_socket, ip, words
    )
    await console.send_json_to({"type": "end", "chat": chat, "topics": []})
    await next_frame(asker, "ended")

    def give_feedback():
        answer = {"rating": "5", "got_help": "yes", "text": "Kiitos-Auttaja-Aino"}
        response = Client().post(f"/feedback/{open_line.slug}/", answer, REMOTE_ADDR=ip)
        assert response.status_code == 302 and not response.cookies

    await sync_to_async(give_feedback)()
    # The asker's own words name the helper; nothing else ties the row to the chat.
    assert await where("Kiitos-Auttaja-Aino") == {"feedback_feedback"}
    assert await where(ip, token, *words) == set()
    assert await where(security.address_hash(ip)) <= LIMITS  # this hour's chat-start limit


async def test_a_follow_up_keeps_only_a_hash_of_its_code_and_nothing_once_done(
    lines, make_helper, asker_socket, helper_socket
):
    wednesday = datetime(2027, 3, 3, 12, 10, tzinfo=HELSINKI)
    at, shift_end = wednesday.replace(hour=16, minute=30), wednesday.replace(hour=18)
    note, words = "Muista-kysyä-unesta", ["Ensimmäinen-kerta", "Toinen-kerta"]
    with time_machine.travel(wednesday, tick=True) as clock:
        helper = await sync_to_async(make_helper)(name="Anna")
        await sync_to_async(book_shift)(helper, "vakivalta", wednesday.date(), "16-18")
        codes, first_ips = [], ["203.0.113.107", "203.0.113.108"]
        for ip in first_ips:  # two first chats, each ending with a follow-up at 16:30
            console, asker, token, chat = await one_to_one_chat(
                lines["vakivalta"], helper, asker_socket, helper_socket, ip, [words[0], "Hei"]
            )
            end = {"type": "end", "chat": chat, "topics": [], "follow_up_at": at.isoformat()}
            await console.send_json_to({**end, "note": note})
            codes.append((await next_frame(asker, "ended"))["follow_up"]["code"])
            await asker.disconnect()
            await console.disconnect()
            assert await where(ip, token, words[0]) == set()
        hashes = [followups.code_hash(code) for code in codes]
        assert await where(*codes) == set()  # the code itself is never stored
        assert await where(*hashes) == await where(note) == {"chats_followup"}

        # The first asker comes back with the code; the second never does.
        clock.move_to(at - timedelta(minutes=10))
        ip = "203.0.113.109"
        console = await helper_socket(helper)
        asker = await asker_socket(lines["vakivalta"], ip=ip)
        await asker.send_json_to({"type": "start", "language": "fi", "code": codes[0]})
        token = (await next_frame(asker, "queued"))["token"]
        chat = await pair(console)
        await asker.send_json_to({"type": "message", "text": words[1]})
        await next_frame(console, "message")
        assert await where(ip, token) == {"chats_chat"}
        await console.send_json_to({"type": "end", "chat": chat, "topics": []})
        await next_frame(asker, "ended")
        await asker.disconnect()
        await console.disconnect()
        assert await where(ip, token, words[1], hashes[0]) == set()
        assert await where(hashes[1]) == {"chats_followup"}  # unused, its shift not over

        # Someone guesses codes: counted per address, as a keyed hash.
        guesser = await asker_socket(lines["vakivalta"], ip="203.0.113.110")
        await guesser.send_json_to({"type": "start", "language": "fi", "code": "kala-kissa"})
        assert (await next_frame(guesser, "error"))["code"] == "not_found"
        await guesser.disconnect()
        guess_hash = security.address_hash("203.0.113.110")
        assert await where(guess_hash) - LIMITS == {"chats_codeguess"}

    await purge(now=shift_end + timedelta(hours=1, minutes=1))
    secrets = [*first_ips, ip, "203.0.113.110", guess_hash, *hashes, note, *codes, *words]
    assert await where(*secrets) == set()


# --- Letters (docs/letters.md) ------------------------------------------------------------------


def letter_thread(line, helper, ip, words):
    """An asker writes a letter over HTTP, a helper claims and answers it, the asker reads it."""
    from letters import answering as letters
    from letters.models import LetterSettings

    LetterSettings.objects.create(line=line, offers_letters=True)
    client = Client()
    written = client.post(
        f"/api/letters/{line.slug}/",
        {"text": words[0], "topics": ["henkinen"]},
        content_type="application/json",
        REMOTE_ADDR=ip,
    )
    assert written.status_code == 201 and not client.cookies
    code = written.json()["code"]
    thread = letters.inbox(helper)[0]["id"]
    letters.claim(helper, thread)
    letters.answer(helper, thread, words[1], keep=True)
    read = client.post(
        "/api/letters/read/", {"code": code}, content_type="application/json", REMOTE_ADDR=ip
    )
    assert [letter["text"] for letter in read.json()["letters"]] == words
    return client, code, thread


def test_a_letter_thread_leaves_nothing_once_the_asker_ends_it(open_line, make_helper):
    from chats import followups

    ip, words = "203.0.113.121", ["Kirjoitan-yöllä-kotoa", "Vastaan-kirjeeseesi"]
    helper = make_helper()
    client, code, thread = letter_thread(open_line, helper, ip, words)
    hashed, code_hash = security.address_hash(ip), followups.code_hash(code)
    assert tables_holding(words[0]) == tables_holding(words[1]) == {"letters_letter"}
    assert tables_holding(code_hash) == {"letters_thread"}
    assert tables_holding(code) == tables_holding(ip) == set()  # never stored in clear
    # The letters-per-hour limit and the code-guess reservation (taken before each look-up,
    # given back when the code was right) keep the keyed hash of the address (of its /64).
    assert tables_holding(hashed) <= LIMITS | {"chats_codeguess"}

    # A wrong code is counted for the address as a keyed hash, like a follow-up code.
    wrong = client.post(
        "/api/letters/read/",
        {"code": "kala-kissa-koira-lintu-karhu-kettu"},
        content_type="application/json",
        REMOTE_ADDR=ip,
    )
    assert wrong.status_code == 404
    assert tables_holding(hashed) - LIMITS == {"chats_codeguess"}

    ended = client.post(
        "/api/letters/end/", {"code": code}, content_type="application/json", REMOTE_ADDR=ip
    )
    assert ended.status_code == 200
    assert {t for s in (*words, code, code_hash, ip) for t in tables_holding(s)} == set()
    retention.purge_ip_addresses(now=timezone.now() + timedelta(hours=2))
    secrets = (*words, code, code_hash, ip, hashed)
    assert {t for s in secrets for t in tables_holding(s)} == set()


def test_a_letter_thread_leaves_nothing_once_its_retention_runs_out(open_line, make_helper):
    from chats import followups

    ip, words = "203.0.113.122", ["Unohtunut-kirje", "Vastaus-jota-ei-luettu"]
    helper = make_helper()
    client, code, thread = letter_thread(open_line, helper, ip, words)
    # The asker writes once more and never comes back; nobody answers.
    client.post(
        "/api/letters/reply/",
        {"code": code, "text": "Vielä-yksi-kirje"},
        content_type="application/json",
        REMOTE_ADDR=ip,
    )
    code_hash = followups.code_hash(code)
    assert tables_holding("Vielä-yksi-kirje") == {"letters_letter"}
    results = retention.purge_ip_addresses(now=timezone.now() + timedelta(days=59))
    assert {r.kind: r.count for r in results}["letter_threads_expired"] == 0
    results = retention.purge_ip_addresses(now=timezone.now() + timedelta(days=61))
    assert {r.kind: r.count for r in results}["letter_threads_expired"] == 1
    secrets = (*words, "Vielä-yksi-kirje", code, code_hash, ip, security.address_hash(ip))
    assert {t for s in secrets for t in tables_holding(s)} == set()


# --- Logs --------------------------------------------------------------------------------------


@pytest.fixture
def console_log():
    """What the project's own console handler writes, at DEBUG, while the test runs."""
    root = logging.getLogger()
    handler = next(h for h in root.handlers if type(h) is logging.StreamHandler)
    stream, level = io.StringIO(), root.level
    old = handler.setStream(stream)
    root.setLevel(logging.DEBUG)
    yield stream
    handler.setStream(old)
    root.setLevel(level)


async def test_logs_hold_no_address_and_no_text(
    open_line, make_helper, asker_socket, helper_socket, console_log, caplog
):
    caplog.set_level(logging.DEBUG)
    ip, words = "203.0.113.106", ["Salainen-viesti-1", "Salainen-vastaus-2"]
    helper = await sync_to_async(make_helper)()
    console, asker, token, chat = await one_to_one_chat(
        open_line, helper, asker_socket, helper_socket, ip, words
    )
    await console.send_json_to({"type": "end", "chat": chat, "topics": []})
    await next_frame(asker, "ended")
    # An accident: something logs an address. The handler must still not write it.
    logging.getLogger("chats.consumers").warning("peer %s dropped", ip)

    written = console_log.getvalue()
    assert "peer [address] dropped" in written
    logged_by_the_app = "\n".join(
        r.getMessage() for r in caplog.records if r.name != "chats.consumers"
    )
    for secret in (ip, token, *words):
        assert secret not in written
        assert secret not in logged_by_the_app


@pytest.mark.slow
async def test_a_real_daphne_writes_no_address_and_no_text_to_its_log(open_line, make_helper):
    """daphne as production runs it (--access-log /dev/null), at DEBUG: the log it writes."""
    words = ["Todellinen-salaisuus", "Todellinen-vastaus"]
    helper = await sync_to_async(make_helper)()
    cookie = await sync_to_async(session_cookie)(helper.user)
    port = free_port()
    log = tempfile.TemporaryFile()
    env = await sync_to_async(server_env)("", LOG_LEVEL="DEBUG")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "--access-log",
            "/dev/null",
            "-v",
            "2",
            "-p",
            str(port),
            "verkkoapu.asgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, proc)
        url, origin = f"ws://127.0.0.1:{port}", f"http://127.0.0.1:{port}"
        console = await WsClient(f"{url}/ws/helper/", cookie, origin=origin).open()
        asker = await WsClient(f"{url}/ws/ask/{open_line.slug}/", origin=origin).open()
        await asker.send({"type": "start", "language": "fi"})
        token = (await asker.recv("queued"))["token"]
        await console.send({"type": "accept_next", "service": open_line.slug})
        chat = (await console.recv("assigned"))["chat"]
        await asker.send({"type": "message", "text": words[0]})
        await console.recv("message")
        await console.send({"type": "message", "chat": chat, "text": words[1]})
        await asker.recv("message")
        await console.send({"type": "end", "chat": chat, "topics": []})
        await asker.recv("ended")
        await asker.close()
        await console.close()
    finally:
        proc.terminate()
        proc.wait(10)
    log.seek(0)
    written = log.read().decode(errors="replace")
    # daphne names every connection's peer at DEBUG: the filter wrote a placeholder instead.
    assert "Upgraded connection ['[address]'" in written
    for secret in ("127.0.0.1", token, *words):
        assert secret not in written, f"{secret!r} in daphne's log"
