import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("chats", "0009_verbose_names"),
    ]

    operations = [
        migrations.CreateModel(
            name="QueueTail",
            fields=[
                (
                    "line",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="queue_tail",
                        serialize=False,
                        to="chats.serviceline",
                    ),
                ),
                ("at", models.DateTimeField()),
            ],
            options={
                "verbose_name": "queue tail",
                "verbose_name_plural": "queue tails",
            },
        ),
    ]
