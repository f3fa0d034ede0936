"""Follow-ups with the same helper (contract section 5).

A FollowUp is a promise of a later chat: the helper, the line, the time and the end of the
helper's shift around it, and a keyed hash of the one-time code. No identity of the asker and
nothing of the first chat is stored: the code is the only link. Once the asker starts with the
code, `chat` points at the waiting chat and the row lives exactly as long as that chat (cascade);
an unused row is purged when its shift ends.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FollowUp(models.Model):
    line = models.ForeignKey("chats.ServiceLine", on_delete=models.CASCADE, related_name="+")
    helper = models.ForeignKey(
        "chats.HelperProfile", on_delete=models.CASCADE, related_name="follow_ups"
    )
    code_hash = models.CharField(max_length=64, unique=True)
    at = models.DateTimeField(_("time"))
    # The end of the helper's booked shift that holds `at`: the code works until then.
    expires_at = models.DateTimeField(db_index=True)
    note = models.CharField(_("private note"), max_length=500, blank=True)
    chat = models.OneToOneField(
        "chats.Chat", null=True, blank=True, on_delete=models.CASCADE, related_name="follow_up"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")

    def __str__(self):
        return f"follow-up {self.at:%Y-%m-%d %H:%M}"  # never the note


class CodeGuess(models.Model):
    """Wrong follow-up codes per address and time window: a keyed hash, purged with its window."""

    address_hash = models.CharField(max_length=64)
    window_start = models.DateTimeField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["address_hash", "window_start"], name="one_guess_counter_per_window"
            )
        ]

    def __str__(self):
        return f"{self.count} wrong code(s) since {self.window_start:%H:%M}"
