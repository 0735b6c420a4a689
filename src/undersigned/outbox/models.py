from django.db import models

from undersigned.core.fields import EncryptedTextField


class OutgoingMail(models.Model):
    """A message to send, written in the same transaction as the change that causes it.

    The worker sends it; a request never talks to SMTP. Once sent, the body
    (which may hold a one-time link) is cleared.
    """

    kind = models.CharField(max_length=40)
    # Sealed at rest like every contact detail; the body may hold a one-time link.
    to = EncryptedTextField(purpose="outbox.to")
    subject = EncryptedTextField(purpose="outbox.subject")
    body = EncryptedTextField(purpose="outbox.body")
    # Extra headers as JSON (List-Unsubscribe, Reply-To): sealed too, since an
    # unsubscribe link is a secret of its recipient. Cleared once sent.
    headers = EncryptedTextField(purpose="outbox.headers", blank=True, default="")
    # Sent at most once rather than at least once: a mail whose sending was
    # cut off (the worker killed after SMTP got it, perhaps) is given up, not
    # sent again. For updates to many signers, where a second copy is worse
    # than a missing one (updates/services.py).
    at_most_once = models.BooleanField(default=False)
    failures = models.PositiveIntegerField(default=0)  # attempts that ended in a known error
    gave_up_at = models.DateTimeField(null=True, blank=True)
    # Names the recipient's place on a mailing list ("subscription:12"), so that
    # their unsent mail is dropped when they leave it (drop_unsent).
    recipient_key = models.CharField(max_length=64, blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["next_attempt_at", "id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(sent_at__isnull=True),
                name="outgoing_mail_due",
            ),
            # Finds the unsent mail of someone who left a list (drop_unsent).
            models.Index(
                fields=["recipient_key"],
                condition=models.Q(sent_at__isnull=True) & ~models.Q(recipient_key=""),
                name="outgoing_mail_recipient",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} mail {self.pk}"
