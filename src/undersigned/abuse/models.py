from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class SigningSource(models.Model):
    """Where a signature came from, kept only as long as abuse can be investigated.

    No IP address is stored: only keyed hashes of the client address and of
    its network (/24 for IPv4, /48 for IPv6), under a key that changes every
    day, and the mail domain. Rows are deleted after ABUSE_RETENTION_DAYS.
    """

    signature = models.OneToOneField(
        "signing.Signature", models.CASCADE, related_name="source", primary_key=True
    )
    petition = models.ForeignKey("petitions.Petition", models.CASCADE, related_name="+")
    client_hash = models.CharField(max_length=32)
    network_hash = models.CharField(max_length=32)
    email_domain = models.CharField(max_length=255)
    created = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["petition", "network_hash", "created"], name="source_network"),
            models.Index(fields=["petition", "email_domain", "created"], name="source_domain"),
        ]

    def __str__(self) -> str:
        return f"source of {self.signature_id}"


class TrendingSource(models.Model):
    """Many signatures from one network or one mail domain on one petition in an hour."""

    class Kind(models.TextChoices):
        NETWORK = "network", _("Network")
        DOMAIN = "domain", _("Mail domain")

    petition = models.ForeignKey("petitions.Petition", models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=255)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    count = models.PositiveIntegerField()
    detected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-window_start", "-count"]
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "kind", "value", "window_start"], name="unique_trend"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.value[:12]} on {self.petition_id}: {self.count}"

    @property
    def label(self) -> str:
        if self.kind == self.Kind.NETWORK:
            return gettext("network #%(hash)s") % {"hash": self.value[:8]}
        return self.value


class BulkInvalidation(models.Model):
    """One moderator action against a source; remembers what it changed so it can be undone."""

    petition = models.ForeignKey("petitions.Petition", models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=TrendingSource.Kind.choices)
    value = models.CharField(max_length=255)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    reason = models.CharField(max_length=500)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    # [[signature id, state before], ...]
    changed = models.JSONField(default=list)
    created = models.DateTimeField(auto_now_add=True)
    reverted_at = models.DateTimeField(null=True, blank=True)
    reverted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"bulk invalidation {self.pk} on {self.petition_id}"
