"""Statistics: the counters a known set of chats leaves, concurrency, exports and suppression."""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone, translation
from django.utils.translation import gettext
from openpyxl import load_workbook

from chats import asking, services, taking
from chats.accounts import create_coordinator
from chats.models import Chat
from stats import export
from stats import services as stats_services
from stats.models import DailyCount
from stats.services import increment
from tests.conftest import in_threads, need_services, on_postgres

pytestmark = pytest.mark.django_db(transaction=True)


def cells(line) -> dict:
    """Every counter of a line, summed over days: {(metric, key): count}."""
    found = {}
    for metric, key, count in DailyCount.objects.filter(line=line).values_list(
        "metric", "key", "count"
    ):
        found[(metric, key)] = found.get((metric, key), 0) + count
    return found


def test_a_known_set_of_chats_leaves_exactly_these_counts(open_line, make_helper):
    professional = make_helper(role="professional")
    peer = make_helper(role="peer")
    t0 = timezone.now() - timedelta(hours=1)

    def asker(minute):
        return asking.enqueue_asker(
            "vakivalta", language="fi", ip=f"203.0.113.{minute}", now=t0 + timedelta(minutes=minute)
        ).chat_id

    a, b, c, d = asker(0), asker(1), asker(2), asker(3)
    # a waits 30 s, talks 3 min, ends it herself.
    taking.accept_next(professional, "vakivalta", now=t0 + timedelta(seconds=30))
    services.end_chat(a, by="asker", now=t0 + timedelta(minutes=3, seconds=30))
    # b waits 3 min, talks 10 min; the peer helper ends it with two topics.
    taking.accept_next(peer, "vakivalta", now=t0 + timedelta(minutes=4))
    services.end_chat_by_helper(peer, b, ["fyysinen", "henkinen"], now=t0 + timedelta(minutes=14))
    # c gives up in the queue; d waits 20 min and vanishes mid-chat: the system ends it.
    services.end_chat(c, by="asker", now=t0 + timedelta(minutes=5))
    taking.accept_next(professional, "vakivalta", now=t0 + timedelta(minutes=23))
    services.end_chat(d, by="system", now=t0 + timedelta(minutes=60))

    assert cells(open_line) == {
        ("chats_started", ""): 4,
        ("contact", "first"): 4,
        ("chats_answered", ""): 3,
        ("queue_abandoned", ""): 1,
        ("answered_by_role", "professional"): 2,
        ("answered_by_role", "peer"): 1,
        ("wait", "<1min"): 1,
        ("wait", "1-5min"): 1,
        ("wait", "15-30min"): 1,
        ("ended_by", "asker"): 1,
        ("ended_by", "helper"): 1,
        ("ended_by", "system"): 1,
        ("duration", "1-5min"): 1,
        ("duration", "5-15min"): 1,
        ("duration", "30min+"): 1,
        ("topic", "fyysinen"): 1,
        ("topic", "henkinen"): 1,
    }
    assert not Chat.objects.exists()


def test_concurrent_increments_of_one_new_cell_lose_nothing_on_postgresql(lines):
    need_services(on_postgres(), "DATABASE_URL does not point at PostgreSQL")
    line, day = lines["vakivalta"], date(2026, 3, 2)

    def work(i):
        for _ in range(25):
            increment(line.pk, day, "topic", "vaino")

    assert in_threads(12, work) == []
    cell = DailyCount.objects.get(line=line, day=day, metric="topic", key="vaino")
    assert cell.count == 12 * 25


def test_many_chats_ending_at_once_are_all_counted_on_postgresql(open_line, make_helper, settings):
    need_services(on_postgres(), "DATABASE_URL does not point at PostgreSQL")
    settings.CHAT_MAX_CHATS_PROFESSIONAL = 16  # one helper holds them all at once
    helper = make_helper()
    now = timezone.now()
    chat_ids = []
    for n in range(16):
        asking.enqueue_asker("vakivalta", language="fi", ip=f"203.0.113.{n}", now=now)
        chat_ids.append(taking.accept_next(helper, "vakivalta", now=now).chat_id)

    def work(i):
        services.end_chat(chat_ids[i], by="helper", topics=["vaino"], now=now)

    assert in_threads(len(chat_ids), work) == []
    counted = cells(open_line)
    assert counted[("ended_by", "helper")] == 16
    assert counted[("topic", "vaino")] == 16
    assert counted[("duration", "<1min")] == 16


# --- Exports -----------------------------------------------------------------------------------

DAY = date(2026, 3, 2)  # a Monday


def fill(line, metric, count, key="", day=DAY):
    DailyCount.objects.create(line=line, day=day, metric=metric, key=key, count=count)


