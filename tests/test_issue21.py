"""Issue 21: every seed service as its people describe it (the data and domain layer).

Roles (professional, chatvertainen, volunteer), a peer's support person, advice and debrief,
group series, age ranges and practice lines as line settings, the referral directory.
"""

import json
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command

from chats import asking, duty, group_series, referrals, youth
from chats.errors import ChatError
from chats.models import (
    AgeRange,
    DutySession,
    GroupSeries,
    GroupSession,
    HelperProfile,
    Referral,
    ServiceLine,
)
from scheduling import rota, support
from scheduling.hours import HELSINKI
from scheduling.models import Debrief, HoursException, ShiftBooking, ShiftSlot
from stats import services as stats
from stats.models import DailyCount
from tests.conftest import next_frame, start

WEDNESDAY = date(2027, 3, 3)


def at(hour, minute=0, day=WEDNESDAY):
    return datetime.combine(day, time(hour, minute), tzinfo=HELSINKI)


def on_duty(helper, now):
    return DutySession.objects.create(
        helper=helper, channel_name=f"test.{helper.pk}", started_at=now, seen_at=now
    )


def booked(helper, line, label, day=WEDNESDAY):
    slot = ShiftSlot.objects.get(line=line, starts=time(int(label.split("-")[0])))
    return ShiftBooking.objects.create(helper=helper, slot=slot, day=day)


# --- 1. Three roles ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_a_volunteer_is_labelled_as_a_volunteer_to_the_asker(
    open_line, make_helper, asker_socket, helper_socket
):
    helper = await sync_to_async(make_helper)(role="volunteer", name="Ville")
    console = await helper_socket(helper)
    asker = await asker_socket(open_line)
    await start(asker)
    await console.send_json_to({"type": "accept_next", "service": "vakivalta"})
    await next_frame(console, "assigned")
    assigned = await next_frame(asker, "assigned")
    assert assigned["helper"] == {"name": "Ville", "role": "volunteer"}  # not "peer"


def test_the_widget_names_each_role_in_the_askers_language():
    script = (settings.BASE_DIR / "static" / "chats" / "widget.js").read_text()
    badges = script.split("var ROLE_BADGES = ")[1].split(";")[0]
    assert badges == '{ peer: "peer", volunteer: "volunteer" }'
    finnish = script.split('"fi": ')[1].split("},")[0]
    assert '"trained volunteer": "vapaaehtoinen"' in finnish
    assert '"peer supporter": "chatvertainen"' in finnish


def test_each_role_has_its_capacity_and_statistics_key(make_helper, settings):
    settings.CHAT_MAX_CHATS_VOLUNTEER = 3
    assert duty.capacity_of(make_helper(role="volunteer")) == 3
    assert duty.capacity_of(make_helper(role="peer")) == settings.CHAT_MAX_CHATS_PEER
    assert set(stats.KEY_LABELS["answered_by_role"]) == {"professional", "peer", "volunteer"}


def test_createhelper_keeps_professional_and_peer_and_adds_volunteer(lines):
    for role in ("professional", "peer", "volunteer"):
        call_command(
            "createhelper", f"u-{role}", "--password", "correct horse battery", "--role", role,
            "--display-name", role, "--service", "vakivalta",
        )  # fmt: skip
    assert HelperProfile.objects.get(user__username="u-volunteer").role == "volunteer"


def test_which_roles_need_a_professional_is_set_per_line(lines, make_helper):
    line = lines["vakivalta"]
    volunteer, peer = make_helper(role="volunteer"), make_helper(role="peer")
    now = at(13)
    on_duty(volunteer, now)
    on_duty(peer, now)
    assert rota.lines_lacking_professional(peer, now) == [line]
    assert rota.lines_lacking_professional(volunteer, now) == []  # the default: alone is fine
    line.volunteers_need_professional = True
    line.peers_need_professional = False
    line.save()
    volunteer.refresh_from_db()
    assert [x.slug for x in rota.lines_lacking_professional(volunteer, now)] == ["vakivalta"]
    assert rota.lines_lacking_professional(peer, now) == []
    assert [h.pk for h in rota.peer_alone(line, now)] == [volunteer.pk]
    booked(volunteer, line, "12-14")
    calendar = rota.line_calendar(line, WEDNESDAY, 1, now=at(9))
    assert [cell.needs_professional for cell in calendar.days[0].cells] == [True, False, False]


# --- 2. Peer support ---------------------------------------------------------------------------


def test_a_peer_has_a_named_support_person_on_duty_or_not(lines, make_helper):
    peer, tuula = make_helper(role="peer"), make_helper(name="Tuula")
    peer.support_person = tuula
    peer.full_clean()
    peer.save()
    now = at(13)
    assert support.support_person_of(peer, now) == support.Support(tuula, False)
    on_duty(tuula, now)
    assert support.support_person_of(peer, now) == support.Support(tuula, True)
    assert support.support_person_of(peer, now + timedelta(minutes=5)).on_duty is False  # gone
    peer.support_person = make_helper(role="volunteer")
    with pytest.raises(ValidationError):
        peer.full_clean()  # the support person is an employee


