"""The audit log (chats/audit.py): helpers' and coordinators' actions with who and when, never an
asker's address or words; read-only in admin; purged after AUDIT_RETENTION_DAYS. And the
coordinators' live board of who is on duty."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.utils import timezone

from chats import asking, audit, services, taking
from chats.accounts import create_coordinator
from chats.models import AuditEvent, PreparedText
from stats import retention
from tests.conftest import next_frame, pair, text_by_table

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery"
HELPER_ADDRESS = "198.51.100.77"


# Changes to people's accounts (tests/test_accounts.py), e.g. the accounts the fixtures add.
PEOPLE = ("rights", "password", "device", "enrolment")


def actions(**filters) -> list[tuple[str, str]]:
    return list(
        AuditEvent.objects.filter(**filters)
        .exclude(action__in=PEOPLE)
        .order_by("at", "pk")
        .values_list("actor_name", "action")
    )


def audit_table() -> str:
    return text_by_table()[AuditEvent._meta.db_table]


def test_logins_logouts_and_failed_logins_are_recorded_without_an_address(make_helper):
    helper = make_helper(name="Anna")
    name = helper.user.username
    client = Client(REMOTE_ADDR=HELPER_ADDRESS)
    client.post("/accounts/login/", {"username": name, "password": "wrong one"})
    client.post("/accounts/login/", {"username": "hunter2-typed-here", "password": "x"})
    assert client.post("/accounts/login/", {"username": name, "password": PASSWORD}).status_code
    client.post("/accounts/logout/")

    assert actions() == [
        (name, "login_failed"),
        ("", "login_failed"),
        (name, "login"),
        (name, "logout"),
    ]
    unknown = AuditEvent.objects.get(actor=None, action="login_failed")
    assert unknown.detail == "unknown username"
    stored = audit_table()
    assert HELPER_ADDRESS not in stored
    assert "hunter2-typed-here" not in stored  # a mistyped name may be a password


async def test_helpers_actions_are_recorded_with_no_address_or_words(
    open_line, make_helper, asker_socket, helper_socket
):
    peer = await sync_to_async(make_helper)(role="peer", name="Pekka")
    professional = await sync_to_async(make_helper)(role="professional", name="Paula")
    peer_console, pro_console = await helper_socket(peer), await helper_socket(professional)
    await next_frame(pro_console, "follow_ups")  # on duty: a colleague to hand over to
    asker = await asker_socket(open_line, ip="203.0.113.91")
    await asker.send_json_to({"type": "start", "language": "fi"})
    await next_frame(asker, "queued")
    chat = await pair(peer_console)
    await asker.send_json_to({"type": "message", "text": "salainen-kysyjan-teksti"})
    await next_frame(peer_console, "message")
    await peer_console.send_json_to(
        {"type": "transfer", "chat": chat, "to": "Paula", "note": "salainen-siirtoviesti"}
    )
    await next_frame(pro_console, "transfer_offer")
    await pro_console.send_json_to({"type": "transfer_accept", "chat": chat})
    await next_frame(pro_console, "history")
    await pro_console.send_json_to({"type": "limit", "chat": chat, "minutes": 20})
    await next_frame(pro_console, "time_limit")
    await pro_console.send_json_to(
        {"type": "notice", "chat": chat, "text": "salainen-ilmoitusteksti"}
    )
    await next_frame(pro_console, "message")
    await pro_console.send_json_to({"type": "come_back_later", "chat": chat, "days": 3})
    await next_frame(pro_console, "ended")

    peer_name, pro_name = peer.user.username, professional.user.username
    recorded = await sync_to_async(actions)()
    assert [item for item in recorded if item[1] not in ("login",)] == [
        (peer_name, "chat_taken"),
        (peer_name, "transfer_offered"),
        (pro_name, "transfer_accepted"),
        (pro_name, "time_limit"),
        (pro_name, "notice"),
        (pro_name, "come_back_later"),
    ]
    offered = await sync_to_async(AuditEvent.objects.get)(action="transfer_offered")
    assert offered.detail == "Paula" and offered.line_id == open_line.pk
    assert (await sync_to_async(AuditEvent.objects.get)(action="come_back_later")).detail == "3 d"
    stored = await sync_to_async(audit_table)()
    for secret in (
        "203.0.113.91",
        "salainen-kysyjan-teksti",
        "salainen-siirtoviesti",
        "salainen-ilmoitusteksti",
    ):
        assert secret not in stored


@pytest.fixture
def coordinator(lines):
    return create_coordinator("koordinaattori", PASSWORD)


@pytest.fixture
def coordinator_client(coordinator):
    client = Client()
    client.force_login(coordinator)
    return client


def test_admin_changes_and_exports_are_recorded(coordinator_client, make_helper, lines):
    helper = make_helper(name="Anna")
    page = coordinator_client.get(f"/admin/chats/helperprofile/{helper.pk}/change/")
    form = page.context["adminform"].form
    data = {key: value for key, value in form.initial.items() if value is not None}
    data.update(display_name="Anna K", lines=[line.pk for line in helper.lines.all()])
    data["user"] = helper.user_id
    response = coordinator_client.post(f"/admin/chats/helperprofile/{helper.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]

    texts = [
        PreparedText.objects.create(title=f"Vastaus {i}", text="Hei", kind="reply")
        for i in range(2)
    ]
    response = coordinator_client.post(
        "/admin/chats/preparedtext/",
        {
            "action": "delete_selected",
            "_selected_action": [text.pk for text in texts],
            "post": "yes",
        },
    )
    assert response.status_code == 302

    response = coordinator_client.get(
        "/admin/stats/statisticsexport/",
        {"first": "2026-03-01", "last": "2026-03-31", "period": "all", "format": "csv"},
    )
    assert response.status_code == 200

    changes = list(
        AuditEvent.objects.filter(action="admin_change")
        .order_by("pk")
        .values_list("detail", flat=True)
    )
    assert changes[0] == "changed chats.helperprofile: Anna K (ammattilainen)"
    assert sorted(changes[1:]) == [
        "deleted chats.preparedtext: Vastaus 0",
        "deleted chats.preparedtext: Vastaus 1",
    ]
    export = AuditEvent.objects.get(action="export")
    assert export.actor_name == "koordinaattori"
    assert export.detail == "verkkoapu-2026-03-01-2026-03-31.csv"


def test_coordinators_read_the_audit_log_and_nobody_edits_it(coordinator_client, coordinator):
    event = audit.record(coordinator, AuditEvent.Action.EXPORT, detail="file.csv")
    listing = coordinator_client.get("/admin/chats/auditevent/")
    assert listing.status_code == 200 and "file.csv" in listing.content.decode()
    change = coordinator_client.get(f"/admin/chats/auditevent/{event.pk}/change/")
    assert change.status_code == 200 and b'name="detail"' not in change.content
    assert coordinator_client.post(f"/admin/chats/auditevent/{event.pk}/delete/").status_code == 403
    assert coordinator_client.get("/admin/chats/auditevent/add/").status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_audit_events_are_purged_after_the_retention_period(settings, make_helper):
    settings.AUDIT_RETENTION_DAYS = 365
    now = timezone.now()
    helper = make_helper()
    old = audit.record(helper, AuditEvent.Action.LOGIN, now=now - timedelta(days=366))
    kept = audit.record(helper, AuditEvent.Action.LOGIN, now=now - timedelta(days=364))
    results = {item.kind: item.count for item in retention.purge_ip_addresses(now, dry_run=True)}
    assert results["audit_events_old"] == 1
    assert AuditEvent.objects.filter(pk=old.pk).exists()  # a dry run changes nothing
    retention.purge_ip_addresses(now)
    logins = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN)
    assert list(logins.values_list("pk", flat=True)) == [kept.pk]


def test_live_board_shows_who_is_on_duty_their_chats_and_the_queues(
    coordinator_client, open_line, make_helper
):
    paula = make_helper(role="professional", name="Paula")
    services.start_duty(paula, "console-paula")
    for i in range(2):
        asking.enqueue_asker("vakivalta", language="fi", ip=f"192.0.2.{i}")
    taking.accept_next(paula, "vakivalta")
    page = coordinator_client.get("/admin/chats/liveboard/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'http-equiv="refresh"' in text
    assert "Paula" in text and "1 / 2" in text
    row = next(row for row in page.context["board"] if row["line"].slug == "vakivalta")
    assert row["queue"] == 1 and row["helpers"][0]["chats"] == 1
    assert "192.0.2" not in text

    helper_client = Client()
    helper_client.force_login(paula.user)
    assert helper_client.get("/admin/chats/liveboard/").status_code == 302  # to the login
