"""Anonymous feedback: no cookie, no link to a chat, a helper, a token, an address or a time."""

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.cache import cache
from openpyxl import load_workbook

from chats.accounts import create_coordinator
from feedback.models import Feedback
from tests.conftest import all_text_in_database

pytestmark = pytest.mark.django_db

ANSWER = {"rating": "4", "got_help": "partly", "would_use_again": "yes", "text": "Kiitos avusta"}


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


def send(client, slug="vakivalta", data=ANSWER, ip="203.0.113.77", **extra):
    return client.post(f"/feedback/{slug}/", data, REMOTE_ADDR=ip, **extra)


def test_the_model_has_no_field_that_could_link_feedback_to_anyone():
    fields = {field.name: type(field).__name__ for field in Feedback._meta.get_fields()}
    assert fields == {
        "id": "UUIDField",  # random: not even the order of the rows says when
        "line": "ForeignKey",
        "month": "DateField",
        "rating": "PositiveSmallIntegerField",
        "got_help": "CharField",
        "would_use_again": "CharField",
        "text": "TextField",
    }
    assert Feedback._meta.get_field("line").related_model._meta.label == "chats.ServiceLine"


def test_feedback_is_saved_with_line_and_month_only_and_no_cookie(client, lines):
    page = client.get("/feedback/vakivalta/")
    assert page.status_code == 200 and "Apua väkivaltaan" in page.content.decode()
    assert not page.cookies and "csrfmiddlewaretoken" not in page.content.decode()

    # 23:30 UTC on 31 March is already April in Helsinki.
    with time_machine.travel(datetime(2026, 3, 31, 21, 30, tzinfo=UTC)):
        sent = send(client)
    assert sent.status_code == 302 and not sent.cookies
    thanks = client.get(sent["Location"])
    assert thanks.status_code == 200 and not thanks.cookies
    assert not client.cookies

    saved = Feedback.objects.get()
    assert (saved.line.slug, saved.month) == ("vakivalta", date(2026, 4, 1))
    assert (saved.rating, saved.got_help, saved.would_use_again) == (4, "partly", "yes")
    assert saved.text == "Kiitos avusta"
    stored = all_text_in_database()
    assert "203.0.113.77" not in stored
    # No trace of the moment it was sent, in UTC or in Helsinki time, in any table. (A bare
    # "21:30" is not enough: django_migrations' timestamps hold it whenever the suite's
    # database was migrated at hh:21:30 or hh:mm:21.30.)
    assert not re.search(r"2026-0(3-31|4-01)[ T](21|00):30", stored)
    assert "2026-03-31" not in stored


def test_an_empty_or_oversized_answer_is_refused(client, lines):
    assert send(client, data={}).status_code == 400
    too_long = {**ANSWER, "text": "x" * 2001}
    assert send(client, data=too_long).status_code == 400
    assert send(client, data={"rating": "9"}).status_code == 400
    huge = client.post(
        "/feedback/vakivalta/",
        data="text=" + "x" * 70_000,
        content_type="application/x-www-form-urlencoded",
    )
    assert huge.status_code == 413
    assert not Feedback.objects.exists()


def test_unknown_line_is_404(client, lines):
    assert client.get("/feedback/ei-ole/").status_code == 404


def test_one_address_is_slowed_down_and_the_address_is_not_kept(client, lines, settings):
    settings.FEEDBACK_RATE_LIMIT = 2
    assert send(client).status_code == 302
    assert send(client).status_code == 302
    assert send(client).status_code == 429
    assert send(client, ip="198.51.100.5").status_code == 302
    assert Feedback.objects.count() == 3
    # The limiter's cache holds a keyed hash, never the address (local memory or Redis).
    store = cache._cache
    if isinstance(store, dict):
        keys = " ".join(str(key) for key in store)
    else:
        keys = " ".join(key.decode() for key in store.get_client().keys("*"))
    assert "feedback-rate" in keys and "203.0.113.77" not in keys


def test_coordinator_reads_the_text_as_text_and_exports_it(client, lines):
    hostile = '=HYPERLINK("http://evil")<script>alert(1)</script>'
    send(client, data={**ANSWER, "text": hostile})
    client.force_login(create_coordinator("koordinaattori", "correct horse battery"))

    listing = client.get("/admin/feedback/feedback/").content.decode()
    assert "<script>alert(1)" not in listing and "&lt;script&gt;alert(1)" in listing
    item = Feedback.objects.get()
    detail = client.get(f"/admin/feedback/feedback/{item.pk}/change/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail

    action = {"action": "export_csv", "_selected_action": [str(item.pk)]}
    response = client.post("/admin/feedback/feedback/", action)
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][:3] == [f"{item.month:%Y-%m}", "vakivalta", "4"]
    assert rows[1][-1] == "'" + hostile  # a spreadsheet shows it, never runs it

    response = client.post("/admin/feedback/feedback/", {**action, "action": "export_xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["F2"].value == hostile and sheet["F2"].data_type == "s"
