"""purge_ip_addresses and the job runner that runs it monthly."""

import io
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from chats import asking, groups
from chats.models import (
    Bar,
    Chat,
    CodeGuess,
    DutySession,
    FollowUp,
    GroupMessage,
    GroupParticipant,
    GroupSession,
)
from scheduling.hours import HELSINKI
from stats import retention
from stats.models import DailyCount, JobRun
from tests.conftest import tables_holding
from verkkoapu import jobs, security

pytestmark = pytest.mark.django_db


def purged(results) -> dict:
    return {item.kind: item.count for item in results}


@pytest.fixture
def leftovers(open_line, make_helper, lines):
    """One of everything the purge must remove, and one of each that it must keep."""
    now = timezone.now()
    helper = make_helper(services=("vakivalta", "unichat"))

    def chat(ip, **changes):
        chat_id = asking.enqueue_asker("vakivalta", language="fi", ip=ip, now=now).chat_id
        Chat.objects.filter(pk=chat_id).update(**changes)
        return chat_id

    kept = {
        "chat": chat("198.51.100.1"),
        "bar": Bar.objects.create(
            address_hash=security.address_hash("198.51.100.2"),
            line=open_line,
            until=now + timedelta(hours=1),
            created_at=now,
        ),
    }
    chat("203.0.113.30", queued_at=now - timedelta(hours=25))  # older than CHAT_MAX_AGE_HOURS
    chat("203.0.113.31", asker_seen_at=now - timedelta(hours=1))  # asker gone, nobody swept
    Bar.objects.create(
        address_hash=security.address_hash("203.0.113.32"),
        line=open_line,
        until=now - timedelta(minutes=1),
        created_at=now - timedelta(days=1),
    )
    for seen, name in ((now - timedelta(hours=2), "gone"), (now, "here")):
        DutySession.objects.create(helper=helper, channel_name=name, started_at=seen, seen_at=seen)

    over = groups.schedule_session(
        "unichat",
        starts_at=now - timedelta(hours=2),
        ends_at=now - timedelta(hours=1),
        title="Ilta",
    )
    running = groups.schedule_session(
        "unichat",
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=1),
        title="Nyt",
    )
    closed = groups.schedule_session(
        "unichat",
        starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(days=3, hours=-1),
        title="Eilen",
    )
    GroupSession.objects.filter(pk=closed.pk).update(closed_at=now - timedelta(days=3))
    for session, ip, nickname in (
        (over, "203.0.113.33", "Myöhäinen"),
        (running, "198.51.100.3", "Paikalla"),
        (closed, "203.0.113.34", "Unohtunut"),
    ):
        GroupParticipant.objects.create(
            session=session,
            nickname=nickname,
            address_hash=security.address_hash(ip),
            joined_at=session.starts_at,
            seen_at=now,
        )
        GroupMessage.objects.create(
            session=session, seq=1, nickname=nickname, role="participant", text="hei", sent_at=now
        )
    GroupSession.objects.filter(pk=over.pk).update(joins=1, last_seq=1)

    def follow_up(code, expires, chat_id=None):
        return FollowUp.objects.create(
            line=open_line,
            helper=helper,
            code_hash=code,
            at=expires - timedelta(hours=1),
            expires_at=expires,
            chat_id=chat_id,
            created_at=now - timedelta(days=2),
        )

    follow_up("expired", now - timedelta(minutes=1))
    kept["follow_up"] = follow_up("coming", now + timedelta(days=1))
    # Past its shift: a follow-up whose chat is going on stays with it; one whose asker still
    # waits is released to the general queue (the chat stays, the code goes).
    kept["talking"] = chat(
        "198.51.100.5", status=Chat.Status.ACTIVE, helper=helper, assigned_at=now
    )
    follow_up("in-use", now - timedelta(minutes=1), kept["talking"])
    follow_up("waiting", now - timedelta(minutes=1), kept["chat"])
    CodeGuess.objects.create(
        address_hash=security.address_hash("203.0.113.35"),
        window_start=now - timedelta(days=1),
        count=3,
    )
    kept["guess"] = CodeGuess.objects.create(
        address_hash=security.address_hash("198.51.100.4"), window_start=now, count=1
    )
    return kept


