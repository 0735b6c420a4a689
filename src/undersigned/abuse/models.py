from datetime import UTC

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from undersigned.abuse.formtime import FillTime


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
    # How long the sign form took to fill, as a bucket (abuse/formtime.py);
    # "" for rows recorded before it was.
    fill_time = models.CharField(max_length=8, choices=FillTime.choices, blank=True)
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
    # How long the source's signatures in the window took to fill the form:
    # {bucket: count} (abuse/formtime.py), counted with the trend.
    fill_times = models.JSONField(default=dict, blank=True)
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

    def fill_time_counts(self) -> list[tuple[str, int]]:
        """(bucket label, signatures) in bucket order, the empty ones left out."""
        found = self.fill_times if isinstance(self.fill_times, dict) else {}
        return [
            (str(label), int(found[value])) for value, label in FillTime.choices if found.get(value)
        ]

    @property
    def blockable_today(self) -> bool:
        """A network is known only by today's keyed hash: a block by an older one matches no one."""
        if self.kind != self.Kind.NETWORK:
            return True
        return self.window_start.astimezone(UTC).date() == timezone.now().astimezone(UTC).date()


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


class BlockedSource(models.Model):
    """A mail domain or network refused at signing, with why and by whom.

    Managed by moderators on /moderation/blocklist/ (abuse/blocklist.py), every
    addition and removal in the audit trail. A network is kept as typed (no
    narrower than /24 or /48, so never one client's address) or, blocked from a
    trending source, as today's keyed hash, which matches nobody once the day
    and its key are over.
    """

    class Kind(models.TextChoices):
        DOMAIN = "domain", _("Mail domain")
        NETWORK = "network", _("Network")
        NETWORK_HASH = "network_hash", _("Network, by today's hash")

    kind = models.CharField(max_length=12, choices=Kind.choices)
    value = models.CharField(max_length=255)
    # None: every petition (only a site moderator may add such an entry).
    petition = models.ForeignKey(
        "petitions.Petition", models.CASCADE, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=500)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "value", "petition"], name="unique_block_per_petition"
            ),
            models.UniqueConstraint(
                fields=["kind", "value"],
                condition=models.Q(petition__isnull=True),
                name="unique_block_everywhere",
            ),
        ]

    def __str__(self) -> str:
        return f"block {self.kind} {self.value[:40]} on {self.petition_id or 'all'}"

    @property
    def label(self) -> str:
        if self.kind == self.Kind.NETWORK_HASH:
            return gettext("network #%(hash)s") % {"hash": self.value[:8]}
        return self.value

    @property
    def active(self) -> bool:
        return self.expires is None or self.expires > timezone.now()
