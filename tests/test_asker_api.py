"""What the widget reads for issue 20: a line's timetable, its group chat and texts in the
asker's language from /api/widget/, and the feedback form as JSON from /api/feedback/<slug>/."""

from datetime import timedelta

import pytest
from django.utils import timezone

from feedback.models import Feedback
from scheduling.models import HoursException

pytestmark = pytest.mark.django_db


def widget_line(client, slug, language="fi"):
    answer = client.get("/api/widget/", {"services": slug, "language": language})
    assert answer.status_code == 200 and not answer.cookies
    return answer.json()["lines"][0]


def test_a_line_carries_its_week_and_coming_exceptions_only(lines, client):
    today = timezone.localdate()
    line = lines["vakivalta"]
    HoursException.objects.create(
        line=line,
        first_day=today - timedelta(days=9),
        last_day=today - timedelta(days=2),
        closed=True,
    )
    HoursException.objects.create(
        line=line,
        first_day=today + timedelta(days=3),
        last_day=today + timedelta(days=4),
        closed=False,
        opens="12:00",
        closes="15:00",
    )
    HoursException.objects.create(
        line=line,
        first_day=today + timedelta(days=200),
        last_day=today + timedelta(days=201),
        closed=True,
    )
    found = widget_line(client, "vakivalta")
    assert found["week"] == [
        {"weekday": day, "opens": "12:00", "closes": "18:00"} for day in range(5)
    ]
    assert found["exceptions"] == [
        {
            "first_day": (today + timedelta(days=3)).isoformat(),
            "last_day": (today + timedelta(days=4)).isoformat(),
            "closed": False,
            "opens": "12:00",
            "closes": "15:00",
            "weekdays_only": True,
        }
    ]


def test_the_baby_sleep_line_leads_to_unichat_and_speaks_swedish(lines, client):
    found = widget_line(client, "vauvan-uni", "sv")
    assert found["group"] == {
        "slug": "unichat",
        "name": "Unichat gruppchatt",
        "url": "/group/unichat/",
    }
    assert found["description"].startswith("För babyfamiljer")
    nollalinja = [
        e
        for e in widget_line(client, "vakivalta", "en")["referrals"]
        if e["phone"] == "080 005 005"
    ]
    assert nollalinja[0]["name"] == "Nollalinja helpline" and nollalinja[0]["open_now"]
    assert widget_line(client, "ero")["group"] is None


def test_the_feedback_form_as_json_in_the_askers_language(lines, client):
    answer = client.get("/api/feedback/vakivalta/", {"lang": "sv"})
    questions = {q["name"]: q for q in answer.json()["questions"]}
    assert list(questions) == ["rating", "got_help", "would_use_again", "text"]
    assert questions["got_help"]["label"] == "Fick du hjälp?"
    assert not answer.cookies


def test_feedback_from_the_widget_is_checked_and_kept_with_line_and_month(lines, client):
    empty = client.post("/api/feedback/vakivalta/", {})
    assert empty.status_code == 400 and empty.json()["error"] == "invalid"
    assert not Feedback.objects.exists()
    sent = client.post("/api/feedback/vakivalta/", {"rating": "4", "got_help": "partly"})
    assert sent.json() == {"ok": True} and not sent.cookies
    saved = Feedback.objects.get()
    assert (saved.rating, saved.got_help, saved.month.day) == (4, "partly", 1)