def test_advice_reaches_only_the_professionals_of_the_same_shift(lines, make_helper):
    line = lines["vakivalta"]
    peer = make_helper(role="peer", name="Pia")
    same = make_helper(name="Sanna")
    other_slot = make_helper(name="Olli")
    other_line = make_helper(name="Lauri", services=("ero",))
    other_peer = make_helper(role="peer", name="Pekka")
    booked(peer, line, "12-14")
    booked(same, line, "12-14")
    booked(other_peer, line, "12-14")
    booked(other_slot, line, "14-16")
    now = at(13)
    for helper in (peer, same, other_slot, other_line, other_peer):
        on_duty(helper, now)
    assert support.advice_recipients(peer, now) == [same]
    DutySession.objects.filter(helper=same).delete()
    # The shift's professional left: the line's professionals on duty, never other peers.
    assert support.advice_recipients(peer, now) == [other_slot]
    assert support.advice_recipients(same, now) == []


def test_the_debrief_is_due_when_a_peers_shift_ends(lines, make_helper):
    line = lines["vakivalta"]
    peer, pro = make_helper(role="peer", name="Pia"), make_helper(name="Sanna")
    shift = booked(peer, line, "12-14")
    booked(pro, line, "12-14")
    with time_machine.travel(at(13, 59), tick=False):
        assert support.debriefs_due() == []
    with time_machine.travel(at(14, 5), tick=False):
        (due,) = support.debriefs_due()
        assert (due.peer, due.professionals, due.booking) == (peer, [pro], shift)
        assert support.debriefs_due_for(pro) == support.debriefs_due_for(peer) == [due]
        assert support.debriefs_due_for(make_helper()) == []
        Debrief.objects.create(booking=shift, held_at=at(14, 5), recorded_by=pro)
        assert support.debriefs_due() == []
    Debrief.objects.all().delete()
    with time_machine.travel(at(14, 45), tick=False):
        assert support.debriefs_due() == []  # past the prompt; missing_debriefs lists it


# --- 3. Age ranges as line settings ------------------------------------------------------------


def test_a_12_to_29_line_asks_and_counts_age_ranges_with_no_code_change(lines):
    line = ServiceLine.objects.create(slug="nuoret-aikuiset", name="Nuoret aikuiset")
    for order, key in enumerate(["12_17", "18_29"]):
        AgeRange.objects.create(line=line, key=key, label=key.replace("_", "–"), order=order)
    assert asking.service_object(line)["asks_age"] is True
    assert [r["key"] for r in youth.age_question(line, "en")] == ["12_17", "18_29"]
    youth.refuse_adult(line, "18_29", "fi")  # served here
    with pytest.raises(ChatError) as error:
        youth.refuse_adult(line, "16_17", "fi")  # the youth line's key, not this line's
    assert error.value.code == "invalid"
    youth.count_age(line, "18_29", at(13))
    youth.count_age(line, "16_17", at(13))
    assert list(DailyCount.objects.filter(line=line, metric="age").values_list("key", "count")) == [
        ("18_29", 1)
    ]


def test_the_youth_line_is_a_setting_and_behaves_as_before(lines):
    youth_line = lines["lapset-nuoret"]
    assert [r.key for r in youth_line.age_ranges.all()] == ["under_13", "13_15", "16_17", "18_plus"]
    youth.refuse_adult(youth_line, "13_15", "fi")
    with pytest.raises(ChatError) as error:
        youth.refuse_adult(youth_line, "18_plus", "fi")
    assert error.value.code == "over_age"
    assert youth.asks_age(lines["vakivalta"]) is False
    assert youth_line.default_slots == "15-16,16-18"


def test_a_new_line_takes_its_slots_from_its_setting(lines):
    line = ServiceLine.objects.create(slug="ilta", name="Ilta", default_slots="18-20,20-22")
    assert [s.label for s in ShiftSlot.objects.filter(line=line)] == ["18-20", "20-22"]


# --- 4. Referrals ------------------------------------------------------------------------------


