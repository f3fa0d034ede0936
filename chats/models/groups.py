"""Scheduled group chats (contract section 6): sessions, who is in them, and what they say.

A session's participants and messages exist only while it runs: closing it (its end passes, or
a moderator closes it) counts what statistics need and deletes both. The session row itself is
the schedule a coordinator made, and stays.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class GroupSeries(models.Model):
    """A recurring group (every week until a date) or a closed series of N meetings.

    chats/group_series.py makes its meetings (GroupSession rows, numbered); a closed series'
    meetings share one invitation code. Inactive series are examples to copy.
    """

    class Kind(models.TextChoices):
        WEEKLY = "weekly", _("weekly group, open to anyone")
        CLOSED = "closed", _("closed series of meetings")

    line = models.ForeignKey(
        "chats.ServiceLine",
        on_delete=models.CASCADE,
        related_name="group_series",
        limit_choices_to={"kind": "group"},
        verbose_name=_("line"),
    )
    title = models.CharField(_("title"), max_length=120)
    kind = models.CharField(_("kind"), max_length=6, choices=Kind.choices, default=Kind.WEEKLY)
    language = models.CharField(
        _("language"),
        max_length=2,
        choices=[("fi", _("Finnish")), ("en", _("English"))],
        default="fi",
    )
    weekday = models.PositiveSmallIntegerField(
        _("weekday"),
        choices=[
            (0, _("Monday")),
            (1, _("Tuesday")),
            (2, _("Wednesday")),
            (3, _("Thursday")),
            (4, _("Friday")),
            (5, _("Saturday")),
            (6, _("Sunday")),
        ],
    )
    starts = models.TimeField(_("starts"))
    ends = models.TimeField(_("ends"))
    first_day = models.DateField(_("first day"))
    until = models.DateField(
        _("until"), null=True, blank=True, help_text=_("A weekly group's last possible day.")
    )
    meetings = models.PositiveSmallIntegerField(
        _("number of meetings"),
        null=True,
        blank=True,
        validators=[MinValueValidator(5), MaxValueValidator(8)],
        help_text=_("A closed series meets 5 to 8 times."),
    )
    capacity = models.PositiveSmallIntegerField(_("capacity"), default=30)
    moderators = models.ManyToManyField(
        "chats.HelperProfile",
        blank=True,
        related_name="moderated_series",
        verbose_name=_("moderators"),
    )
    invite = models.CharField(
        _("invitation code"),
        max_length=64,
        blank=True,
        help_text=_("One code for every meeting of a closed series (made if empty)."),
    )
    active = models.BooleanField(
        _("in use"), default=True, help_text=_("Off: an example; no meetings are made.")
    )

    class Meta:
        ordering = ["line", "weekday", "starts"]
        verbose_name = _("group series")
        verbose_name_plural = _("group series")

    def __str__(self):
        return self.title

    def clean(self):
        if self.starts and self.ends and self.ends <= self.starts:
            raise ValidationError({"ends": _("The end must be after the start.")})
        if self.kind == self.Kind.CLOSED and not self.meetings:
            raise ValidationError({"meetings": _("A closed series has 5 to 8 meetings.")})
        if self.kind == self.Kind.WEEKLY and not self.until:
            raise ValidationError({"until": _("A weekly group needs a last day.")})
        if self.line_id and self.line.kind != "group":
            raise ValidationError({"line": _("Group series belong to a group line.")})


class GroupSessionQuerySet(models.QuerySet):
    def not_closed(self):
        return self.filter(closed_at=None)

    def running(self, at):
        return self.not_closed().filter(starts_at__lte=at, ends_at__gt=at)

    def upcoming(self, at):
        return self.not_closed().filter(starts_at__gt=at).order_by("starts_at", "pk")


class GroupSession(models.Model):
    class Language(models.TextChoices):
        FI = "fi", _("Finnish")
        EN = "en", _("English")

    line = models.ForeignKey(
        "chats.ServiceLine",
        on_delete=models.CASCADE,
        related_name="group_sessions",
        limit_choices_to={"kind": "group"},
        verbose_name=_("line"),
    )
    title = models.CharField(_("title"), max_length=120)
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.FI
    )
    starts_at = models.DateTimeField(_("starts"), db_index=True)
    ends_at = models.DateTimeField(_("ends"))
    capacity = models.PositiveSmallIntegerField(
        _("capacity"), default=30, help_text=_("Participants at most (moderators not counted).")
    )
    moderators = models.ManyToManyField(
        "chats.HelperProfile",
        blank=True,
        related_name="moderated_sessions",
        verbose_name=_("moderators"),
    )
    # A closed group's shared code for the whole series: the same for every member, so nothing
    # personal, and the coordinator can read it back to share it again.
    invite = models.CharField(
        _("invitation code"),
        max_length=64,
        blank=True,
        help_text=_("Leave empty for a session open to anyone."),
    )
    pinned = models.TextField(_("pinned message"), blank=True, max_length=1000)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    last_seq = models.PositiveIntegerField(_("last message number"), default=0)
    joins = models.PositiveIntegerField(
        _("times joined"),
        default=0,
        help_text=_("How many times someone joined during the session, for statistics."),
    )
    series = models.ForeignKey(
        GroupSeries,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sessions",
        verbose_name=_("series"),
    )
    number = models.PositiveSmallIntegerField(_("meeting number"), null=True, blank=True)

    objects = GroupSessionQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("group session")
        verbose_name_plural = _("group sessions")

    def __str__(self):
        return f"{self.title} {self.starts_at:%Y-%m-%d %H:%M}"

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The end must be after the start.")})
        if self.line_id and self.line.kind != "group":
            raise ValidationError({"line": _("Group sessions belong to a group line.")})


class GroupParticipant(models.Model):
    """Someone in a running session: a nickname, or a moderator's display name."""

    class Role(models.TextChoices):
        PARTICIPANT = "participant", _("participant")
        MODERATOR = "moderator", _("moderator")

    session = models.ForeignKey(GroupSession, on_delete=models.CASCADE, related_name="people")
    nickname = models.CharField(max_length=60)  # 32 for participants; display names go to 60
    role = models.CharField(max_length=11, choices=Role.choices, default=Role.PARTICIPANT)
    helper = models.ForeignKey(
        "chats.HelperProfile", null=True, blank=True, on_delete=models.CASCADE
    )
    # A keyed hash of the address, so a kick holds for any nickname; deleted with the session.
    address_hash = models.CharField(max_length=64, blank=True, db_index=True)
    kicked = models.BooleanField(default=False)
    joined_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("group participant")
        verbose_name_plural = _("group participants")

    def __str__(self):
        return f"{self.nickname} ({self.role})"


class GroupMessage(models.Model):
    session = models.ForeignKey(GroupSession, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField()
    nickname = models.CharField(max_length=60)
    role = models.CharField(max_length=11, choices=GroupParticipant.Role.choices)
    # Emptied when a moderator takes the message down: the text is gone, the id stays.
    text = models.TextField()
    removed = models.BooleanField(default=False)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "seq"], name="group_message_seq_unique")
        ]
        ordering = ["seq"]

    def __str__(self):
        return f"session {self.session_id} #{self.seq} ({self.role})"  # never the text
