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
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} mail {self.pk}"
