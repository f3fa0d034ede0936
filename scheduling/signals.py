"""A new one-to-one line starts with the default shift slots, which coordinators then edit; a
saved change of hours clears the rules this process keeps (services.rules_for)."""

from datetime import time

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from chats.models import ServiceLine

from . import services
from .models import HoursException, OpeningHours, ShiftSlot

for model in (OpeningHours, HoursException, ServiceLine):
    for signal in (post_save, post_delete):
        signal.connect(services.forget_rules, sender=model, dispatch_uid="forget_rules")

DEFAULT_SLOTS = [(time(12), time(14)), (time(14), time(16)), (time(16), time(18))]


def slots_of(line: ServiceLine) -> list[tuple[time, time]]:
    """The slots a new line starts with: its `default_slots` setting (e.g. "15-16,16-18"; the
    youth line's, see chats/migrations/0013), else 12-14, 14-16, 16-18."""
    if not line.default_slots.strip():
        return DEFAULT_SLOTS
    return [services.parse_slot_label(label.strip()) for label in line.default_slots.split(",")]


@receiver(post_save, sender=ServiceLine, dispatch_uid="scheduling.default_slots")
def add_default_slots(sender, instance, created, raw=False, **kwargs):
    if not created or raw or instance.kind != ServiceLine.Kind.ONE_TO_ONE:
        return
    for starts, ends in slots_of(instance):
        ShiftSlot.objects.get_or_create(line=instance, starts=starts, defaults={"ends": ends})
