"""What every admin page of the service shares: inputs that name themselves.

An input in a list's editable column or in a tabular inline stands under a column heading, not
beside a <label>: screen readers (and axe) find no name for it. `LabelledInputs` gives each
such input an aria-label from its field's label, once for every ModelAdmin and inline that
inherits it; the inlines' "delete" boxes get one too.
"""

from django.contrib import admin
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _


def label_widget(formfield, label):
    if formfield is not None and label:
        formfield.widget.attrs.setdefault("aria-label", capfirst(label))
    return formfield


class LabelledInputs:
    """Mixin for ModelAdmin and InlineModelAdmin (first in the bases)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        return label_widget(formfield, getattr(formfield, "label", None) or db_field.verbose_name)

    def get_formset(self, request, obj=None, **kwargs):  # inlines only
        formset = super().get_formset(request, obj, **kwargs)

        class Labelled(formset):
            def add_fields(self, form, index):
                super().add_fields(form, index)
                if "DELETE" in form.fields:
                    label_widget(form.fields["DELETE"], _("Delete"))

        Labelled.__name__ = formset.__name__
        return Labelled


class LabelledInline(LabelledInputs, admin.TabularInline):
    pass


class MonthFilter(admin.SimpleListFilter):
    """A filter by month, for a date that holds only a month (the first day): the months that
    have rows, newest first; no "today" or "past 7 days" that a month cannot answer."""

    title = _("month")
    parameter_name = "month"
    field = "month"

    def lookups(self, request, model_admin):
        months = model_admin.get_queryset(request).dates(self.field, "month", order="DESC")
        return [(f"{month:%Y-%m}", f"{month.month}/{month.year}") for month in months]

    def queryset(self, request, queryset):
        value = self.value() or ""
        year, _dash, month = value.partition("-")
        if year.isdigit() and month.isdigit() and 1 <= int(month) <= 12:
            return queryset.filter(
                **{f"{self.field}__year": int(year), f"{self.field}__month": int(month)}
            )
        return queryset
