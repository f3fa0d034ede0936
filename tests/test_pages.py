"""The pages helpers and coordinators use: where a login lands, the CSV Finnish Excel opens,
the demo mode, and the Finnish admin without English left (issue 20)."""

import pytest
from django.test import Client

from chats.accounts import create_coordinator
from tests.browser import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_helper_lands_in_the_console_and_a_coordinator_in_the_admin(make_helper):
    helper = make_helper()
    create_coordinator("koordinaattori", PASSWORD)

    client = Client()
    landing = client.post(
        "/accounts/login/", {"username": helper.user.username, "password": PASSWORD}, follow=True
    )
    assert landing.redirect_chain[-1][0] == "/console/"
    assert landing.status_code == 200

    client = Client()
    landing = client.post(
        "/accounts/login/", {"username": "koordinaattori", "password": PASSWORD}, follow=True
    )
    assert landing.redirect_chain[-1][0] == "/admin/"
    assert landing.status_code == 200


def test_a_failed_login_says_so_once(db):
    response = Client().post("/accounts/login/", {"username": "nobody", "password": "wrong"})
    page = response.content.decode()
    assert page.count('role="alert"') + page.count("errorlist") == 1