@pytest.fixture
def counted(lines):
    """Two lines, two weeks: a table a coordinator could have after a quiet fortnight."""
    v, e = lines["vakivalta"], lines["ero"]
    for line, started, answered, abandoned in ((v, 20, 17, 3), (e, 9, 9, 0)):
        fill(line, "chats_started", started)
        fill(line, "chats_answered", answered)
        if abandoned:
            fill(line, "queue_abandoned", abandoned)
    fill(v, "wait", 14, "<1min")
    fill(v, "wait", 3, "1-5min")
    fill(e, "wait", 9, "<1min")
    fill(v, "answered_by_role", 10, "professional")
    fill(v, "answered_by_role", 7, "peer")
    fill(e, "answered_by_role", 9, "peer")
    fill(v, "topic", 8, "fyysinen")
    fill(v, "topic", 2, "vaino")
    fill(v, "chats_started", 6, day=DAY + timedelta(days=7))
    fill(e, "chats_started", 1, day=DAY + timedelta(days=8))
    return v, e


def table_of(counted, **kwargs):
    v, e = counted
    return export.build_table([e, v], DAY, DAY + timedelta(days=13), **kwargs)


def find(table, period, metric, key=""):
    return next(
        table.values(row)
        for row in table.rows
        if (row.period, row.metric, row.key) == (period, metric, key)
    )


def test_export_sums_lines_and_periods_with_totals(counted):
    v, e = counted
    table = table_of(counted, period="week")
    assert table.header()[4:] == [v.name, e.name, gettext("Total")]  # lines in their order
    assert find(table, "2026-W10", "chats_started")[4:] == [20, 9, 29]
    assert find(table, "2026-W11", "chats_started")[4:] == [6, 1, 7]
    assert find(table, gettext("total"), "chats_started")[4:] == [26, 10, 36]
    whole = table_of(counted)
    assert find(whole, "2026-03-02..2026-03-15", "topic", "vaino")[4:] == [2, 0, 2]
    assert find(whole, "2026-03-02..2026-03-15", "chats_started")[4:] == [26, 10, 36]


def test_small_counts_are_hidden_and_left_out_of_every_total(counted):
    table = table_of(counted, period="week", suppress_below=5)
    # 3 abandoned is small; chats_started is hidden beside it, or 20 - 17 would give it back.
    assert find(table, "2026-W10", "queue_abandoned")[4:] == ["<5", 0, 0]
    assert find(table, "2026-W10", "chats_started")[4:] == ["x", 9, 9]
    assert find(table, "2026-W10", "chats_answered")[4:] == [17, 9, 26]
    # 3 in a wait bucket: the other bucket is hidden too, or 17 - 14 would give it back.
    assert find(table, "2026-W10", "wait", "1-5min")[4:] == ["<5", 0, 0]
    assert find(table, "2026-W10", "wait", "<1min")[4:] == ["x", 9, 9]
    assert find(table, "2026-W10", "topic", "vaino")[4:] == ["<5", 0, 0]
    assert find(table, "2026-W11", "chats_started")[4:] == [6, "<5", 6]
    # Totals over the weeks add up only what is shown.
    assert find(table, gettext("total"), "chats_started")[4:] == [6, 9, 15]
    assert find(table, gettext("total"), "wait", "1-5min")[4:] == [0, 0, 0]
    for row in table.rows:
        shown = [v for v in table.values(row)[4:-1] if isinstance(v, int)]
        assert sum(shown) == table.values(row)[-1]


def test_no_hidden_count_comes_back_through_a_chain_of_totals(counted):
    v, e = counted
    fill(v, "contact", 20, "first")  # every chat of the violence line was a first contact
    fill(e, "contact", 8, "first")
    fill(e, "contact", 1, "follow_up")
    table = table_of(counted, period="week", suppress_below=5)
    # Hiding "started" beside the small "abandoned" would be undone by first + follow-up = 20.
    assert find(table, "2026-W10", "chats_started")[4] == "x"
    assert find(table, "2026-W10", "contact", "first")[4:] == ["x", "x", 0]
    assert find(table, "2026-W10", "contact", "follow_up")[4:] == [0, "<5", 0]
    week = [row for row in table.rows if row.period == "2026-W10"]
    for total, parts in stats_services.RELATIONS:
        for column in range(2):
            counted = [row.cells[column] for row in week if row.metric in parts]
            if not any(cell.value for cell in counted):
                continue  # the line does not count these parts: no relation to protect
            related = counted + [row.cells[column] for row in week if row.metric == total]
            assert sum(1 for cell in related if cell.hidden) != 1, (total, parts, column)


def test_nothing_is_hidden_when_suppression_is_off(counted):
    table = table_of(counted, period="week", suppress_below=0)
    assert not table.hidden_any
    assert find(table, "2026-W10", "queue_abandoned")[4:] == [3, 0, 3]


