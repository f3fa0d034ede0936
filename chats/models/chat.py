"""The live state of one-to-one chats, and the bars and counters kept per address.

A Chat row and its Messages exist only while the chat lives: `end_chat` counts what statistics
need and deletes both, so no ended conversation leaves a row, a text, a token or an address.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .lines import HelperProfile, ServiceLine


class ChatQuerySet(models.QuerySet):
    def queued(self):
        return self.filter(status=Chat.Status.QUEUED)

    def active(self):
        return self.filter(status=Chat.Status.ACTIVE)

    def general_queue(self, line_id: int):
        """The line's queue in serving order: longest waiting first.

        Follow-ups waiting for their own helper are not in it (chats/followups.py).
        """
        return (
            self.queued()
            .filter(line_id=line_id, follow_up__isnull=True)
            .order_by("queued_at", "pk")
        )


class Chat(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        ACTIVE = "active", _("active")

    line = models.ForeignKey(
        ServiceLine, on_delete=models.PROTECT, related_name="chats", verbose_name=_("line")
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    # Secrets live only while the chat does: the row is deleted when it ends.
    token = models.CharField(_("asker's secret key"), max_length=64, unique=True)
    asker_ip = models.GenericIPAddressField(_("asker's IP address"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=2, default="fi")
    helper = models.ForeignKey(
        HelperProfile,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chats",
        verbose_name=_("helper"),
    )
    queued_at = models.DateTimeField(_("joined the queue"), db_index=True)
    assigned_at = models.DateTimeField(_("answered"), null=True, blank=True)
    last_seq = models.PositiveIntegerField(_("last message number"), default=0)
    asker_seen_at = models.DateTimeField(_("asker last seen"))
    # Whether this chat came back to the queue because its helper vanished: it then goes first.
    requeued = models.BooleanField(
        _("back in the queue"),
        default=False,
        help_text=_("It went back to the front of the queue when its helper disconnected."),
    )
    # A length limit the helper set (chats/limits.py): the sweep warns, then ends it at ends_at.
    ends_at = models.DateTimeField(
        _("time limit"),
        null=True,
        blank=True,
        db_index=True,
        help_text=_("Set by the helper: the chat ends at this time."),
    )
    limit_warned = models.BooleanField(_("warned of the time limit"), default=False)
    # A transfer (chats/transfer.py): offered to `transfer_to` until accepted or declined; the
    # handover note is private to the helpers and goes with the row.
    transfer_to = models.ForeignKey(
        HelperProfile,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("transfer offered to"),
    )
    transfer_from = models.ForeignKey(
        HelperProfile,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("transfer offered by"),
    )
    transfer_note = models.CharField(_("handover note"), max_length=500, blank=True)
    transfer_offered_at = models.DateTimeField(_("transfer offered"), null=True, blank=True)

    objects = ChatQuerySet.as_manager()

    class Meta:
        verbose_name = _("live chat")
        verbose_name_plural = _("live chats")
        indexes = [models.Index(fields=["line", "status", "queued_at"])]

    def __str__(self):
        return f"{self.line.slug} #{self.pk} ({self.status})"


class Message(models.Model):
    class Sender(models.TextChoices):
        ASKER = "asker", _("asker")
        HELPER = "helper", _("helper")
        SYSTEM = "system", _("system")

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField()
    sender = models.CharField(max_length=6, choices=Sender.choices)
    text = models.TextField()
    sent_at = models.DateTimeField()
    # The sender's own id for the message: a resend after a lost echo is recognised, not stored
    # twice.
    client_id = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chat", "seq"], name="message_seq_unique"),
            models.UniqueConstraint(fields=["chat", "client_id"], name="message_client_id_unique"),
        ]
        ordering = ["seq"]

    def __str__(self):
        return f"chat {self.chat_id} #{self.seq} ({self.sender})"  # never the text


class Bar(models.Model):
    """A helper barred an asker's address for a while: kept as a keyed hash, never in clear."""

    class Kind(models.TextChoices):
        BAR = "bar", _("bar")
        COME_BACK_LATER = "come_back_later", _("come back later")

    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices, default=Kind.BAR)
    address_hash = models.CharField(
        _("address hash"),
        max_length=64,
        db_index=True,
        help_text=_("The asker's address as a keyed hash, never in clear."),
    )
    line = models.ForeignKey(
        ServiceLine,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        verbose_name=_("line"),
        help_text=_("Empty: every line."),
    )
    until = models.DateTimeField(_("in force until"), db_index=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("bar")
        verbose_name_plural = _("bars")

    def __str__(self):
        return f"bar until {self.until:%Y-%m-%d %H:%M}"


class PreparedText(models.Model):
    """A coordinator's ready text that a helper inserts in one click (or sends, for notices)."""

    class Kind(models.TextChoices):
        REPLY = "reply", _("reply")
        REFERRAL = "referral", _("referral to another service")
        DUTY_NOTICE = "duty_notice", _("notice of the duty to report")

    line = models.ForeignKey(
        ServiceLine,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="prepared_texts",
        verbose_name=_("line"),
        help_text=_("Empty: offered on every line."),
    )
    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices, default=Kind.REPLY)
    title = models.CharField(_("title"), max_length=120)
    text = models.TextField(_("text"), max_length=4000)
    url = models.URLField(_("link"), blank=True, help_text=_("For referrals: the service's page."))
    order = models.PositiveSmallIntegerField(
        _("sort order"), default=0, help_text=_("Smaller numbers come first.")
    )
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["kind", "order", "title"]
        verbose_name = _("prepared text")
        verbose_name_plural = _("prepared texts")

    def __str__(self):
        return self.title

    def as_sent(self) -> str:
        """What the helper's message says: the text, and the link on its own line."""
        return f"{self.text}\n{self.url}" if self.url else self.text


class AddressCounter(models.Model):
    """Events per address and time window (chat starts, unknown tokens): limits that hold
    across server processes. A keyed hash, never the address; purged with its window."""

    kind = models.CharField(max_length=32)
    address_hash = models.CharField(max_length=64)
    window_start = models.DateTimeField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "address_hash", "window_start"], name="one_counter_per_window"
            )
        ]

    def __str__(self):
        return f"{self.count} × {self.kind} since {self.window_start:%H:%M}"
