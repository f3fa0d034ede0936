"""Service lines, helpers and their duty sessions: the records every app refers to.

They live in chats (app label `chats`) and every other app imports them from here; see
docs/architecture.md for why they did not move to an app of their own.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ServiceLine(models.Model):
    class Kind(models.TextChoices):
        ONE_TO_ONE = "one_to_one", _("one-to-one chat")
        GROUP = "group", _("group chat")

    slug = models.SlugField(
        _("short name"),
        unique=True,
        help_text=_("Used in the line's web addresses: changing it breaks existing links."),
    )
    name = models.CharField(_("name (Finnish)"), max_length=120)
    name_sv = models.CharField(_("name (Swedish)"), max_length=120, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=120, blank=True)
    kind = models.CharField(
        _("chat type"), max_length=12, choices=Kind.choices, default=Kind.ONE_TO_ONE
    )
    description = models.TextField(_("who the line is for"), blank=True)
    rules = models.TextField(
        _("confidentiality and rules"),
        blank=True,
        help_text=_("Shown to the asker, who accepts it before the chat starts."),
    )
    rules_sv = models.TextField(_("confidentiality and rules (Swedish)"), blank=True)
    rules_en = models.TextField(_("confidentiality and rules (English)"), blank=True)
    description_sv = models.TextField(_("who the line is for (Swedish)"), blank=True)
    description_en = models.TextField(_("who the line is for (English)"), blank=True)
    active = models.BooleanField(_("in use"), default=True)
    order = models.PositiveSmallIntegerField(
        _("sort order"), default=0, help_text=_("Smaller numbers come first.")
    )
    # Line settings (issue 21): what used to be written in code for one slug or another.
    practice = models.BooleanField(
        _("practice line"),
        default=False,
        help_text=_("For training: not in the public list of lines, not in statistics."),
    )
    practice_code = models.CharField(
        _("practice link code"),
        max_length=64,
        blank=True,
        help_text=_(
            "A practice line's page /practice/<line>/?code=… opens with this code, for the "
            "line's own helpers (trainees) only. Empty: the page is closed."
        ),
    )
    peers_need_professional = models.BooleanField(
        _("peers work with a professional"),
        default=True,
        help_text=_("A peer on a shift needs a professional on the same shift."),
    )
    volunteers_need_professional = models.BooleanField(
        _("volunteers work with a professional"),
        default=False,
        help_text=_("A volunteer on a shift needs a professional on the same shift."),
    )
    outside_age_line = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("line for those outside the age range"),
        help_text=_("Shown to an asker whose age range this line does not serve."),
    )
    group_line = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"kind": "group"},
        verbose_name=_("the line's group chat"),
        help_text=_("A group chat for the same askers: the widget and the front page lead to it."),
    )
    default_slots = models.CharField(
        _("shift slots of a new line"),
        max_length=100,
        blank=True,
        help_text=_("For example 15-16,16-18. Empty: 12-14,14-16,16-18."),
    )

    class Meta:
        ordering = ["order", "slug"]
        verbose_name = _("service line")
        verbose_name_plural = _("service lines")

    def __str__(self):
        return self.name

    def localized_name(self, language: str) -> str:
        return {"sv": self.name_sv, "en": self.name_en}.get(language) or self.name

    def localized_rules(self, language: str) -> str:
        return {"sv": self.rules_sv, "en": self.rules_en}.get(language) or self.rules

    def localized_description(self, language: str) -> str:
        """The description in the asker's language; no Finnish text to a Swedish or English one."""
        return {"fi": self.description, "sv": self.description_sv, "en": self.description_en}.get(
            language, ""
        )

    def needs_professional(self, role: str) -> bool:
        """The line's pairing rule: does a helper of this role need a professional on shift."""
        return {
            HelperProfile.Role.PEER: self.peers_need_professional,
            HelperProfile.Role.VOLUNTEER: self.volunteers_need_professional,
        }.get(role, False)


