"""Default shift slots for every one-to-one line seeded by chats 0002.

Most lines are open weekdays 12–18 and get 12–14, 14–16 and 16–18. The children's and young
people's line is open 15–18, so its slots are 15–16 and 16–18 (a one-hour start, then the same
16–18 as the other lines, which lets a professional cover two lines' late shift at once).
Coordinators edit slots in the admin afterwards.
"""

from datetime import time

from django.db import migrations

DEFAULT_SLOTS = [(time(12), time(14)), (time(14), time(16)), (time(16), time(18))]
SLOTS_BY_LINE = {"lapset-nuoret": [(time(15), time(16)), (time(16), time(18))]}


def seed(apps, schema_editor):
    ServiceLine = apps.get_model("chats", "ServiceLine")
    ShiftSlot = apps.get_model("scheduling", "ShiftSlot")
    for line in ServiceLine.objects.filter(kind="one_to_one"):
        for starts, ends in SLOTS_BY_LINE.get(line.slug, DEFAULT_SLOTS):
            ShiftSlot.objects.get_or_create(line=line, starts=starts, defaults={"ends": ends})


def unseed(apps, schema_editor):
    ShiftSlot = apps.get_model("scheduling", "ShiftSlot")
    ShiftSlot.objects.filter(bookings__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("chats", "0002_seed_service_lines"),
        ("scheduling", "0002_shifts"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