def test_referrals_by_region_reach_a_closed_lines_asker(lines, client):
    line = lines["vakivalta"]
    Referral.objects.all().delete()
    everywhere = Referral.objects.create(name="Valtakunnallinen", always_open=True, order=1)
    helsinki = Referral.objects.create(
        name="Helsingin palvelu", region="Helsinki", opens=time(8), closes=time(16), order=2
    )
    Referral.objects.create(name="Tampereen palvelu", region="Tampere", order=3)
    elsewhere = Referral.objects.create(name="Toisen linjan", order=4)
    elsewhere.lines.set([lines["ero"]])
    saturday_night = at(3, day=date(2027, 3, 6))
    with time_machine.travel(saturday_night, tick=False):
        assert asking.service_object(line)["open"] is False
        assert referrals.referrals_for(line, "helsinki") == [everywhere, helsinki]
        assert referrals.referrals_for(line, "Helsinki", available_now=True) == [everywhere]
        assert referrals.regions(line) == ["Helsinki", "Tampere"]
        answer = client.get("/api/widget/", {"services": "vakivalta", "language": "fi"})
    listed = [entry["name"] for entry in answer.json()["lines"][0]["referrals"]]
    assert listed == ["Valtakunnallinen", "Helsingin palvelu", "Tampereen palvelu"]
    assert referrals.referrals_for(line, "Helsinki", available_now=True, now=at(9)) == [
        everywhere,
        helsinki,
    ]


def test_the_shipped_referrals_give_only_the_brochures_numbers(lines):
    phones = set(Referral.objects.values_list("phone", flat=True))
    assert phones <= {"", "112", "080 005 005", "116 111"}
    names = set(Referral.objects.values_list("name", flat=True))
    assert {"Nettiturvakoti", "Turvakodit", "Sekasin-chat", "Nollalinja"} <= names


# --- 5. Group series ---------------------------------------------------------------------------


def test_a_weekly_group_makes_its_next_meetings_and_skips_a_closure(lines):
    line = lines["unichat"]
    monday = date(2027, 3, 1)
    series = GroupSeries.objects.create(
        line=line, title="Verkkokohtaamispaikka", language="en", weekday=1,
        starts=time(18), ends=time(19), first_day=monday, until=date(2027, 6, 30),
    )  # fmt: skip
    HoursException.objects.create(line=line, first_day=date(2027, 3, 9), last_day=date(2027, 3, 9))
    made = group_series.make_meetings(series, at(9, day=monday))
    days = [s.starts_at.astimezone(HELSINKI).date() for s in made.created]
    assert days == [date(2027, 3, 2), date(2027, 3, 16), date(2027, 3, 23)]  # four weeks ahead
    assert made.skipped == [date(2027, 3, 9)]
    assert {(s.language, s.title, s.invite) for s in made.created} == {
        ("en", "Verkkokohtaamispaikka", "")
    }
    again = group_series.make_meetings(series, at(9, day=monday))
    assert again.created == [] and GroupSession.objects.filter(series=series).count() == 3


def test_a_closed_series_shares_one_invite_and_numbers_its_meetings(lines):
    line = lines["unichat"]
    series = GroupSeries.objects.create(
        line=line, title="Yksinäisyys puheeksi", kind="closed", weekday=2, starts=time(17),
        ends=time(18, 30), first_day=date(2027, 3, 1), meetings=5,
    )  # fmt: skip
    HoursException.objects.create(
        line=None, first_day=date(2027, 3, 10), last_day=date(2027, 3, 10)
    )
    made = group_series.make_meetings(series, at(9, day=date(2027, 3, 1)))
    assert made.skipped == [date(2027, 3, 10)]
    assert [s.number for s in made.created] == [1, 2, 3, 4, 5]
    assert made.created[-1].starts_at.astimezone(HELSINKI).date() == date(2027, 4, 7)
    invites = {s.invite for s in made.created}
    assert len(invites) == 1 and len(invites.pop()) >= 20
    assert group_series.meeting_of(made.created[2]) == (3, 5)
    assert group_series.make_meetings(series, at(9, day=date(2027, 3, 1))).created == []


def test_the_red_cross_examples_are_shipped_inactive(lines):
    examples = GroupSeries.objects.filter(
        line__slug__in=["verkkokohtaamispaikka", "yksinaisyys-puheeksi"]
    )
    assert {(s.language, s.kind, s.active) for s in examples} >= {
        ("fi", "weekly", False), ("en", "weekly", False), ("fi", "closed", False),
    }  # fmt: skip
    assert all(group_series.make_meetings(s).created == [] for s in examples)


# --- 6. Practice lines -------------------------------------------------------------------------


def test_a_practice_line_never_reaches_statistics_or_the_public_list(lines, client):
    line = ServiceLine.objects.create(slug="harjoitus-2", name="Harjoitus", practice=True)
    assert "harjoitus-2" not in [x["slug"] for x in client.get("/api/services/").json()]
    assert "harjoitus-2" not in client.get("/").content.decode()
    stats.increment_each(line.pk, WEDNESDAY, [("chats_started", ""), ("contact", "first")])
    stats.increment(line.pk, WEDNESDAY, "chats_answered")
    assert not DailyCount.objects.filter(line=line).exists()
    stats.increment(lines["ero"].pk, WEDNESDAY, "chats_answered")  # a real line counts
    assert DailyCount.objects.filter(line=lines["ero"]).exists()
    assert client.get("/api/services/harjoitus-2/").status_code == 200  # reached by its link
    assert json.loads(client.get("/api/services/").content)  # the others stay