class AgeRange(models.Model):
    """One answer to a line's age question, counted for statistics only (never a birth date).

    A line with ranges asks the question; a range marked `outside` is not served by the line,
    whose asker is shown the line's `outside_age_line` instead.
    """

    line = models.ForeignKey(
        ServiceLine, on_delete=models.CASCADE, related_name="age_ranges", verbose_name=_("line")
    )
    key = models.SlugField(
        _("statistics key"), max_length=20, help_text=_("For example 13_17; kept in statistics.")
    )
    label = models.CharField(_("label (Finnish)"), max_length=40)
    label_sv = models.CharField(_("label (Swedish)"), max_length=40, blank=True)
    label_en = models.CharField(_("label (English)"), max_length=40, blank=True)
    outside = models.BooleanField(
        _("outside the line's range"),
        default=False,
        help_text=_("The asker is pointed to the line for those outside the range."),
    )
    order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["line", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["line", "key"], name="one_age_range_per_key")
        ]
        verbose_name = _("age range")
        verbose_name_plural = _("age ranges")

    def __str__(self):
        return f"{self.line.slug} {self.key}"

    def localized_label(self, language: str) -> str:
        return {"sv": self.label_sv, "en": self.label_en}.get(language) or self.label


class HelperProfile(models.Model):
    class Role(models.TextChoices):
        PROFESSIONAL = "professional", _("professional")
        PEER = "peer", _("peer helper (chatvertainen)")
        VOLUNTEER = "volunteer", _("trained volunteer")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="helper",
        verbose_name=_("account"),
    )
    display_name = models.CharField(
        _("display name"), max_length=60, help_text=_("The only name an asker sees.")
    )
    role = models.CharField(_("role"), max_length=12, choices=Role.choices)
    lines = models.ManyToManyField(ServiceLine, related_name="helpers", verbose_name=_("lines"))
    max_chats = models.PositiveSmallIntegerField(
        _("maximum simultaneous chats"),
        null=True,
        blank=True,
        help_text=_("Empty: the default of the helper's role."),
    )
    support_person = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="supported",
        limit_choices_to={"role": "professional"},
        verbose_name=_("support person"),
        help_text=_("For a peer or a volunteer: the named employee who supports them."),
    )

    class Meta:
        verbose_name = _("helper")
        verbose_name_plural = _("helpers")

    def __str__(self):
        return f"{self.display_name} ({self.get_role_display()})"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.support_person_id is None:
            return
        if self.role == self.Role.PROFESSIONAL:
            raise ValidationError({"support_person": _("Professionals have no support person.")})
        if self.support_person_id == self.pk:
            raise ValidationError({"support_person": _("Choose someone else.")})
        if self.support_person.role != self.Role.PROFESSIONAL:
            raise ValidationError({"support_person": _("The support person is a professional.")})


def alive_since(now: datetime) -> datetime:
    """A socket heard from after this is alive: three missed heartbeats and it is gone.

    The one rule of liveness, for helpers' consoles (on duty) and group participants alike.
    """
    return now - timedelta(seconds=settings.CHAT_HEARTBEAT_SECONDS * 3)


class DutySessionQuerySet(models.QuerySet):
    """The rules of being on duty, written once (services, duty, rota and scheduling use them)."""

    def on_duty(self, now: datetime | None = None):
        """Console connections alive right now: connected and not yet timed out."""
        return self.filter(seen_at__gte=alive_since(now or timezone.now()), connected=True)

    def present(self, now: datetime):
        """Connections seen within the reconnect grace period, connected or not.

        A paused helper counts: they are there and take the queue once they resume. A helper
        whose socket just dropped counts until their grace period is over (a reload is not
        leaving).
        """
        return self.filter(seen_at__gte=now - timedelta(seconds=settings.CHAT_HELPER_GRACE_SECONDS))

    def paused_helper_ids(self) -> set[int]:
        """Of these connections' helpers, those whose every connection is on a break."""
        states: dict[int, bool] = {}
        for helper_id, paused in self.values_list("helper_id", "paused"):
            states[helper_id] = states.get(helper_id, True) and paused
        return {helper_id for helper_id, paused in states.items() if paused}


class DutySession(models.Model):
    """One open helper console socket: the helper is on duty for their lines while it is fresh."""

    helper = models.ForeignKey(
        HelperProfile, on_delete=models.CASCADE, related_name="duty", verbose_name=_("helper")
    )
    channel_name = models.CharField(_("connection ID"), max_length=200, unique=True)
    started_at = models.DateTimeField(_("on duty since"))
    seen_at = models.DateTimeField(_("last seen"), db_index=True)
    paused = models.BooleanField(_("paused"), default=False)
    # False once the socket closed; the row stays until the helper's grace period is over.
    connected = models.BooleanField(
        _("connected"),
        default=True,
        help_text=_("Off when the console closed: the chats wait a while for a reconnect."),
    )

    objects = DutySessionQuerySet.as_manager()

    class Meta:
        verbose_name = _("on-duty connection")
        verbose_name_plural = _("on-duty connections")

    def __str__(self):
        return f"{self.helper} since {self.started_at:%H:%M}"
