"""Scheduled group chats (contract section 6): sessions, who is in them, and what they say.

A session's participants and messages exist only while it runs: closing it (its end passes, or
a moderator closes it) counts what statistics need and deletes both. The session row itself is
the schedule a coordinator made, and stays.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


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
