"""Limits that hold under concurrency (docs/security.md): an attempt is reserved atomically before
the password or the code is checked, so attempts sent all at once, each on its own database
connection, never get more checks than the limit. On SQLite here, on PostgreSQL in the services
run (DATABASE_URL)."""

import threading

import pytest
from django.conf import settings
from django.contrib.auth import base_user
from django.test import Client

from chats import followups
from chats.services import ChatError
from tests.conftest import in_threads

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "oikea-salasana-2027!"
ATTACKER = "2001:db8:66:1::{:x}"  # one /64, a new address for every attempt


@pytest.fixture
def password_checks(monkeypatch):
    """How many times a password was checked, whichever thread checked it."""
    checks = []
    lock = threading.Lock()
    real = base_user.check_password

    def counted(*args, **kwargs):
        with lock:
            checks.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(base_user, "check_password", counted)
    return checks


def log_in(password, ip, username):
    return Client().post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_forty_simultaneous_logins_get_at_most_the_limit_of_password_checks(
    make_helper, password_checks
):
    helper = make_helper()
    helper.user.set_password(PASSWORD)
    helper.user.save()
    name = helper.user.username
    answers = []

    def work(i):
        answers.append(log_in("väärä!", ATTACKER.format(i + 1), name))

    assert in_threads(40, work) == []
    assert len(password_checks) <= settings.AXES_FAILURE_LIMIT
    assert sum(answer.status_code == 429 for answer in answers) >= 40 - len(password_checks)
    # Locked: the right password now, from the same /64, is refused and not even checked.
    checked = len(password_checks)
    answer = log_in(PASSWORD, ATTACKER.format(999), name)
    assert answer.status_code == 429 and "_auth_user_id" not in answer.client.session
    assert len(password_checks) == checked
    # The same person from another network still logs in.
    assert log_in(PASSWORD, "198.51.100.40", name).status_code == 302


def test_simultaneous_logins_for_many_usernames_from_one_address_are_limited(
    make_helper, password_checks, settings
):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 8
    names = [make_helper().user.username for _ in range(4)]

    def work(i):
        log_in("väärä!", ATTACKER.format(i + 1), names[i % 4])

    assert in_threads(40, work) == []
    assert len(password_checks) <= 8


def test_twenty_simultaneous_code_guesses_get_at_most_the_limit(lines, settings):
    settings.FOLLOW_UP_GUESS_LIMIT = 10
    looked_up, refused = [], []

    def work(i):
        try:
            followups.enqueue_with_code(
                "vakivalta", followups.new_code(), language="fi", ip=ATTACKER.format(i + 1)
            )
        except ChatError as error:
            (looked_up if error.code == "not_found" else refused).append(error.code)

    assert in_threads(20, work) == []
    assert len(looked_up) == 10 and refused == ["rate_limited"] * 10
