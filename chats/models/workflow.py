"""The shift's own records: each line's recent handling time, the time of its newest start, and
the audit log of helpers' and coordinators' actions (docs/workflow.md).

None holds anything of an asker: no address, no message, no token, no chat id.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .lines import DutySession, ServiceLine


class LineLoad(models.Model):
    """One row per line: an exponentially weighted average of how long its answered chats last.

    The honest wait estimate and the queue cut-off are computed from it (chats/waiting.py); it is
    a rolling aggregate, updated when an answered chat ends, never a row per conversation.
    """

    line = models.OneToOneField(ServiceLine, on_delete=models.CASCADE, related_name="load")
    handle_seconds = models.FloatField()
    samples = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("line load")
        verbose_name_plural = _("line loads")

    def __str__(self):
        return f"{self.line.slug}: {self.handle_seconds / 60:.1f} min"


class QueueTail(models.Model):
    """A line's newest place in its queue: the `queued_at` its latest start was given.

    A start locks this row in the same statement that inserts its chat (chats/services/queue.py,
    `create_queued_chat` on PostgreSQL), so starts of a line take their places in turn and no
    start lands in front of one already told a place. The sweep deletes rows minutes old: a
    start's own clock is later by then.
    """

    line = models.OneToOneField(
        ServiceLine, on_delete=models.CASCADE, primary_key=True, related_name="queue_tail"
    )
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("queue tail")
        verbose_name_plural = _("queue tails")

    def __str__(self):
        return f"{self.line_id}: {self.at:%H:%M:%S}"


class AuditEvent(models.Model):
    """Who did what, and when: a helper's or coordinator's action that matters for trust."""

    class Action(models.TextChoices):
        LOGIN = "login", _("logged in")
        LOGOUT = "logout", _("logged out")
        LOGIN_FAILED = "login_failed", _("failed login")
        CHAT_TAKEN = "chat_taken", _("took a chat")
        TRANSFER_OFFERED = "transfer_offered", _("offered a chat to a colleague")
        TRANSFER_ACCEPTED = "transfer_accepted", _("took over a chat from a colleague")
        TRANSFER_DECLINED = "transfer_declined", _("declined a colleague's chat")
        TIME_LIMIT = "time_limit", _("limited a chat's length")
        BAR = "bar", _("barred an asker")
        COME_BACK_LATER = "come_back_later", _("asked an asker to come back later")
        NOTICE = "notice", _("sent a notice of the duty to report")
        EXPORT = "export", _("exported data")
        ADMIN_CHANGE = "admin_change", _("changed data in admin")
        RIGHTS = "rights", _("changed a person's rights")
        PASSWORD = "password", _("changed a person's password")
        DEVICE = "device", _("changed a person's authenticator")
        ENROLMENT = "enrolment", _("issued an enrolment code")

    at = models.DateTimeField(_("when"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("account"),
    )
    # The username at the time: the record stays readable after the account is deleted.
    actor_name = models.CharField(_("who"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices, db_index=True)
    line = models.ForeignKey(
        ServiceLine,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("line"),
    )
    # The colleague of a transfer, a duration, an export's file name, an admin change: never an
    # asker's address or words.
    detail = models.CharField(_("detail"), max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"


class EnrolmentCode(models.Model):
    """A one-time code that lets a person enrol an authenticator (verkkoapu/twofactor.py).

    Given out once by createhelper, createcoordinator, resetotp or the admin; only its hash is
    kept. It expires after OTP_ENROLMENT_HOURS and is spent by the first enrolment it confirms.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("account"),
    )
    code_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("issued"))
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("enrolment code")
        verbose_name_plural = _("enrolment codes")

    def __str__(self):
        return f"enrolment code of user {self.user_id}, expires {self.expires_at:%Y-%m-%d %H:%M}"


class LiveBoard(DutySession):
    """No table of its own: the admin's entry for the coordinators' live board (chats/admin.py)."""

    class Meta:
        proxy = True
        verbose_name = _("on duty now")
        verbose_name_plural = _("on duty now")
