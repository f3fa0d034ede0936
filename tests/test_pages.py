"""The pages helpers and coordinators use: where a login lands, the CSV Finnish Excel opens,
the demo mode, and the Finnish admin without English left (issue 20)."""

import re

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


@pytest.fixture
def coordinator(lines):
    client = Client()
    client.force_login(create_coordinator("koordinaattori", PASSWORD))
    return client


def test_the_statistics_csv_for_excel_splits_at_semicolons(coordinator, lines):
    from datetime import date

    from stats.models import DailyCount

    line = lines["vakivalta"]
    DailyCount.objects.create(line=line, day=date(2026, 3, 2), metric="chats_started", count=12)
    query = {"first": "2026-03-01", "last": "2026-03-31", "lines": [line.pk], "period": "all"}
    page = coordinator.get("/admin/stats/statisticsexport/").content.decode()
    assert 'value="excel-fi"' in page

    response = coordinator.get("/admin/stats/statisticsexport/", {**query, "format": "excel-fi"})
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())  # the BOM: Excel reads UTF-8
    lines_of_file = response.content.decode("utf-8-sig").splitlines()
    assert lines_of_file[0].count(";") == 5 and "," not in lines_of_file[0]
    started = next(row for row in lines_of_file if row.split(";")[1] == "chats_started")
    assert started.split(";")[4:] == ["12", "12"]

    # The documented comma CSV stays as it was.
    comma = coordinator.get("/admin/stats/statisticsexport/", {**query, "format": "csv"})
    assert comma.content.decode("utf-8-sig").splitlines()[0].count(",") == 5


def test_decimal_numbers_get_a_decimal_comma_for_excel():
    from stats.export import EXCEL_FI, rows_to_csv

    text = rows_to_csv(["a", "b"], [[1.5, "x;y"]], EXCEL_FI).decode("utf-8-sig")
    assert text.splitlines() == ["a;b", '1,5;"x;y"']


def test_demo_mode_opens_every_line_makes_the_accounts_and_marks_the_pages(lines, settings):
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    from chats.models import ServiceLine
    from scheduling import services as hours

    settings.PRODUCTION = False
    one_to_one = ServiceLine.objects.filter(active=True, kind=ServiceLine.Kind.ONE_TO_ONE)
    night = timezone.localtime().replace(hour=23, minute=30)
    assert not all(hours.line_status(line, night).open for line in one_to_one)
    assert 'class="demo-banner"' not in Client().get("/").content.decode()

    out = StringIO()
    call_command("demo", stdout=out)
    printed = out.getvalue()
    assert "http://127.0.0.1:8000/accounts/login/" in printed
    assert all(hours.line_status(line, night).open for line in one_to_one)
    password = printed.split("demo-koordinaattori / ")[1].split()[0]
    client = Client()
    landing = client.post(
        "/accounts/login/",
        {"username": "demo-koordinaattori", "password": password},
        follow=True,
    )
    assert landing.redirect_chain[-1][0] == "/admin/"
    assert 'class="demo-banner"' in landing.content.decode()
    assert 'class="demo-banner"' in Client().get("/").content.decode()
    helper_password = printed.split("demo-auttaja / ")[1].split()[0]
    assert Client().login(username="demo-auttaja", password=helper_password)

    call_command("demo", "--off", stdout=StringIO())
    assert not all(hours.line_status(line, night).open for line in one_to_one)
    assert 'class="demo-banner"' not in Client().get("/").content.decode()
    assert not Client().login(username="demo-auttaja", password=helper_password)


def test_the_guides_are_linked_from_the_admin_and_shown_to_staff(coordinator, make_helper):
    index = coordinator.get("/admin/").content.decode()
    assert "/admin/guides/guide-coordinator.fi" in index
    page = coordinator.get("/admin/guides/guide-coordinator.fi").content.decode()
    assert "<h1>Koordinaattorin opas</h1>" in page
    assert 'src="screenshots/admin-rota-desktop.png"' in page
    helper = Client()
    helper.force_login(make_helper().user)
    assert helper.get("/admin/guides/guide-helper.fi").status_code == 200
    assert coordinator.get("/admin/guides/screenshots/..%2Fsecurity.md").status_code == 404
    assert coordinator.get("/admin/guides/nothing").status_code == 404
    assert Client().get("/admin/guides/guide-helper.fi").status_code == 302  # to the login


def test_the_finnish_admin_has_no_english_left(coordinator, lines):
    listing = coordinator.get("/admin/chats/serviceline/").content.decode()
    assert "Select an option" not in listing and "– Valitse –" in listing
    assert ">Run<" not in listing and "Suorita" in listing
    assert "Verkkoapu – ylläpito" in listing and "Djangon" not in listing
    shifts = coordinator.get("/admin/scheduling/shiftbooking/").content.decode()
    assert "Filter by" not in shifts and "Suodata: päivä" in shifts
    line = coordinator.get(f"/admin/chats/serviceline/{lines['vakivalta'].pk}/change/")
    headers = " ".join(re.findall(r"<th[^>]*>(.*?)</th>", line.content.decode(), re.S)).lower()
    for english in ("weekday", "opens", "closes", "slug", "order"):
        assert not re.search(rf"\b{english}\b", headers), english
    script = coordinator.get("/admin/jsi18n/").content.decode()
    assert "Valitse %s valitsemalla ne" in script  # the two-list selector's help


def test_inputs_in_lists_and_inlines_are_named(coordinator, lines):
    page = coordinator.get("/admin/chats/serviceline/").content.decode()
    editable = re.findall(r'<input[^>]*name="form-\d+-active"[^>]*>', page)
    assert editable and all('aria-label="' in tag for tag in editable)
    line = coordinator.get(f"/admin/chats/serviceline/{lines['vakivalta'].pk}/change/")
    inline = re.findall(r'<(?:input|select)[^>]*name="opening_hours-\d+-\w+"[^>]*>', line.text)
    visible = [tag for tag in inline if 'type="hidden"' not in tag]
    assert visible and all('aria-label="' in tag for tag in visible)


def test_nobody_deletes_statistics_counters(coordinator, lines):
    from datetime import date

    from stats.models import DailyCount

    count = DailyCount.objects.create(
        line=lines["vakivalta"], day=date(2026, 3, 2), metric="chats_started", count=12
    )
    page = coordinator.get("/admin/stats/dailycount/").content.decode()
    assert "delete_selected" not in page
    assert coordinator.post(f"/admin/stats/dailycount/{count.pk}/delete/").status_code in (
        403,
        404,
    )
    assert DailyCount.objects.filter(pk=count.pk).exists()


def test_feedback_is_filtered_by_month_not_by_today(coordinator, lines):
    from datetime import date

    from feedback.models import Feedback

    Feedback.objects.create(line=lines["vakivalta"], month=date(2026, 11, 1), rating=4)
    Feedback.objects.create(line=lines["vakivalta"], month=date(2026, 12, 1), rating=2)
    page = coordinator.get("/admin/feedback/feedback/").content.decode()
    assert "Tänään" not in page and "?month=2026-11" in page
    november = coordinator.get("/admin/feedback/feedback/", {"month": "2026-11"})
    assert [item.rating for item in november.context["cl"].result_list] == [4]
    assert coordinator.get("/admin/feedback/feedback/", {"month": "x-y"}).status_code == 200
