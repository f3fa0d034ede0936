from datetime import timedelta

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chats.models import ServiceLine

from .export import PERIODS

# A date input takes ISO dates only, whatever the language.
ISO = "%Y-%m-%d"

PERIOD_LABELS = {
    "all": _("the whole range"),
    "month": _("per month"),
    "week": _("per week"),
    "day": _("per day"),
}


def last_month() -> tuple:
    first_of_this = timezone.localdate().replace(day=1)
    last = first_of_this - timedelta(days=1)
    return last.replace(day=1), last


class RangeForm(forms.Form):
    first = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format=ISO)
    )
    last = forms.DateField(
        label=_("To (inclusive)"), widget=forms.DateInput(attrs={"type": "date"}, format=ISO)
    )
    lines = forms.ModelMultipleChoiceField(
        label=_("Service lines"),
        queryset=ServiceLine.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: every line."),
    )

    MAX_DAYS = 366 * 10

    def clean(self):
        data = super().clean()
        first, last = data.get("first"), data.get("last")
        if first and last:
            if last < first:
                raise forms.ValidationError(_("The end is before the start."))
            if (last - first).days > self.MAX_DAYS:
                raise forms.ValidationError(_("Choose at most ten years."))
        if not data.get("lines"):
            data["lines"] = list(ServiceLine.objects.all())
        return data


class ExportForm(RangeForm):
    period = forms.ChoiceField(
        label=_("Counts"), choices=[(p, PERIOD_LABELS[p]) for p in PERIODS], initial="all"
    )
    suppress = forms.BooleanField(
        label=_("Hide small counts"),
        required=False,
        initial=True,
        help_text=_(
            "Counts from 1 to %(n)s are shown as “<%(m)s”, and totals add up only what is shown. "
            "Leave on for anything that leaves the organisation."
        )
        % {"n": settings.STATS_SUPPRESS_BELOW - 1, "m": settings.STATS_SUPPRESS_BELOW},
    )


def initial_range() -> dict:
    first, last = last_month()
    return {"first": first, "last": last}