def test_purge_removes_what_is_past_retention_and_keeps_what_is_alive(leftovers, open_line):
    results = purged(retention.purge_ip_addresses())
    assert results == {
        "chats_too_old": 2,
        "bars_expired": 1,
        "duty_stale": 1,
        "group_sessions_over": 1,
        "group_leftovers": 2,  # the forgotten session's participant and message
        "follow_ups_expired": 2,  # the unused one, and the waiting one released
        "code_guesses_expired": 1,
        "letter_threads_expired": 0,
    } | {
        kind: 0
        for kind in results
        if kind.startswith(("login_", "address_counters", "audit_events"))
    }

    assert set(Chat.objects.values_list("pk", flat=True)) == {
        leftovers["chat"],
        leftovers["talking"],
    }
    assert list(Bar.objects.all()) == [leftovers["bar"]]
    assert list(DutySession.objects.values_list("channel_name", flat=True)) == ["here"]
    assert list(GroupParticipant.objects.values_list("nickname", flat=True)) == ["Paikalla"]
    assert set(FollowUp.objects.values_list("code_hash", flat=True)) == {"coming", "in-use"}
    assert list(CodeGuess.objects.all()) == [leftovers["guess"]]
    gone = [f"203.0.113.{n}" for n in range(30, 36)]
    for ip in gone:
        # The per-address limit counters of this hour are still in force (docs/privacy.md).
        assert not tables_holding(ip)
        assert tables_holding(security.address_hash(ip)) <= {"chats_addresscounter"}
    assert tables_holding("198.51.100.1") == {"chats_chat"}  # a live chat keeps its address
    assert tables_holding("198.51.100.5") == {"chats_chat"}
    # What was ended or closed was counted first.
    counted = dict(DailyCount.objects.filter(line=open_line).values_list("metric", "count"))
    assert counted["queue_abandoned"] == 2
    unichat = DailyCount.objects.filter(line__slug="unichat")
    assert dict(unichat.values_list("metric", "count")) == {
        "group_sessions": 1,
        "group_participants": 1,
        "group_messages": 1,
    }
    # Two hours on, the live chats are over too, and no hash of any address is left.
    retention.purge_ip_addresses(now=timezone.now() + timedelta(hours=2))
    for ip in [*gone, "198.51.100.1", "198.51.100.5"]:
        assert not tables_holding(ip) and not tables_holding(security.address_hash(ip))


def test_purge_is_safe_to_run_again_and_a_dry_run_changes_nothing(leftovers):
    planned = purged(retention.purge_ip_addresses(dry_run=True))
    assert planned["chats_too_old"] == 2 and planned["bars_expired"] == 1
    assert Chat.objects.count() == 4 and Bar.objects.count() == 2
    assert purged(retention.purge_ip_addresses()) == planned
    assert set(purged(retention.purge_ip_addresses()).values()) == {0}


def test_command_prints_one_count_per_kind(leftovers):
    out = io.StringIO()
    call_command("purge_ip_addresses", stdout=out, no_color=True)
    lines = out.getvalue().splitlines()
    assert len(lines) == len(retention.purge_ip_addresses(dry_run=True)) + 1
    assert "     1  expired bars (address hashes)" in lines
    assert "     2  live chats past the maximum age or with a vanished asker (ended)" in lines
    assert lines[-1] == "10 item(s) removed."