def test_csv_and_excel_files_open_and_add_up(counted):
    table = table_of(counted, period="week", suppress_below=5)
    rows = list(csv.reader(io.StringIO(export.table_csv(table).decode("utf-8-sig"))))
    book = load_workbook(io.BytesIO(export.table_xlsx(table)))
    sheet = book.worksheets[0]
    xlsx_rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == xlsx_rows[0] == table.header()
    assert len(rows) == len(xlsx_rows) == len(table.rows) + 1
    for csv_row, xlsx_row in zip(rows[1:], xlsx_rows[1:], strict=True):
        numbers = [int(v) for v in csv_row[4:-1] if v.isdigit()]
        assert sum(numbers) == int(csv_row[-1])
        assert sum(v for v in xlsx_row[4:-1] if isinstance(v, int)) == xlsx_row[-1]
        assert [str(v) for v in xlsx_row[4:]] == csv_row[4:]
    assert "<5" in {v for row in xlsx_rows for v in row}
    about = " ".join(str(c) for row in book.worksheets[1].iter_rows(values_only=True) for c in row)
    assert "<5" in about and "vakivalta" in about


def test_text_that_looks_like_a_formula_stays_text():
    header = ["text"]
    rows = [['=HYPERLINK("http://evil")'], ["+1"], ["ok"]]
    sheet = load_workbook(io.BytesIO(export.rows_to_xlsx([("s", header, rows)]))).active
    assert [cell.data_type for cell in sheet["A"][1:]] == ["s", "s", "s"]
    assert list(csv.reader(io.StringIO(export.rows_to_csv(header, rows).decode("utf-8-sig"))))[
        1:
    ] == [['\'=HYPERLINK("http://evil")'], ["'+1"], ["ok"]]


# --- The admin pages ---------------------------------------------------------------------------


@pytest.fixture
def coordinator_client(client, lines):
    client.force_login(create_coordinator("koordinaattori", "correct horse battery"))
    return client


def test_coordinator_downloads_csv_and_excel_from_admin(coordinator_client, counted):
    v, e = counted
    query = {"first": "2026-03-01", "last": "2026-03-31", "lines": [v.pk], "period": "all"}
    index = coordinator_client.get("/admin/")
    assert b"/admin/stats/statisticsexport/" in index.content
    assert b"/admin/stats/statisticschart/" in index.content

    page = coordinator_client.get("/admin/stats/statisticsexport/", {**query, "suppress": "on"})
    assert page.status_code == 200 and "&lt;5" in page.content.decode()

    response = coordinator_client.get(
        "/admin/stats/statisticsexport/", {**query, "suppress": "on", "format": "csv"}
    )
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="verkkoapu-2026-03-01-2026-03-31.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    with translation.override("fi"):
        assert rows[0][4:] == [v.name, gettext("Total")]  # only the chosen line
    assert next(r[4:] for r in rows if r[1] == "chats_answered") == ["17", "17"]
    assert next(r[4:] for r in rows if r[1] == "queue_abandoned") == ["<5", "0"]

    response = coordinator_client.get("/admin/stats/statisticsexport/", {**query, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    abandoned = next(r for r in sheet.iter_rows(values_only=True) if r[1] == "queue_abandoned")
    assert abandoned[4:] == (3, 3)  # shown: the box was not ticked


def test_export_refuses_a_range_that_ends_before_it_starts(coordinator_client):
    page = coordinator_client.get(
        "/admin/stats/statisticsexport/", {"first": "2026-03-10", "last": "2026-03-01"}
    )
    assert page.status_code == 200
    assert page.context["form"].errors and "table" not in page.context


def test_statistics_pages_are_for_coordinators_only(client, make_helper, counted):
    helper = make_helper()
    client.force_login(helper.user)
    for url in ("/admin/stats/statisticsexport/", "/admin/stats/statisticschart/"):
        assert client.get(url).status_code == 302  # not staff: to the admin login
    helper.user.is_staff = True  # staff, but without the statistics permissions
    helper.user.save()
    for url in ("/admin/stats/statisticsexport/", "/admin/stats/statisticschart/"):
        assert client.get(url).status_code == 403
    client.logout()
    assert client.get("/admin/stats/statisticschart/").status_code == 302


def test_chart_page_draws_weeks_and_topics_without_inline_script_or_style(
    coordinator_client, counted
):
    page = coordinator_client.get(
        "/admin/stats/statisticschart/", {"first": "2026-03-02", "last": "2026-03-15"}
    )
    html = page.content.decode()
    assert page.status_code == 200
    weekly = html.split('class="chart chart-weekly"', 1)[1].split("</svg>", 1)[0]
    assert weekly.count('<rect class="bar"') == 2  # two weeks
    assert "<td>10/2026</td><td>29</td>" in html and "<td>11/2026</td><td>7</td>" in html
    assert "Fyysinen väkivalta" in html
    assert " style=" not in html
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))
    # SVG coordinates are written with a decimal point even in Finnish.
    assert not re.search(r'(x|y|width|height)="[^"]*\d,\d', html)


def test_chart_page_defaults_to_the_last_twelve_weeks_in_iso_dates(coordinator_client, counted):
    with time_machine.travel(datetime(2026, 3, 15, 12, tzinfo=UTC)):
        html = coordinator_client.get("/admin/stats/statisticschart/").content.decode()
    # A date input takes ISO dates only, whatever the language of the page.
    assert 'name="first" value="2025-12-22"' in html and 'name="last" value="2026-03-15"' in html
    assert html.count('<rect class="bar"') >= 12
