from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import Again, Answer, Feedback

RATINGS = [(n, str(n)) for n in range(1, 6)]


def _radios(label, choices, field=forms.ChoiceField, **extra):
    """An optional question answered with radio buttons."""
    return field(label=label, choices=choices, required=False, widget=forms.RadioSelect, **extra)


class FeedbackForm(forms.ModelForm):
    rating = _radios(
        _("How would you rate the chat? (1 = poor, 5 = very good)"),
        RATINGS,
        forms.TypedChoiceField,
        coerce=int,
        empty_value=None,
    )
    got_help = _radios(_("Did you get help?"), Answer.choices)
    would_use_again = _radios(_("Would you use the chat again?"), Again.choices)
    text = forms.CharField(
        label=_("Anything else you want to tell us? (Please do not write your name or contacts.)"),
        max_length=settings.FEEDBACK_MAX_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": settings.FEEDBACK_MAX_CHARS}),
    )

    class Meta:
        model = Feedback
        fields = ["rating", "got_help", "would_use_again", "text"]

    def clean(self):
        data = super().clean()
        if not any(data.get(name) for name in self.Meta.fields):
            raise forms.ValidationError(_("Answer at least one question, or close this page."))
        return data
