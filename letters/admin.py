"""Coordinators set how each line takes letters and see each inbox's length and oldest letter.

Threads and letters have no admin: no page lets anyone inside read an asker's letter except the
helper answering it (docs/letters.md).
"""

from django.contrib import admin
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from . import services
from .models import LetterSettings


@admin.register(LetterSettings)
class LetterSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "line",
        "offers_letters",
        "answer_days",
        "same_helper_days",
        "approval_required",
        "waiting",
        "oldest_waiting",
    ]
    list_filter = ["offers_letters", "approval_required"]
    list_select_related = ["line"]

    @admin.display(description=_("letters waiting"))
    def waiting(self, obj):
        return services.inbox_summary(obj.line_id)[0]

    @admin.display(description=_("oldest waiting for"))
    def oldest_waiting(self, obj):
        oldest = services.inbox_summary(obj.line_id)[1]
        return timesince(oldest, timezone.now()) if oldest else "–"
