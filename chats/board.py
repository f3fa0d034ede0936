"""The coordinators' live board (admin): per one-to-one line, open or not, the queue, the
newcomer's estimate, and who is on duty with how many chats. It reads duty and waiting, which
know the rules; it sits above both."""

from datetime import datetime

from django.utils import timezone

from . import duty, waiting
from .models import DutySession, ServiceLine

# What other apps add to a line's row, each a function of the line and the time giving a dict
# merged into the row (the letters inbox: letters/apps.py).
ROW_EXTRAS: list = []


def live_board(now: datetime | None = None) -> list[dict]:
    """Per one-to-one line: open or not, the queue, the newcomer's estimate, who is on duty."""
    now = now or timezone.now()
    board = []
    for line in ServiceLine.objects.filter(active=True, kind=ServiceLine.Kind.ONE_TO_ONE):
        people = list(duty.on_duty_helpers(line, now))
        ids = [person.pk for person in people]
        held, paused = duty.held_by(ids), duty.paused_ids(ids, now)
        since = dict(
            DutySession.objects.filter(helper_id__in=ids, connected=True)
            .order_by("-started_at")
            .values_list("helper_id", "started_at")
        )
        outlook = waiting.outlook(line, now)
        row = {
            "line": line,
            "open": outlook.status.open,
            "closes_at": outlook.status.closes_at,
            "opens_at": outlook.status.opens_at,
            "queue": outlook.queue_length,
            "accepting": outlook.accepting,
            "estimate": outlook.newcomer_estimate,
            "handle_minutes": round(outlook.pace.handle_minutes),
            "helpers": [
                {
                    "name": person.display_name,
                    "role": person.get_role_display(),
                    "chats": held[person.pk],
                    "max_chats": duty.capacity_of(person),
                    "paused": person.pk in paused,
                    "since": since.get(person.pk),
                }
                for person in people
            ],
        }
        for extra in ROW_EXTRAS:
            row.update(extra(line, now))
        board.append(row)
    return board