def test_old_login_records_go_when_axes_keeps_them(settings):
    if not apps.is_installed("axes"):
        pytest.skip("django-axes is not installed in this configuration")
    from axes.models import AccessAttempt

    now = timezone.now()
    settings.LOGIN_RECORD_RETENTION_DAYS, settings.AXES_COOLOFF_TIME = 30, timedelta(hours=1)
    for days, ip in ((31, "203.0.113.40"), (1, "198.51.100.40")):
        AccessAttempt.objects.create(
            username="x", ip_address=ip, user_agent="", failures_since_start=1
        )
        AccessAttempt.objects.filter(ip_address=ip).update(attempt_time=now - timedelta(days=days))
    assert purged(retention.purge_ip_addresses())["login_attempts"] == 1
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.40"]


# --- The job runner ----------------------------------------------------------------------------


def helsinki(*args):
    return datetime(*args, tzinfo=HELSINKI)


@pytest.mark.parametrize(
    "after, expected",
    [
        (helsinki(2026, 11, 26, 12), helsinki(2026, 12, 1, 3)),
        (helsinki(2026, 12, 1, 2, 59), helsinki(2026, 12, 1, 3)),
        (helsinki(2026, 12, 1, 3), helsinki(2027, 1, 1, 3)),  # the run itself: next month
        (helsinki(2027, 12, 20), helsinki(2028, 1, 1, 3)),
        (helsinki(2027, 3, 15), helsinki(2027, 4, 1, 3)),  # summer time: 00:00 UTC
    ],
)
def test_purge_is_due_on_the_first_of_each_month_at_3_helsinki(after, expected):
    next_run = jobs.first_of_month_at(time(3))(after)
    assert next_run == expected
    assert next_run.astimezone(HELSINKI).time() == time(3)


def test_runner_runs_the_purge_at_start_then_on_the_first_at_3(lines):
    # The purge alone (the nightly letters sweep has its own test: tests/test_letters.py).
    purge = [job for job in jobs.JOBS if job.name == "purge_ip_addresses"]
    with time_machine.travel(helsinki(2026, 11, 26, 12), tick=False):
        assert jobs.run_due(jobs=purge) == ["purge_ip_addresses"]  # never ran: at once
        assert jobs.run_due(jobs=purge) == []
        assert jobs.seconds_until_next(timezone.now(), purge) == 3600  # sleeps in hours
    with time_machine.travel(helsinki(2026, 12, 1, 2, 59, 30), tick=False):
        assert jobs.run_due(jobs=purge) == []
        assert jobs.seconds_until_next(timezone.now(), purge) == 30
    with time_machine.travel(helsinki(2026, 12, 1, 3), tick=False):
        assert jobs.run_due(jobs=purge) == ["purge_ip_addresses"]
    record = JobRun.objects.get(name="purge_ip_addresses")
    assert record.started_at == helsinki(2026, 12, 1, 3)
    assert "expired bars (address hashes)" in record.output


def test_a_failed_run_is_retried_not_skipped(lines, monkeypatch):
    def broken():
        raise RuntimeError("database went away")

    job = jobs.Job("flaky", jobs.first_of_month_at(time(3)), broken)
    with time_machine.travel(helsinki(2026, 11, 26, 12), tick=False):
        with pytest.raises(RuntimeError):
            jobs.run_due(jobs=[job])
        assert jobs.due(job, timezone.now())
        sleeps = []

        def sleep(seconds):
            sleeps.append(seconds)
            raise KeyboardInterrupt  # leave the endless loop after one round

        with pytest.raises(KeyboardInterrupt):
            jobs.run_forever(sleep, jobs=[job])
        assert sleeps == [60.0]


def test_runjobs_once_runs_what_is_due(lines):
    out = io.StringIO()
    with time_machine.travel(datetime(2026, 11, 26, 10, tzinfo=UTC), tick=False):
        call_command("runjobs", "--once", stdout=out)
        call_command("runjobs", "--once", stdout=out)
    assert out.getvalue().splitlines() == [
        "purge_ip_addresses, clearsessions, sweep_letters, makegroupmeetings ran.",
        "Nothing was due.",
    ]
