"""The referral directory: services an asker can be pointed to, per line or for every line.

Shown to askers with a line's texts (chats/views.widget_lines) and chosen by region; nothing
about an asker's choice is stored. Coordinators keep the entries in admin.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Referral(models.Model):
    lines = models.ManyToManyField(
        "chats.ServiceLine",
        blank=True,
        related_name="referrals",
        verbose_name=_("lines"),
        help_text=_("Leave empty to show the entry on every line."),
    )
    name = models.CharField(_("name (Finnish)"), max_length=120)
    name_sv = models.CharField(_("name (Swedish)"), max_length=120, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=120, blank=True)
    description = models.TextField(_("description (Finnish)"), blank=True)
    description_sv = models.TextField(_("description (Swedish)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    region = models.CharField(
        _("region"),
        max_length=80,
        blank=True,
        help_text=_("A municipality or wellbeing services county; empty: nationwide."),
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    url = models.URLField(_("web address"), blank=True)
    hours = models.CharField(
        _("hours (text)"), max_length=120, blank=True, help_text=_("As the askers read them.")
    )
    always_open = models.BooleanField(_("open 24/7"), default=False)
    opens = models.TimeField(_("opens"), null=True, blank=True)
    closes = models.TimeField(_("closes"), null=True, blank=True)
    weekdays_only = models.BooleanField(
        _("weekdays only"), default=True, help_text=_("The hours above hold Monday to Friday.")
    )
    languages = models.CharField(
        _("languages"), max_length=40, blank=True, help_text=_("For example fi,sv,en.")
    )
    active = models.BooleanField(_("in use"), default=True)
    order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("referral")
        verbose_name_plural = _("referral directory")

    def __str__(self):
        return self.name + (f" ({self.region})" if self.region else "")

    def localized_name(self, language: str) -> str:
        return {"sv": self.name_sv, "en": self.name_en}.get(language) or self.name

    def localized_description(self, language: str) -> str:
        return {"sv": self.description_sv, "en": self.description_en}.get(
            language
        ) or self.description
