"""A helper console's presence: one DutySession row per connection (the on-duty rules read them,
chats/models/lines.py)."""

from django.utils import timezone

from ..models import DutySession, HelperProfile


def start_duty(helper: HelperProfile, channel_name: str, now=None) -> None:
    now = now or timezone.now()
    DutySession.objects.update_or_create(
        channel_name=channel_name,
        defaults={"helper": helper, "started_at": now, "seen_at": now},
    )


def touch_duty(channel_name: str, now=None) -> None:
    DutySession.objects.filter(channel_name=channel_name).update(seen_at=now or timezone.now())


def end_duty(channel_name: str, now=None) -> None:
    # The row stays, marked by its last-seen time, until the sweep: the helper's chats wait a
    # grace period for a reconnect before they go back to the queue.
    DutySession.objects.filter(channel_name=channel_name).update(
        seen_at=now or timezone.now(), connected=False
    )
