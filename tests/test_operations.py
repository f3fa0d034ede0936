"""What operators watch: /healthz, /readyz and the Prometheus endpoint (verkkoapu/health.py).

The metrics hold counts only: after a chat and a group session with known addresses, texts,
token, names and nickname, none of them is anywhere in what /metrics answers. An untrusted client
is refused; a trusted address or the token is let in. /readyz fails when the database or Redis
cannot be reached.
"""

import json
import re
import socket

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from tests.conftest import next_frame, on_postgres, pair, session_cookie
from tests.test_groups import join, schedule  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)

ASKER_IP = "198.51.100.77"
MEMBER_IP = "198.51.100.78"
ASKER_TEXT = "Salainen kysymys lumikko"
HELPER_TEXT = "Salainen vastaus kärppä"
NICKNAME = "Yöpöllö Viiru"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket closes


def get(path, **extra):
    return Client().get(path, **extra)


def test_healthz_answers_any_host_without_a_redirect_or_a_cookie(settings):
    settings.SECURE_SSL_REDIRECT = True  # as in production, behind the TLS proxy
    settings.ALLOWED_HOSTS = ["chat.example.fi"]
    response = get("/healthz", HTTP_HOST="10.0.0.5:8000")  # a container engine's check
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert not response.cookies
    assert "Set-Cookie" not in response.headers


def test_readyz_is_ready_with_the_database_migrated(settings):
    response = get("/readyz", HTTP_HOST="anything")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ready"] is True
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] == ("ok" if django_settings.REDIS_URL else "not used")
    assert not response.cookies


def test_readyz_fails_when_redis_is_unreachable(settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    response = get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "redis": "unreachable"}


def test_readyz_fails_when_the_database_is_unreachable(monkeypatch, real_services):
    if not on_postgres():
        pytest.skip("the database is a file here")
    monkeypatch.setitem(connection.settings_dict, "PORT", closed_port())
    response = get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unreachable"


def test_readyz_fails_while_a_migration_is_pending(monkeypatch):
    from django.db.migrations.executor import MigrationExecutor

    plan = MigrationExecutor.migration_plan
    monkeypatch.setattr(
        MigrationExecutor, "migration_plan", lambda self, targets: [("pending", False)]
    )
    response = get("/readyz")
    monkeypatch.setattr(MigrationExecutor, "migration_plan", plan)
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "migrations pending"


def test_metrics_refuse_an_untrusted_client_and_let_in_a_token(settings):
    settings.METRICS_TOKEN = "metrics-token-s3cret"
    refused = get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert refused.status_code == 403
    assert b"verkkoapu_" not in refused.content
    wrong = get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 403
    with_token = get(
        "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer metrics-token-s3cret"
    )
    assert with_token.status_code == 200
    assert b"verkkoapu_chats_open" in with_token.content
    assert b"metrics-token-s3cret" not in with_token.content
    assert not with_token.cookies


def test_metrics_behind_the_proxy_judge_the_client_not_the_proxy(settings):
    """nginx on the same machine is 127.0.0.1: its X-Forwarded-For names the real client."""
    settings.PROXY_IP_HEADER, settings.TRUSTED_PROXIES = "X-Forwarded-For", ["127.0.0.1"]
    through_proxy = get(
        "/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1, 203.0.113.9"
    )
    assert through_proxy.status_code == 403
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    assert get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


async def test_metrics_count_a_chat_and_hold_nothing_about_anyone(
    open_line,
    make_helper,
    asker_socket,
    helper_socket,
    schedule,  # noqa: F811
    sockets,
):
    helper = await sync_to_async(make_helper)(name="Auttaja Kuutamo")
    asker = await asker_socket(open_line, ip=ASKER_IP)
    await asker.send_json_to({"type": "start", "language": "fi"})
    token = (await next_frame(asker, "queued"))["token"]
    console = await helper_socket(helper)
    chat = await pair(console, asker)
    await asker.send_json_to({"type": "message", "text": ASKER_TEXT, "client_id": "a-1"})
    await next_frame(console, "message")
    await console.send_json_to({"type": "message", "chat": chat, "text": HELPER_TEXT})
    await next_frame(asker, "message")
    await sync_to_async(schedule)()
    member = await sockets("/ws/group/unichat/", client=[MEMBER_IP, 50000])
    assert (await join(member, NICKNAME))["type"] == "joined"
    await member.send_json_to({"type": "message", "text": ASKER_TEXT + " ryhmässä"})
    await next_frame(member, "message")

    response = await sync_to_async(get)("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'verkkoapu_chats_open{line="vakivalta"} 1.0' in text
    assert 'verkkoapu_messages_stored{line="vakivalta"} 2.0' in text
    assert 'verkkoapu_queue_length{line="vakivalta"} 0.0' in text
    assert 'verkkoapu_helpers_on_duty{line="vakivalta"} 1.0' in text
    assert 'verkkoapu_wait_seconds_bucket{le="60.0",line="vakivalta"} 1.0' in text
    cookie = await sync_to_async(session_cookie)(helper.user)
    for secret in (
        ASKER_IP,
        MEMBER_IP,
        ASKER_TEXT,
        HELPER_TEXT,
        "lumikko",
        "kärppä",
        NICKNAME,
        "Viiru",
        token,
        token[:12],
        cookie,
        helper.display_name,
        "Kuutamo",
        helper.user.username,
    ):
        assert secret not in text, f"{secret!r} in /metrics"
    # Every label is a line's slug, a job's name or a histogram bucket: nothing else.
    labels = {
        part.split("=")[0]
        for line in text.splitlines()
        if "{" in line and not line.startswith("#")
        for part in line.split("{", 1)[1].split("}", 1)[0].split(",")
    }
    assert labels <= {"line", "job", "le"}, labels


def test_health_paths_are_not_in_any_log(caplog):
    with caplog.at_level("DEBUG"):
        get("/healthz", REMOTE_ADDR="203.0.113.44")
        get("/metrics", REMOTE_ADDR="203.0.113.44")
        get("/readyz", REMOTE_ADDR="203.0.113.44")
    assert "203.0.113.44" not in caplog.text


def test_readyz_body_is_json_with_only_the_check_names():
    body = json.loads(get("/readyz").content)
    assert set(body) == {"ready", "checks"}
    assert set(body["checks"]) == {"database", "redis"}


def test_the_grafana_dashboard_asks_only_for_metrics_that_exist(lines):
    """deploy/grafana-dashboard.json names no metric the endpoint does not serve."""
    from pathlib import Path

    dashboard = json.loads(
        (Path(__file__).resolve().parent.parent / "deploy" / "grafana-dashboard.json").read_text()
    )
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    wanted = {name for expr in exprs for name in re.findall(r"verkkoapu_\w+", expr)}
    served = get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    samples = {line.split("{")[0].split(" ")[0] for line in served.splitlines() if line[:1] != "#"}
    # A family without samples yet (no job has run in the test database) still has its TYPE.
    families = set(re.findall(r"^# TYPE (\S+) ", served, re.MULTILINE))
    names = samples | families
    assert wanted and wanted <= names, wanted - names
