"""Anonymous feedback after a chat: a few fixed answers and free text, with line and month only.

There is deliberately no link to anything: no chat, helper, token, address or timestamp field,
and a random primary key, so not even the order of the rows tells when one was given.
tests/test_feedback.py checks the list of fields.
"""

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from chats.models import ServiceLine


class Answer(models.TextChoices):
    YES = "yes", _("yes")
    PARTLY = "partly", _("partly")
    NO = "no", _("no")


class Again(models.TextChoices):
    YES = "yes", _("yes")
    MAYBE = "maybe", _("maybe")
    NO = "no", _("no")


class Feedback(models.Model):
    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    line = models.ForeignKey(
        ServiceLine, on_delete=models.CASCADE, related_name="feedback", verbose_name=_("line")
    )
    # The first day of the month it was given: no exact time is ever stored.
    month = models.DateField(_("month"), db_index=True)
    rating = models.PositiveSmallIntegerField(
        _("rating (1–5)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    got_help = models.CharField(_("got help"), max_length=6, choices=Answer.choices, blank=True)
    would_use_again = models.CharField(
        _("would use again"), max_length=5, choices=Again.choices, blank=True
    )
    # The form bounds its length (FEEDBACK_MAX_CHARS): a new limit needs no migration.
    text = models.TextField(_("free text"), blank=True)

    class Meta:
        ordering = ["-month", "line", "id"]
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")

    def __str__(self):
        return f"{self.line.slug} {self.month:%Y-%m}"  # never the text
