"""Opening hours and exceptions per service line (shifts and bookings join them here)."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from chats.models import ServiceLine


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class OpeningHours(models.Model):
    line = models.ForeignKey(ServiceLine, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField(help_text=_("00:00 means midnight at the end of the day."))

    class Meta:
        ordering = ["line", "weekday"]
        constraints = [
            models.UniqueConstraint(fields=["line", "weekday"], name="one_hours_per_weekday")
        ]
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self):
        if self.closes.hour or self.closes.minute:
            if self.closes <= self.opens:
                raise ValidationError({"closes": _("The closing time must be after the opening.")})


class HoursException(models.Model):
    """A closure or other hours for a date range, for one line or (line empty) for all."""

    line = models.ForeignKey(
        ServiceLine,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="hour_exceptions",
        help_text=_("Leave empty to apply to every line."),
    )
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"))
    closed = models.BooleanField(_("closed"), default=True)
    opens = models.TimeField(null=True, blank=True)
    closes = models.TimeField(null=True, blank=True)
    weekdays_only = models.BooleanField(
        _("weekdays only"),
        default=True,
        help_text=_("Other hours apply on weekdays only (not weekends or public holidays)."),
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["first_day"]
        verbose_name = _("exception to opening hours")
        verbose_name_plural = _("exceptions to opening hours")

    def __str__(self):
        what = _("closed") if self.closed else f"{self.opens:%H:%M}–{self.closes:%H:%M}"
        return f"{self.first_day:%d.%m.%Y}–{self.last_day:%d.%m.%Y}: {what}"

    def clean(self):
        errors = {}
        if self.first_day and self.last_day and self.last_day < self.first_day:
            errors["last_day"] = _("The last day cannot be before the first day.")
        if not self.closed:
            if not self.opens or not self.closes:
                errors["opens"] = _("Other hours need an opening and a closing time.")
            elif (self.closes.hour or self.closes.minute) and self.closes <= self.opens:
                errors["closes"] = _("The closing time must be after the opening.")
        if errors:
            raise ValidationError(errors)
