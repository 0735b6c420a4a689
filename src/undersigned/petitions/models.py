import hashlib
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from undersigned.registers.models import Register


class PetitionQuerySet(models.QuerySet["Petition"]):
    def public(self) -> "PetitionQuerySet":
        """The petitions anyone may see: all but drafts."""
        return self.exclude(status=Petition.Status.DRAFT)


class Petition(models.Model):
    class Kind(models.TextChoices):
        PETITION = "petition", _("Petition")
        LETTER = "letter", _("Open letter")

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("petition status", "Draft")
        OPEN = "open", pgettext_lazy("petition status", "Open")
        CLOSED = "closed", pgettext_lazy("petition status", "Closed")
        ARCHIVED = "archived", pgettext_lazy("petition status", "Archived")

    class Audience(models.TextChoices):
        ANYONE = "anyone", _("Anyone with a confirmed email")
        REGISTER = "register", _("Only people on a register")

    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PETITION)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.ANYONE)
    register = models.ForeignKey(
        Register, models.PROTECT, null=True, blank=True, related_name="petitions"
    )
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="organised_petitions"
    )
    organiser_name = models.CharField(
        max_length=200, help_text=_("Who the public sees as the organiser.")
    )
    moderators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="moderated_petitions"
    )
    # Thresholds are milestones shown as progress, e.g. [100, 1000].
    thresholds = models.JSONField(default=list, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Signers' contact data is erased this many days after closing; the
    # tallies and the public log stay.
    retention_days = models.PositiveIntegerField(default=90)
    purged_at = models.DateTimeField(null=True, blank=True)
    # The public half of this petition's custody key (age1…), if it has its
    # own; otherwise the site's UNDERSIGNED_CUSTODY_RECIPIENT. The private half
    # stays with its moderators, off the server.
    custody_recipient = models.CharField(max_length=100, blank=True)

    objects = PetitionQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-created"]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        return reverse("petition", args=[self.slug])

    @property
    def is_open(self) -> bool:
        if self.status != self.Status.OPEN:
            return False
        return self.deadline is None or self.deadline > timezone.now()

    @property
    def needs_register(self) -> bool:
        return self.audience == self.Audience.REGISTER

    def custody_key(self) -> str:
        """The age recipient this petition's sealed identities go to ("" when none is set)."""
        return self.custody_recipient or settings.CUSTODY_RECIPIENT

    def current_version(self) -> "TextVersion":
        version = self.versions.order_by("-number").first()
        assert version is not None, "every petition is created with a first text version"
        return version

    def published_version(self) -> "TextVersion | None":
        return self.versions.filter(published_at__isnull=False).order_by("-number").first()

    def shown_version(self) -> "TextVersion":
        """The text the public sees and signs: the latest published one, or a draft's current."""
        return self.published_version() or self.current_version()


class TextVersion(models.Model):
    """The text people sign. Frozen once published: a correction is a new version."""

    petition = models.ForeignKey(Petition, models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(max_length=20000)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    change_note = models.CharField(max_length=500, blank=True)
    sha256 = models.CharField(max_length=64, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["petition", "number"]
        constraints = [
            models.UniqueConstraint(fields=["petition", "number"], name="unique_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.petition.slug} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk:
            frozen = TextVersion.objects.filter(pk=self.pk, published_at__isnull=False).first()
            if frozen and (
                frozen.compute_sha256() != self.compute_sha256()
                or frozen.published_at != self.published_at
            ):
                raise ValueError("a published text version is frozen; publish a new version")
        self.sha256 = self.compute_sha256()
        super().save(*args, **kwargs)

    def compute_sha256(self) -> str:
        # The hash covers what a signer read: title, language and body, in a
        # fixed layout an auditor can reproduce from the published text.
        text = f"{self.title}\n{self.language}\n\n{self.body}"
        return hashlib.sha256(text.encode()).hexdigest()


class Tally(models.Model):
    """Counts kept in step with signature states, so no page ever counts rows.

    One row per (petition, region, municipality); region "" and municipality
    "" hold signatures with no place given. The petition's headline numbers
    are the sum of its rows, which stay few (one per municipality).

    `verified_hidden` is how many of `verified` chose not to be shown: a
    place's shown signers are public, so its count alone would tell how many
    hidden ones it has; the public reads use it to keep small numbers of them
    unattributed (petitions.services.place_counts, docs/security.md).

    `changes` grows by one in every statement that moves the row, so the sum
    over a petition's rows orders any two reads of its counts: the one with
    the larger sum saw more (petitions.standing, "never backwards").
    """

    petition = models.ForeignKey(Petition, models.CASCADE, related_name="tallies")
    region = models.CharField(max_length=200, blank=True)
    municipality = models.CharField(max_length=200, blank=True)
    verified = models.BigIntegerField(default=0)
    awaiting = models.BigIntegerField(default=0)
    verified_hidden = models.BigIntegerField(default=0)
    changes = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "region", "municipality"], name="unique_tally_place"
            ),
            models.CheckConstraint(
                condition=models.Q(verified__gte=0, awaiting__gte=0), name="tally_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    verified_hidden__gte=0, verified_hidden__lte=models.F("verified")
                ),
                name="tally_hidden_within_verified",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.petition_id} {self.region}/{self.municipality}"


class CountMark(models.Model):
    """The newest counts any process has served for a petition, with those counts.

    Every process keeps its own short-lived copy of a petition's counts; before
    serving it, a process reads this row's order (one primary-key read) and
    serves its copy only if the copy is not older. A newer mark's `counts`
    (the JSON of a petitions.standing.Standing) is taken over instead of
    re-reading the tallies, so a process that falls behind catches up in one
    read. The order only rises (an UPDATE ... WHERE the stored order is lower),
    in the database every server of a site shares. See petitions/standing.py.
    """

    petition = models.OneToOneField(
        Petition, models.CASCADE, primary_key=True, related_name="count_mark"
    )
    changes = models.BigIntegerField()
    log_size = models.BigIntegerField()
    read_at = models.FloatField()  # the wall-clock time (epoch seconds) the counts were read
    counts = models.TextField()

    def __str__(self) -> str:
        return f"counts of {self.petition_id} at ({self.changes}, {self.log_size})"
