"""Anonymous letters (docs/letters.md): a line's settings, threads and their letters.

A Thread is one asker's conversation by letter with a line. Nothing identifies the asker: the
only link is a keyed hash of the letter code they were given. A thread and its letters are
deleted when either side ends it, or when the line's retention runs out (letters/services.py,
`sweep`); no address is stored (the per-address limits keep keyed counters only).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LetterSettings(models.Model):
    """How a line takes letters. A line without a row, or with `offers_letters` off, takes none."""

    line = models.OneToOneField(
        "chats.ServiceLine",
        on_delete=models.CASCADE,
        related_name="letter_settings",
        verbose_name=_("line"),
    )
    offers_letters = models.BooleanField(_("offers letters"), default=False)
    answer_days = models.PositiveSmallIntegerField(
        _("usual answer time (weekdays)"),
        default=3,
        help_text=_("The asker is told: usually within this many weekdays."),
    )
    same_helper_days = models.PositiveSmallIntegerField(
        _("kept with the same helper (days)"),
        default=14,
        help_text=_(
            "A helper may keep a thread: its next letters wait this many days for them before "
            "any helper of the line may answer. 0: threads are not kept."
        ),
    )
    erase_days_after_read = models.PositiveSmallIntegerField(
        _("erased after the last reply was read (days)"), default=30
    )
    erase_days_unread = models.PositiveSmallIntegerField(
        _("erased after no activity (days)"),
        default=60,
        help_text=_("A reply never read, or a letter never answered, is erased after this."),
    )
    approval_required = models.BooleanField(
        _("peer replies need approval"),
        default=False,
        help_text=_(
            "A peer helper's reply is shown to the asker only once a professional of "
            "the line approves it."
        ),
    )

    class Meta:
        verbose_name = _("letter settings")
        verbose_name_plural = _("letter settings")

    def __str__(self):
        return str(self.line)


class ThreadQuerySet(models.QuerySet):
    def waiting(self):
        """Threads whose asker's letter waits for an answer: the inbox."""
        return self.filter(waiting_since__isnull=False)


class Thread(models.Model):
    line = models.ForeignKey("chats.ServiceLine", on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=64, unique=True)
    language = models.CharField(max_length=2, default="fi")
    topics = models.ManyToManyField("stats.Topic", blank=True, related_name="+")
    created_at = models.DateTimeField()
    # The last letter, reply or first read of a reply: the unread retention counts from it.
    last_activity_at = models.DateTimeField(db_index=True)
    # Set while an asker's letter waits for an answer: the inbox's order and waiting time.
    waiting_since = models.DateTimeField(null=True, blank=True, db_index=True)
    claimed_by = models.ForeignKey(
        "chats.HelperProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The helper who keeps the thread ("verkkoystävä"): its next letters wait for them first.
    kept_by = models.ForeignKey(
        "chats.HelperProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_reply_at = models.DateTimeField(null=True, blank=True)
    # When the asker first read the last reply: the after-read retention counts from it.
    read_at = models.DateTimeField(null=True, blank=True)

    objects = ThreadQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["line", "waiting_since"])]

    def __str__(self):
        return f"letter thread #{self.pk}"  # never a text


class Letter(models.Model):
    class Sender(models.TextChoices):
        ASKER = "asker", _("asker")
        HELPER = "helper", _("helper")

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="letters")
    sender = models.CharField(max_length=6, choices=Sender.choices)
    text = models.TextField()
    written_at = models.DateTimeField()
    helper = models.ForeignKey(
        "chats.HelperProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A helper's reply reaches the asker from this time; empty while it awaits approval.
    released_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        "chats.HelperProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["written_at", "pk"]

    def __str__(self):
        return f"letter #{self.pk} ({self.sender})"  # never the text
