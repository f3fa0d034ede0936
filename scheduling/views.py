"""The helper's own calendar: thin views over services (writes) and rota (what is shown)."""

from datetime import date, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from chats.models import ServiceLine

from . import rota, services
from .models import ShiftSlot


def _helper(request):
    helper = getattr(request.user, "helper", None)
    if helper is None:
        raise Http404("Only helpers have a calendar.")
    return helper


@require_GET
@login_required
def calendar(request):
    helper = _helper(request)
    now = timezone.now()
    today = timezone.localdate(now)
    monday = today - timedelta(days=today.weekday())
    days = 7 * settings.SCHEDULING_CALENDAR_WEEKS
    lines = helper.lines.filter(active=True, kind=ServiceLine.Kind.ONE_TO_ONE)
    calendars = [rota.line_calendar(line, monday, days, helper=helper, now=now) for line in lines]
    current, upcoming = rota.current_and_next_shift(helper, now)
    own_gaps = [
        cell
        for line_calendar in calendars
        for cell in line_calendar.gaps
        if cell.mine is not None and not cell.over
    ]
    context = {
        "helper": helper,
        "calendars": calendars,
        "today": today,
        "current": current,
        "upcoming": upcoming,
        "own_gaps": own_gaps,
        "alone_on": rota.lines_without_professional(helper, now),
        "debriefs": rota.debriefs_to_record(helper, now) if helper.role == "professional" else [],
    }
    return render(request, "scheduling/calendar.html", context)


@require_POST
@login_required
def book(request):
    helper = _helper(request)
    slot = get_object_or_404(ShiftSlot, pk=request.POST.get("slot"))
    try:
        day = date.fromisoformat(request.POST.get("day", ""))
        booking = services.book_shift(helper, slot.line, day, slot)
    except ValueError:
        messages.error(request, _("The day could not be read."))
    except services.BookingError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Booked: %(line)s %(day)s %(slot)s.")
            % {"line": slot.line.name, "day": f"{booking.day:%d.%m.%Y}", "slot": slot.label},
        )
    return redirect("scheduling:calendar")


@require_POST
@login_required
def cancel(request, pk):
    helper = _helper(request)
    try:
        services.cancel_shift(helper, pk)
    except services.BookingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The shift was cancelled."))
    return redirect("scheduling:calendar")


@require_POST
@login_required
def debrief(request, pk):
    helper = _helper(request)
    try:
        services.record_debrief(helper, pk)
    except services.BookingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The debrief was recorded."))
    return redirect("scheduling:calendar")
