"""Opening hours and exceptions per service line, shift slots and their bookings."""

from datetime import time

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from chats.models import HelperProfile, ServiceLine

from .booking import BookingError, check_booking


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class OpeningHours(models.Model):
    line = models.ForeignKey(
        ServiceLine,
        on_delete=models.CASCADE,
        related_name="opening_hours",
        verbose_name=_("line"),
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(
        _("closes"), help_text=_("00:00 means midnight at the end of the day.")
    )

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
        verbose_name=_("line"),
        help_text=_("Leave empty to apply to every line."),
    )
    first_day = models.DateField(
        _("first day"),
        help_text=_("Where exceptions overlap, the one added last decides the day's hours."),
    )
    last_day = models.DateField(_("last day"))
    closed = models.BooleanField(_("closed"), default=True)
    opens = models.TimeField(
        _("opens"),
        null=True,
        blank=True,
        help_text=_("Only for other hours: leave empty when closed."),
    )
    closes = models.TimeField(
        _("closes"),
        null=True,
        blank=True,
        help_text=_("00:00 means midnight at the end of the day."),
    )
    weekdays_only = models.BooleanField(
        _("weekdays only"),
        default=True,
        help_text=_("Other hours apply on weekdays only (not weekends or public holidays)."),
    )
    note = models.CharField(
        _("note"), max_length=200, blank=True, help_text=_("For coordinators: askers never see it.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

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


def slot_label(starts, ends) -> str:
    """`12-14`, or `12:30-14` when a time has minutes: the form `bookshift --slot` takes."""

    def part(moment):
        return f"{moment:%H}" if not moment.minute else f"{moment:%H:%M}"

    return f"{part(starts)}-{part(ends) if ends.hour or ends.minute else '24'}"


class ShiftSlot(models.Model):
    """A bookable part of a line's day, e.g. 12–14; the same slots every open day."""

    line = models.ForeignKey(
        ServiceLine, on_delete=models.CASCADE, related_name="shift_slots", verbose_name=_("line")
    )
    starts = models.TimeField(_("starts"))
    ends = models.TimeField(_("ends"), help_text=_("00:00 means midnight at the end of the day."))
    active = models.BooleanField(
        _("bookable"), default=True, help_text=_("Retire a slot instead of deleting its history.")
    )

    class Meta:
        ordering = ["line", "starts"]
        constraints = [
            models.UniqueConstraint(fields=["line", "starts"], name="one_slot_per_start_time")
        ]
        verbose_name = _("shift slot")
        verbose_name_plural = _("shift slots")

    def __str__(self):
        return f"{self.line.slug} {self.label}"

    @property
    def label(self) -> str:
        return slot_label(self.starts, self.ends)

    @property
    def ends_minutes(self) -> int:
        return 24 * 60 if self.ends == time(0) else self.ends.hour * 60 + self.ends.minute

    @property
    def starts_minutes(self) -> int:
        return self.starts.hour * 60 + self.starts.minute

    def overlaps(self, other: "ShiftSlot") -> bool:
        return self.starts_minutes < other.ends_minutes and other.starts_minutes < self.ends_minutes

    def clean(self):
        if self.starts is None or self.ends is None:
            return
        if self.ends_minutes <= self.starts_minutes:
            raise ValidationError({"ends": _("The slot must end after it starts.")})
        if self.line_id:
            others = ShiftSlot.objects.filter(line_id=self.line_id, active=True).exclude(pk=self.pk)
            for other in others:
                if self.active and self.overlaps(other):
                    raise ValidationError(
                        _("This slot overlaps the slot %(other)s of the same line.")
                        % {"other": other.label}
                    )


class ShiftBooking(models.Model):
    """A helper's plan to be on duty for one slot on one day (the plan, not a gate)."""

    slot = models.ForeignKey(
        ShiftSlot, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("slot")
    )
    day = models.DateField(_("day"))
    helper = models.ForeignKey(
        HelperProfile, on_delete=models.CASCADE, related_name="shifts", verbose_name=_("helper")
    )
    created_at = models.DateTimeField(_("booked"), auto_now_add=True)

    class Meta:
        ordering = ["day", "slot__starts"]
        constraints = [
            models.UniqueConstraint(fields=["slot", "day", "helper"], name="no_double_booking")
        ]
        indexes = [models.Index(fields=["day", "slot"])]
        verbose_name = _("shift booking")
        verbose_name_plural = _("shift bookings")

    def __str__(self):
        return f"{self.day:%d.%m.%Y} {self.slot} {self.helper.display_name}"

    def clean(self):
        # The same rules as scheduling.services.book_shift, for the admin's forms.
        if self.slot_id is None or self.helper_id is None or self.day is None:
            return
        try:
            check_booking(self.helper, self.slot, self.day, booking=self)
        except BookingError as error:
            raise ValidationError(str(error)) from None


class Debrief(models.Model):
    """The closing debrief of a peer's shift took place: a yes and a time, never its content."""

    booking = models.OneToOneField(
        ShiftBooking,
        on_delete=models.CASCADE,
        related_name="debrief",
        verbose_name=_("peer's shift"),
    )
    held_at = models.DateTimeField(_("held at"))
    recorded_by = models.ForeignKey(
        HelperProfile,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("recorded by"),
        help_text=_("Empty when a coordinator recorded it."),
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        ordering = ["-held_at"]
        verbose_name = _("debrief")
        verbose_name_plural = _("debriefs")

    def __str__(self):
        return f"{self.booking} — {self.held_at:%d.%m.%Y %H:%M}"

    def clean(self):
        if self.booking_id and self.booking.helper.role != HelperProfile.Role.PEER:
            raise ValidationError({"booking": _("Debriefs are recorded for peers' shifts.")})
        if self.recorded_by_id and self.recorded_by.role != HelperProfile.Role.PROFESSIONAL:
            raise ValidationError({"recorded_by": _("A professional records the debrief.")})
