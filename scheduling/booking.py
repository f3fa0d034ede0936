"""The rules of a shift booking, below the models and the services: the admin's form
(ShiftBooking.clean) and book_shift check a booking by the same function."""

from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from . import hours


class BookingError(Exception):
    """A booking that cannot be made or cancelled; the message is shown to the person as is."""


def slot_span(slot, day: date) -> tuple[datetime, datetime]:
    """Aware Helsinki start and end of `slot` on `day` (a DST change moves the UTC instant)."""
    return hours.span(day, hours.DailyHours(slot.starts, slot.ends))


def check_booking(helper, slot, day: date, *, booking=None, now=None) -> None:
    """Raise BookingError when `helper` may not have `slot` on `day`; `booking` is being edited."""
    now = now or timezone.now()
    line = slot.line
    name = helper.display_name
    if not slot.active:
        raise BookingError(
            _("The slot %(slot)s of %(line)s can no longer be booked.")
            % {"slot": slot.label, "line": line.slug}
        )
    if not helper.lines.filter(pk=line.pk).exists():
        raise BookingError(
            _("%(name)s is not a helper of %(line)s.") % {"name": name, "line": line.slug}
        )
    if booking is None or booking.pk is None:
        # Editing an old booking in the admin stays possible; new ones are for the future.
        if day < timezone.localdate(now):
            raise BookingError(_("%(day)s is in the past.") % {"day": f"{day:%d.%m.%Y}"})
        if slot_span(slot, day)[1] <= now:
            raise BookingError(
                _("The shift %(slot)s on %(day)s is already over.")
                % {"slot": slot.label, "day": f"{day:%d.%m.%Y}"}
            )
    twins = slot.bookings.filter(day=day, helper=helper)
    if booking is not None and booking.pk is not None:
        twins = twins.exclude(pk=booking.pk)
    if twins.exists():
        raise BookingError(_double_booking(name, line, slot, day))


def _double_booking(name, line, slot, day) -> str:
    return _("%(name)s has already booked %(line)s %(slot)s on %(day)s.") % {
        "name": name,
        "line": line.slug,
        "slot": slot.label,
        "day": f"{day:%d.%m.%Y}",
    }
