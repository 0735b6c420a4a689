from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """Who did what, when and why: every decision that changes a signature or petition."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=40)
    petition = models.ForeignKey(
        "petitions.Petition", models.CASCADE, null=True, blank=True, related_name="audit_events"
    )
    signature = models.ForeignKey(
        "signing.Signature", models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )
    reason = models.CharField(max_length=1000, blank=True)
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        # The table the moderation app created: the model moved, its rows did not.
        db_table = "moderation_auditevent"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name or 'system'} {self.action}"
