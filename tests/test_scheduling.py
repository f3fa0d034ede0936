"""The chat obeys the calendar, and helpers book shifts: scheduling/services.py and its users.

Enforcement runs at a frozen time (time-machine): Tuesday 1.12.2026, the violence line is open
weekdays 12–18 as seeded.
"""

import re
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from io import StringIO

import pytest
import time_machine
from asgiref.sync import sync_to_async
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from chats import asking, services, sweeps
from chats.models import Chat
from scheduling import rota
from scheduling.hours import HELSINKI
from scheduling.models import Debrief, ShiftBooking, ShiftSlot
from scheduling.services import BookingError, book_shift, record_debrief, shift_containing
from tests.conftest import ROOT, next_frame, pair, server_env, start

TUESDAY = date(2026, 12, 1)


@pytest.fixture(autouse=True)
def english(client):
    """Reasons are checked in English, the msgid, whatever catalogs exist for Finnish."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with translation.override("en"):
        yield


def helsinki(hour, minute=0, second=0, day=TUESDAY):
    return datetime.combine(day, time(hour, minute, second), tzinfo=HELSINKI)


# --- Enforcement at the line's hours -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_start_before_noon_is_closed_with_todays_noon(lines, asker_socket):
    with time_machine.travel(helsinki(11, 0), tick=False):
        asker = await asker_socket(lines["vakivalta"])
        assert await start(asker) == {"type": "closed", "opens_at": "2026-12-01T12:00:00+02:00"}
    assert not await sync_to_async(Chat.objects.exists)()


@pytest.mark.django_db(transaction=True)
async def test_at_closing_time_queued_askers_are_served_and_newcomers_are_not(
    lines, make_helper, asker_socket, helper_socket
):
    line = lines["vakivalta"]
    with time_machine.travel(helsinki(17, 59), tick=False) as traveller:
        first = await asker_socket(line, ip="203.0.113.1")
        second = await asker_socket(line, ip="203.0.113.2")
        assert (await start(first))["type"] == "queued"

        traveller.move_to(helsinki(17, 59, 30))
        console = await helper_socket(await sync_to_async(make_helper)(name="Iltavuoro"))
        await next_frame(console, "follow_ups")  # the last frame of connecting: on duty now
        # With nobody on duty half a minute before closing the second asker would have been
        # refused with queue_full (the cut-off, docs/workflow.md); a free helper takes them.
        assert (await start(second))["position"] == 2

        traveller.move_to(helsinki(18, 0))
        newcomer = await asker_socket(line, ip="203.0.113.3")
        assert await start(newcomer) == {
            "type": "closed",
            "opens_at": "2026-12-02T12:00:00+02:00",
        }
        # The sweep after closing leaves them alone: a helper of the line is on duty.
        await sync_to_async(sweeps.sweep)(now=helsinki(18, 0, 30))
        assert await sync_to_async(Chat.objects.queued().count)() == 2

        chat = await pair(console)
        assert (await next_frame(first, "assigned"))["helper"]["name"] == "Iltavuoro"
        await first.send_json_to({"type": "message", "text": "Ehdinkö vielä?"})
        assert (await next_frame(console, "message"))["chat"] == chat
        await console.send_json_to({"type": "message", "chat": chat, "text": "Ehdit."})
        assert (await next_frame(first, "message"))["sender"] == "asker"  # the own echo
        assert (await next_frame(first, "message", "ended"))["text"] == "Ehdit."

        await console.send_json_to({"type": "accept_next", "service": "vakivalta"})
        await next_frame(console, "assigned")
        assert (await next_frame(second, "assigned"))["type"] == "assigned"


@pytest.mark.django_db(transaction=True)
async def test_queued_asker_is_told_plainly_when_nobody_is_left_after_closing(lines, asker_socket):
    with time_machine.travel(helsinki(17, 59), tick=False) as traveller:
        asker = await asker_socket(lines["vakivalta"])
        assert (await start(asker))["type"] == "queued"
        # Before closing the queue waits for a helper, even with nobody on duty.
        await sync_to_async(sweeps.sweep)(now=helsinki(17, 59, 30))
        assert await sync_to_async(Chat.objects.queued().count)() == 1

        traveller.move_to(helsinki(18, 0, 10))
        await sync_to_async(sweeps.sweep)(now=helsinki(18, 0, 10))
        told = await next_frame(asker, "message")
        assert told["sender"] == "system"
        assert "2. joulukuuta 2026" in told["text"]  # when the line opens again
        assert await next_frame(asker, "ended") == {"type": "ended", "by": "system"}
    assert not await sync_to_async(Chat.objects.exists)()


@pytest.mark.django_db
def test_after_closing_a_dropped_helper_keeps_the_queue_only_for_the_grace_period(
    lines, make_helper, settings
):
    grace = timedelta(seconds=settings.CHAT_HELPER_GRACE_SECONDS)
    waiting = asking.enqueue_asker("vakivalta", language="fi", ip=None, now=helsinki(17, 59))
    own = make_helper()
    other_line = make_helper(services=("ero",))
    services.start_duty(own, "own-console", now=helsinki(17, 59))
    services.start_duty(other_line, "ero-console", now=helsinki(17, 59))
    services.end_duty("own-console", now=helsinki(18, 0))  # a page reload, or leaving?

    just_after = helsinki(18, 0) + grace / 2
    services.touch_asker(waiting.chat_id, now=just_after)
    services.touch_duty("ero-console", now=just_after)
    sweeps.sweep(now=just_after)
    assert Chat.objects.filter(pk=waiting.chat_id).exists()

    # The grace is over; a helper of another line being there does not serve this one.
    later = helsinki(18, 0) + grace + timedelta(seconds=1)
    services.touch_asker(waiting.chat_id, now=later)
    services.touch_duty("ero-console", now=later)
    assert sweeps.sweep(now=later)["ended"] == 1
    assert not Chat.objects.filter(pk=waiting.chat_id).exists()


@pytest.mark.django_db
def test_open_line_without_helpers_keeps_its_queue(lines, settings):
    waiting = asking.enqueue_asker("vakivalta", language="fi", ip=None, now=helsinki(13, 0))
    services.touch_asker(waiting.chat_id, now=helsinki(13, 1))
    assert sweeps.sweep(now=helsinki(13, 1))["ended"] == 0
    assert Chat.objects.filter(pk=waiting.chat_id).exists()


# --- Booking -----------------------------------------------------------------------------------

WEDNESDAY = date(2026, 12, 2)


@pytest.fixture
def frozen():
    """Tuesday 1.12.2026 at 10:00 in Helsinki."""
    with time_machine.travel(helsinki(10, 0), tick=False) as traveller:
        yield traveller


@pytest.mark.django_db
def test_helper_books_a_slot_once_and_a_double_booking_is_refused(lines, make_helper, frozen):
    anna = make_helper(role="peer", name="Anna")
    booking = book_shift(anna, "vakivalta", WEDNESDAY, "12-14")
    assert (booking.slot.line.slug, booking.slot.label, booking.day) == (
        "vakivalta",
        "12-14",
        WEDNESDAY,
    )
    with pytest.raises(BookingError, match="already booked vakivalta 12-14 on 02.12.2026"):
        book_shift(anna, lines["vakivalta"], WEDNESDAY, "12:00–14:00")
    assert ShiftBooking.objects.count() == 1
    # Another helper on the same slot is fine: that is the point of a shift.
    book_shift(make_helper(name="Bea"), "vakivalta", WEDNESDAY, booking.slot)
    assert ShiftBooking.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("service", "day", "slot", "reason"),
    [
        ("ero", WEDNESDAY, "12-14", "not a helper of ero"),
        ("ei-ole", WEDNESDAY, "12-14", "Unknown service 'ei-ole'"),
        ("unichat", WEDNESDAY, "12-14", "Unknown service 'unichat'"),
        ("vakivalta", WEDNESDAY, "12-13", "slots are: 12-14, 14-16, 16-18"),
        ("vakivalta", WEDNESDAY, "noon", "write it like 12-14"),
        ("vakivalta", date(2026, 11, 30), "12-14", "30.11.2026 is in the past"),
        ("lapset-nuoret", WEDNESDAY, "12-14", "slots are: 15-16, 16-18"),
    ],
)
def test_booking_refusals_say_why_and_change_nothing(
    lines, make_helper, frozen, service, day, slot, reason
):
    helper = make_helper(services=("vakivalta", "lapset-nuoret"))
    with pytest.raises(BookingError, match=reason):
        book_shift(helper, service, day, slot)
    assert not ShiftBooking.objects.exists()


@pytest.mark.django_db
def test_todays_slot_can_be_booked_until_it_ends(lines, make_helper, frozen):
    helper = make_helper()
    frozen.move_to(helsinki(13, 0))
    book_shift(helper, "vakivalta", TUESDAY, "12-14")  # under way: still bookable
    frozen.move_to(helsinki(14, 0))
    with pytest.raises(BookingError, match="The shift 12-14 on 01.12.2026 is already over"):
        book_shift(make_helper(), "vakivalta", TUESDAY, "12-14")
    book_shift(helper, "vakivalta", TUESDAY, "14-16")  # the next one is fine


@pytest.mark.django_db
def test_slots_refuse_end_before_start_and_overlaps(lines):
    line = lines["vakivalta"]
    with pytest.raises(ValidationError, match="end after it starts"):
        ShiftSlot(line=line, starts=time(14), ends=time(12)).full_clean()
    with pytest.raises(ValidationError, match="overlaps the slot 12-14"):
        ShiftSlot(line=line, starts=time(13), ends=time(15)).full_clean()
    ShiftSlot(line=line, starts=time(18), ends=time(0)).full_clean()  # until midnight is fine
    ShiftSlot(line=lines["ero"], starts=time(13), ends=time(15), active=False).full_clean()


@pytest.mark.django_db
def test_shift_containing_joins_back_to_back_slots_and_ends_exclusive(lines, make_helper, frozen):
    helper = make_helper(services=("vakivalta", "ero"))
    line = lines["vakivalta"]
    book_shift(helper, line, WEDNESDAY, "12-14")
    book_shift(helper, line, WEDNESDAY, "14-16")
    book_shift(helper, "ero", WEDNESDAY, "16-18")
    whole = (helsinki(12, day=WEDNESDAY), helsinki(16, day=WEDNESDAY))
    assert shift_containing(helper, line, helsinki(12, day=WEDNESDAY)) == whole
    assert shift_containing(helper, line, helsinki(15, 59, day=WEDNESDAY)) == whole
    assert shift_containing(helper, line, helsinki(16, day=WEDNESDAY)) is None
    assert shift_containing(helper, line, helsinki(11, 59, day=WEDNESDAY)) is None
    assert shift_containing(helper, line, helsinki(17, day=WEDNESDAY)) is None  # that is ero
    assert shift_containing(make_helper(), line, helsinki(13, day=WEDNESDAY)) is None


@pytest.mark.django_db
def test_a_slot_until_midnight_contains_the_last_minute_of_the_day(lines, make_helper, frozen):
    line = lines["vakivalta"]
    late = ShiftSlot.objects.create(line=line, starts=time(22), ends=time(0))
    helper = make_helper()
    book_shift(helper, line, WEDNESDAY, late)
    assert late.label == "22-24"
    assert shift_containing(helper, line, helsinki(23, 59, day=WEDNESDAY)) == (
        helsinki(22, day=WEDNESDAY),
        helsinki(0, day=WEDNESDAY + timedelta(days=1)),
    )


@pytest.mark.django_db
def test_peer_only_slot_needs_a_professional_until_one_books(lines, make_helper, frozen):
    line = lines["vakivalta"]
    book_shift(make_helper(role="peer", name="Pia"), line, WEDNESDAY, "12-14")
    book_shift(make_helper(role="professional", name="Olli"), line, WEDNESDAY, "14-16")

    def cells():
        calendar = rota.line_calendar(line, WEDNESDAY, 1)
        return {cell.slot.label: cell for cell in calendar.days[0].cells}

    assert cells()["12-14"].needs_professional
    assert not cells()["14-16"].needs_professional  # a professional alone is no gap
    assert not cells()["16-18"].needs_professional  # nobody at all is another matter
    assert [cell.slot.label for cell in rota.line_calendar(line, WEDNESDAY, 1).gaps] == ["12-14"]
    book_shift(make_helper(role="professional"), line, WEDNESDAY, "12-14")
    assert not cells()["12-14"].needs_professional


@pytest.mark.django_db
def test_monthly_report_counts_each_peers_shifts_and_flags_those_below_minimum(
    lines, make_helper, settings
):
    settings.SCHEDULING_PEER_MIN_SHIFTS_PER_MONTH = 2
    slot = ShiftSlot.objects.get(line=lines["vakivalta"], starts=time(12))
    other = ShiftSlot.objects.get(line=lines["vakivalta"], starts=time(14))
    busy = make_helper(role="peer", name="Aino")
    rare = make_helper(role="peer", name="Bertta")
    make_helper(role="peer", name="Cecilia")  # no shifts at all
    pro = make_helper(role="professional", name="Olli")
    for helper, day, on in [
        (busy, date(2026, 10, 5), slot),
        (busy, date(2026, 10, 5), other),  # two slots on one day are two shifts
        (busy, date(2026, 10, 31), slot),
        (busy, date(2026, 11, 2), slot),
        (busy, date(2026, 11, 3), slot),
        (rare, date(2026, 11, 30), slot),
        (rare, date(2026, 12, 1), slot),  # the next month: not counted in November
        (pro, date(2026, 11, 4), slot),  # professionals are not in the report
    ]:
        ShiftBooking.objects.create(helper=helper, day=day, slot=on)
    months = rota.month_starts(date(2026, 11, 15), 2)
    assert months == [date(2026, 10, 1), date(2026, 11, 1)]
    report = {
        row.helper.display_name: (row.counts, row.below) for row in rota.peer_commitment(months)
    }
    assert report == {
        "Aino": ([3, 2], [False, False]),
        "Bertta": ([0, 1], [True, True]),
        "Cecilia": ([0, 0], [True, True]),
    }
    by_line = rota.peer_commitment(months, line=lines["ero"])
    assert by_line == []  # nobody is a peer of that line


def test_month_starts_cross_the_new_year():
    assert rota.month_starts(date(2027, 2, 10), 4) == [
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]


# --- The bookshift command ---------------------------------------------------------------------


@pytest.mark.django_db
def test_bookshift_books_and_says_so(lines, make_helper, frozen):
    helper = make_helper(name="Anna")
    out = StringIO()
    call_command(
        "bookshift",
        helper.user.username,
        "--service",
        "vakivalta",
        "--date",
        "2026-12-02",
        "--slot",
        "12-14",
        stdout=out,
    )
    assert out.getvalue().strip() == "Booked vakivalta 12-14 on 2026-12-02 for Anna."
    assert ShiftBooking.objects.get().helper == helper


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "args", "reason"),
    [
        ("nobody", ["--date", "2026-12-02", "--slot", "12-14"], "Unknown helper 'nobody'."),
        (None, ["--date", "2.12.2026", "--slot", "12-14"], "Cannot read the date '2.12.2026'"),
        (None, ["--date", "2026-12-02", "--slot", "12-15"], "vakivalta has no slot '12-15'"),
        (None, ["--date", "2026-11-30", "--slot", "12-14"], "30.11.2026 is in the past."),
    ],
)
def test_bookshift_refuses_bad_input_and_changes_nothing(
    lines, make_helper, frozen, username, args, reason
):
    helper = make_helper()
    with pytest.raises(CommandError, match=re.escape(reason)):
        call_command("bookshift", username or helper.user.username, "--service", "vakivalta", *args)
    assert not ShiftBooking.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_bookshift_double_booking_exits_non_zero_with_one_line(lines, make_helper):
    helper = make_helper()
    day = (timezone.localdate() + timedelta(days=7)).isoformat()
    command = [
        sys.executable,
        "manage.py",
        "bookshift",
        helper.user.username,
        "--service",
        "vakivalta",
        "--date",
        day,
        "--slot",
        "14-16",
    ]

    def run(*extra):
        return subprocess.run(
            command + list(extra),
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=server_env(redis_url=""),
        )

    assert run().returncode == 0
    again = run()
    assert again.returncode != 0
    assert again.stderr.strip().splitlines() == [
        f"CommandError: {helper.display_name} has already booked vakivalta 14-16 "
        f"on {date.fromisoformat(day):%d.%m.%Y}."
    ]
    missing = subprocess.run(
        command[:-2], cwd=ROOT, capture_output=True, text=True, env=server_env(redis_url="")
    )
    assert missing.returncode != 0
    assert len(missing.stderr.strip().splitlines()) == 1  # argparse's reason, no usage block
    assert ShiftBooking.objects.count() == 1


# --- The helper console's calendar -------------------------------------------------------------


@pytest.mark.django_db
def test_calendar_needs_a_logged_in_helper(client, lines, frozen):
    assert client.get("/console/calendar/").status_code == 302


@pytest.mark.django_db
def test_calendar_shows_who_is_on_each_slot_and_books_and_cancels(
    client, lines, make_helper, frozen
):
    pia = make_helper(role="peer", name="Pia")
    olli = make_helper(role="professional", name="Olli")
    book_shift(olli, "vakivalta", WEDNESDAY, "14-16")
    client.force_login(pia.user)
    page = client.get("/console/calendar/")
    assert page.status_code == 200
    assert "Olli" in page.text and "Apua väkivaltaan" in page.text
    assert 'class="cal-slot cal-gap' not in page.text

    slot = ShiftSlot.objects.get(line=lines["vakivalta"], starts=time(12))
    answer = client.post("/console/calendar/book/", {"slot": slot.pk, "day": "2026-12-02"})
    assert answer.status_code == 302
    booking = ShiftBooking.objects.get(helper=pia)
    page = client.get("/console/calendar/")
    assert 'class="cal-slot cal-mine cal-gap' in page.text  # her slot needs a professional
    upcoming = page.context["upcoming"]  # her next shift, shown at the top
    assert (upcoming.start, upcoming.end) == (
        helsinki(12, day=WEDNESDAY),
        helsinki(14, day=WEDNESDAY),
    )

    # A double booking through the page is refused with the service's reason.
    client.post("/console/calendar/book/", {"slot": slot.pk, "day": "2026-12-02"})
    assert "already booked" in client.get("/console/calendar/").text
    assert ShiftBooking.objects.filter(helper=pia).count() == 1

    client.force_login(olli.user)
    client.post(f"/console/calendar/cancel/{booking.pk}/")  # not his: nothing happens
    assert ShiftBooking.objects.filter(pk=booking.pk).exists()
    client.force_login(pia.user)
    client.post(f"/console/calendar/cancel/{booking.pk}/")
    assert not ShiftBooking.objects.filter(pk=booking.pk).exists()


@pytest.mark.django_db
def test_calendar_forms_need_the_csrf_token(lines, make_helper, frozen):
    from django.test import Client

    helper = make_helper()
    client = Client(enforce_csrf_checks=True)
    client.force_login(helper.user)
    slot = ShiftSlot.objects.get(line=lines["vakivalta"], starts=time(12))
    answer = client.post("/console/calendar/book/", {"slot": slot.pk, "day": "2026-12-02"})
    assert answer.status_code == 403
    assert not ShiftBooking.objects.exists()


@pytest.mark.django_db
def test_current_and_next_shift(lines, make_helper, frozen):
    helper = make_helper()
    book_shift(helper, "vakivalta", TUESDAY, "12-14")
    book_shift(helper, "vakivalta", TUESDAY, "14-16")
    book_shift(helper, "vakivalta", WEDNESDAY, "16-18")
    current, upcoming = rota.current_and_next_shift(helper, helsinki(10))
    assert current is None and (upcoming.start, upcoming.end) == (helsinki(12), helsinki(16))
    current, upcoming = rota.current_and_next_shift(helper, helsinki(15))
    assert (current.start, current.end) == (helsinki(12), helsinki(16))
    assert upcoming.start == helsinki(16, day=WEDNESDAY)


@pytest.mark.django_db
def test_peer_on_duty_without_a_professional_is_warned(client, lines, make_helper, frozen):
    peer = make_helper(role="peer", name="Pia")
    pro = make_helper(role="professional", name="Olli")
    other_line_pro = make_helper(role="professional", services=("ero",))
    services.start_duty(peer, "peer-console")
    services.start_duty(other_line_pro, "ero-console")
    line = lines["vakivalta"]
    assert rota.lines_without_professional(peer) == [line]
    client.force_login(peer.user)
    assert 'class="cal-warning" role="alert"' in client.get("/console/calendar/").text
    assert [row.peer_alone for row in rota.duty_now() if row.line == line] == [True]

    services.start_duty(pro, "pro-console")
    assert rota.lines_without_professional(peer) == []
    assert 'class="cal-warning" role="alert"' not in client.get("/console/calendar/").text
    assert rota.lines_without_professional(pro) == []  # professionals are never warned


# --- Debriefs and the coordinators' admin ------------------------------------------------------


@pytest.mark.django_db
def test_professional_of_the_slot_records_the_debrief_and_it_leaves_the_missing_list(
    client, lines, make_helper, frozen
):
    peer = make_helper(role="peer", name="Pia")
    pro = make_helper(role="professional", name="Olli")
    peer_shift = book_shift(peer, "vakivalta", TUESDAY, "16-18")
    book_shift(pro, "vakivalta", TUESDAY, "16-18")
    with pytest.raises(BookingError, match="not started"):
        record_debrief(pro, peer_shift.pk)
    frozen.move_to(helsinki(18, 5))
    assert list(rota.missing_debriefs()) == [peer_shift]
    assert rota.debriefs_to_record(pro) == [peer_shift]
    with pytest.raises(BookingError, match="Only a professional"):
        record_debrief(make_helper(role="peer"), peer_shift.pk)

    client.force_login(pro.user)
    assert "Pia" in client.get("/console/calendar/").text
    client.post(f"/console/calendar/debrief/{peer_shift.pk}/")
    debrief = Debrief.objects.get(booking=peer_shift)
    assert (debrief.held_at, debrief.recorded_by) == (helsinki(18, 5), pro)
    assert list(rota.missing_debriefs()) == []
    with pytest.raises(BookingError, match="already recorded"):
        record_debrief(pro, peer_shift.pk)


@pytest.fixture
def coordinator(client, db):
    call_command("createcoordinator", "kim", "--password", "pw-123456789")
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="kim"))
    return client


@pytest.mark.django_db
def test_coordinator_sees_gaps_duty_and_missing_debriefs(frozen, coordinator, lines, make_helper):
    peer = make_helper(role="peer", name="Pia")
    pro = make_helper(role="professional", name="Olli")
    book_shift(peer, "vakivalta", WEDNESDAY, "12-14")
    done = book_shift(peer, "vakivalta", TUESDAY, "12-14")
    book_shift(pro, "vakivalta", TUESDAY, "14-16")
    frozen.move_to(helsinki(14, 30))
    services.start_duty(peer, "peer-console")
    rota_page = coordinator.get("/admin/scheduling/shiftbooking/rota/")
    assert rota_page.status_code == 200
    assert rota_page.text.count('class="rota-cell rota-gap') == 2  # Tuesday and Wednesday 12–14
    assert 'class="rota-alert"' in rota_page.text  # Pia on duty, no professional connected
    now_row = next(row for row in rota_page.context["now_rows"] if row.line.slug == "vakivalta")
    assert [h.display_name for h in now_row.booked_absent] == ["Olli"]
    assert [h.display_name for h in now_row.unbooked_present] == ["Pia"]

    missing = coordinator.get("/admin/scheduling/shiftbooking/?debrief=missing")
    assert list(missing.context["cl"].result_list) == [done]
    gaps = coordinator.get("/admin/scheduling/shiftbooking/?gap=yes")
    assert len(gaps.context["cl"].result_list) == 2
    for query in ("", "?slot__line__id__exact=1", "?when=coming", "?day__year=2026"):
        assert coordinator.get(f"/admin/scheduling/shiftbooking/{query}").status_code == 200


@pytest.mark.django_db
def test_coordinator_commitment_report_flags_peers_below_minimum(
    frozen, coordinator, lines, make_helper
):
    busy = make_helper(role="peer", name="Aino")
    make_helper(role="peer", name="Bertta")
    book_shift(busy, "vakivalta", WEDNESDAY, "12-14")
    page = coordinator.get("/admin/scheduling/shiftbooking/commitment/")
    assert page.status_code == 200
    rows = {row.helper.display_name: row for row in page.context["rows"]}
    december = page.context["months"].index(date(2026, 12, 1))
    assert rows["Aino"].counts[december] == 1 and not rows["Aino"].below[december]
    assert rows["Bertta"].below[december]
    assert page.text.count('class="commitment-below"') == 7 + 6  # Bertta's months, Aino's others


@pytest.mark.django_db
def test_coordinator_books_for_anyone_in_admin_with_clear_errors(
    frozen, coordinator, lines, make_helper
):
    peer = make_helper(role="peer", name="Pia")
    slot = ShiftSlot.objects.get(line=lines["vakivalta"], starts=time(12))
    form = {"slot": slot.pk, "day": "2026-12-02", "helper": peer.pk}
    assert coordinator.post("/admin/scheduling/shiftbooking/add/", form).status_code == 302
    again = coordinator.post("/admin/scheduling/shiftbooking/add/", form)
    assert again.status_code == 200 and "already booked" in again.text
    stranger = make_helper(services=("ero",))
    wrong_line = coordinator.post(
        "/admin/scheduling/shiftbooking/add/", {**form, "helper": stranger.pk}
    )
    assert "is not a helper of vakivalta" in wrong_line.text
    overlap = coordinator.post(
        "/admin/scheduling/shiftslot/add/",
        {"line": lines["vakivalta"].pk, "starts": "13:00", "ends": "15:00", "active": "on"},
    )
    assert "overlaps the slot 12-14" in overlap.text
    backwards = coordinator.post(
        "/admin/scheduling/shiftslot/add/",
        {"line": lines["ero"].pk, "starts": "19:00", "ends": "18:00", "active": "on"},
    )
    assert "must end after it starts" in backwards.text
    assert ShiftBooking.objects.count() == 1


@pytest.mark.django_db
def test_follow_up_asker_waiting_before_opening_is_left_for_their_helper(lines, make_helper):
    # Contract 5: from 15 minutes before `at` the code queues the asker for that helper alone,
    # whatever the line's hours. At 11:50 the line is closed and the helper not yet connected.
    from chats.models import FollowUp

    helper = make_helper()
    chat = Chat.objects.create(
        line=lines["vakivalta"],
        token="t" * 32,
        language="fi",
        queued_at=helsinki(11, 50),
        asker_seen_at=helsinki(11, 50),
    )
    FollowUp.objects.create(
        line=lines["vakivalta"],
        helper=helper,
        code_hash="h" * 64,
        at=helsinki(12, 5),
        expires_at=helsinki(14),
        chat=chat,
        created_at=helsinki(9),
    )
    sweeps.sweep(now=helsinki(11, 50, 30))
    assert Chat.objects.filter(pk=chat.pk).exists()


def test_console_shows_the_shift_and_warns_a_peer_without_a_professional(db, client, make_helper):
    peer = make_helper(role="peer", name="Vertti")
    day = timezone.localdate() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    book_shift(peer, "vakivalta", day, "12-14")
    client.force_login(peer.user)
    page = client.get("/console/").content.decode()
    assert f"{day.day}.{day.month}." in page and "12:00–14:00" in page
    assert "/console/calendar/" in page
    assert "c-peer-alone" in page and "Apua väkivaltaan" in page
    # With a professional of the line on duty, the warning goes away.
    professional = make_helper(role="professional")
    services.start_duty(professional, "channel-pro")
    assert "c-peer-alone" not in client.get("/console/").content.decode()
