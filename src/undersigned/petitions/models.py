import hashlib
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from undersigned.core.fields import EncryptedTextField
from undersigned.registers.models import Register


class PetitionQuerySet(models.QuerySet["Petition"]):
    def public(self) -> "PetitionQuerySet":
        """The petitions anyone may see and sign or cite: those that were published.

        Never a draft, nor a submission gathering supporters, awaiting moderation
        or sent back, nor a rejected one: a rejected submission has a page of its
        own and the rejected list (petitions/views.py, petitions/listing.py),
        which show its text only when the reason allows.
        """
        return self.filter(status__in=Petition.PUBLISHED)

    def rejected(self) -> "PetitionQuerySet":
        return self.filter(status=Petition.Status.REJECTED)


class Petition(models.Model):
    class Kind(models.TextChoices):
        PETITION = "petition", _("Petition")
        LETTER = "letter", _("Open letter")

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("petition status", "Draft")
        # Where PUBLISHING=reviewed (petitions/submissions.py): submitted, its
        # supporters back it by emailed links; then a moderator checks it
        # against the published standards, and publishes (open), rejects it or
        # sends it back to its creator, who edits it and submits it again.
        COLLECTING = "collecting", pgettext_lazy("petition status", "Gathering supporters")
        MODERATION = "moderation", pgettext_lazy("petition status", "Awaiting moderation")
        SENT_BACK = "sent_back", pgettext_lazy("petition status", "Sent back for changes")
        REJECTED = "rejected", pgettext_lazy("petition status", "Rejected")
        OPEN = "open", pgettext_lazy("petition status", "Open")
        CLOSED = "closed", pgettext_lazy("petition status", "Closed")
        ARCHIVED = "archived", pgettext_lazy("petition status", "Archived")

    # Statuses of a petition that was published: the public pages, the API
    # and the open data show these alone.
    PUBLISHED: ClassVar[tuple[str, ...]] = (Status.OPEN, Status.CLOSED, Status.ARCHIVED)
    # A submission whose supporters may back it (and confirm their backing).
    SUPPORTABLE: ClassVar[tuple[str, ...]] = (Status.COLLECTING, Status.MODERATION)
    # Its creator may edit the text.
    EDITABLE: ClassVar[tuple[str, ...]] = (Status.DRAFT, Status.SENT_BACK)

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
    # Whom the petition or letter asks (a person, an office, a body), shown as
    # "To: …"; and where the site tells them that a step is reached. That
    # address is sealed at rest like every other (docs/security.md).
    addressee = models.CharField(max_length=200, blank=True)
    addressee_email = EncryptedTextField(purpose="petition.addressee_email", blank=True)
    # The steps' thresholds of verified signatures for this petition; None
    # takes the site's (RESPONSE_THRESHOLD, DEBATE_THRESHOLD), 0 has no such step.
    response_threshold = models.PositiveIntegerField(null=True, blank=True)
    debate_threshold = models.PositiveIntegerField(null=True, blank=True)

    # A submission's (petitions/submissions.py): the secret of the link its
    # creator shares with supporters, when it was submitted, and the language
    # its creator submitted it in, which the site's mails to them are written in.
    support_key = models.CharField(max_length=64, blank=True, default="")
    submitted_at = models.DateTimeField(null=True, blank=True)
    creator_language = models.CharField(max_length=8, blank=True, default="")

    objects = PetitionQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-created"]
        permissions = [
            ("publish_directly", "Can publish petitions without moderation (PUBLISHING=reviewed)")
        ]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        if self.status in self.SUPPORTABLE and self.support_key:
            # Not public yet: its page is the one its supporters are sent to.
            return reverse("support", args=[self.slug, self.support_key])
        return reverse("petition", args=[self.slug])

    @property
    def is_submission(self) -> bool:
        """Submitted and not yet decided: its supporters may back it."""
        return self.status in self.SUPPORTABLE

    def rejection(self) -> "Decision | None":
        """The decision that rejected it, if it is rejected."""
        if self.status != self.Status.REJECTED:
            return None
        return (
            self.decisions.filter(kind=Decision.Kind.REJECT)
            .select_related("standard", "duplicate_of")
            .order_by("-decided_at", "-pk")
            .first()
        )

    @property
    def is_open(self) -> bool:
        if self.status != self.Status.OPEN:
            return False
        return self.deadline is None or self.deadline > timezone.now()

    @property
    def needs_register(self) -> bool:
        return self.audience == self.Audience.REGISTER

    def step_threshold(self, step: str) -> int:
        """The verified count at which `step` ("response" or "debate") is reached; 0: never."""
        own = self.response_threshold if step == Step.RESPONSE else self.debate_threshold
        if own is not None:
            return own
        if step == Step.RESPONSE:
            return int(settings.RESPONSE_THRESHOLD)
        return int(settings.DEBATE_THRESHOLD)

    def custody_key(self) -> str:
        """The age recipient this petition's sealed identities go to ("" when none is set)."""
        return self.custody_recipient or settings.CUSTODY_RECIPIENT

    # Texts in several languages: each translation is a text version of its
    # own, in its language, numbered on with the others (numbers stay unique
    # per petition). The original language is the first version's; "the
    # current text in a language" is that language's newest version.

    def original_language(self) -> str:
        """The language the petition was written in: its first text version's."""
        first = self.versions.order_by("number").values_list("language", flat=True).first()
        return first or settings.LANGUAGE_CODE

    def current_version(self, language: str | None = None) -> "TextVersion":
        """The newest text in `language` (default: the original), published or not."""
        version = (
            self.versions.filter(language=language or self.original_language())
            .order_by("-number")
            .first()
        )
        assert version is not None, "every petition is created with a first text version"
        return version

    def published_version(self, language: str | None = None) -> "TextVersion | None":
        """The newest published text in `language` (default: the original)."""
        return (
            self.versions.filter(
                published_at__isnull=False, language=language or self.original_language()
            )
            .order_by("-number")
            .first()
        )

    def shown_version(self) -> "TextVersion":
        """The original text the public sees: its latest published version, or a draft's
        current one. Its translations are latest_texts()."""
        return self.published_version() or self.current_version()

    def latest_texts(self, *, published: bool = True) -> "list[TextVersion]":
        """The newest version in each language, the original first, then by language.

        `published`: only published versions (what the public reads); otherwise
        a draft's texts as they will be published, translations included.
        """
        versions = self.versions.order_by("number")
        if published:
            versions = versions.filter(published_at__isnull=False)
        latest: dict[str, TextVersion] = {}
        original = ""  # the first version's language (version 1 is published first)
        for version in versions:
            original = original or version.language
            latest[version.language] = version
        return sorted(latest.values(), key=lambda v: (v.language != original, v.language))

    def next_number(self) -> int:
        """The number the petition's next text version takes, in any language."""
        highest = self.versions.aggregate(highest=models.Max("number"))["highest"]
        return (highest or 0) + 1


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

    `verified_paper` is how many of `verified` a moderator entered from paper
    sheets: the petition's "of which N on paper". Only its sum is shown, never
    a place's.

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
    verified_paper = models.BigIntegerField(default=0)
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
            models.CheckConstraint(
                condition=models.Q(verified_paper__gte=0, verified_paper__lte=models.F("verified")),
                name="tally_paper_within_verified",
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


class SearchWord(models.Model):
    """One word of a petition's published texts, folded for search (petitions.search).

    Titles and texts in every language the petition is published in, folded
    by registers.matching.search_words so that scripts and transliterations
    meet ("Депутатам" and "deputatam" are one word). A search looks words up
    by prefix through the (word, petition) index instead of reading any text,
    so it costs the same whatever the petitions say. Rewritten whenever a text
    version is published.
    """

    MAX_LENGTH = 40

    petition = models.ForeignKey(Petition, models.CASCADE, related_name="search_words")
    word = models.CharField(max_length=MAX_LENGTH)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["word", "petition"], name="unique_search_word")
        ]

    def __str__(self) -> str:
        return f"{self.petition_id} {self.word}"


class Step(models.TextChoices):
    """What a threshold of verified signatures means (petitions/steps.py)."""

    RESPONSE = "response", _("The addressee is asked to respond")
    DEBATE = "debate", _("Considered for a debate")


class StepReached(models.Model):
    """A step's threshold reached, recorded once, when the worker first saw it.

    A step stays reached even if withdrawals take the count below it again:
    the addressee has been asked.
    """

    petition = models.ForeignKey(Petition, models.CASCADE, related_name="steps_reached")
    step = models.CharField(max_length=10, choices=Step.choices)
    threshold = models.PositiveIntegerField()
    verified = models.BigIntegerField()  # the verified count when it was seen
    reached_at = models.DateTimeField(auto_now_add=True)
    # Whether a mail went to the addressee's notification address.
    addressee_notified = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["petition", "step"], name="unique_step_reached")
        ]

    def __str__(self) -> str:
        return f"{self.petition_id} reached {self.step}"


class Response(models.Model):
    """The addressee's answer, published once (by a moderator on their behalf) and logged.

    `sha256` is what the public log's response.published entry binds to the
    petition and its count (docs/log-format.md, "Answers"): of the layout in
    `document()`, which anyone can rebuild from the page or the API.
    """

    petition = models.OneToOneField(Petition, models.CASCADE, related_name="response")
    answered_by = models.CharField(max_length=200)
    responded_on = models.DateField()
    text = models.TextField(max_length=20000)
    sha256 = models.CharField(max_length=64, editable=False)
    published_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    verified = models.BigIntegerField()  # the live verified count when it was published
    log_entry = models.ForeignKey(
        "ledger.LogEntry", models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"response to {self.petition_id}"

    def document(self) -> str:
        return f"{self.answered_by}\n{self.responded_on.isoformat()}\n\n{self.text}"

    def compute_sha256(self) -> str:
        return hashlib.sha256(self.document().encode()).hexdigest()


class Outcome(models.Model):
    """What came of the petition: a debate scheduled, a debate held; once each, logged."""

    class Kind(models.TextChoices):
        DEBATE_SCHEDULED = "debate_scheduled", _("Debate scheduled")
        DEBATED = "debated", _("Debated")

    petition = models.ForeignKey(Petition, models.CASCADE, related_name="outcomes")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    happens_on = models.DateField()
    link = models.URLField(max_length=500, blank=True)
    note = models.TextField(max_length=2000, blank=True)
    sha256 = models.CharField(max_length=64, editable=False)
    published_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    verified = models.BigIntegerField()
    log_entry = models.ForeignKey(
        "ledger.LogEntry", models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["published_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["petition", "kind"], name="unique_outcome_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.petition_id}"

    def document(self) -> str:
        return f"{self.kind}\n{self.happens_on.isoformat()}\n{self.link}\n\n{self.note}"

    def compute_sha256(self) -> str:
        return hashlib.sha256(self.document().encode()).hexdigest()


class Standard(models.Model):
    """One of the site's published standards (/standards/): what a petition must meet.

    A moderator who rejects a submission names the standard it fails. Those
    that `hides_text` (defamatory, personal data, …) keep the rejected
    petition's title and text off the public pages: the rejected list and its
    page say only "Rejected: <standard>". Those that `names_original` are the
    duplicates': the moderator names the petition it duplicates. Staff edit
    them at /moderation/standards/ (audited); one no longer used is retired,
    never deleted, since past decisions name it.
    """

    code = models.SlugField(max_length=40, unique=True)
    position = models.PositiveIntegerField(default=0)
    hides_text = models.BooleanField(default=False)
    names_original = models.BooleanField(default=False)
    retired = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.code

    def get_absolute_url(self) -> str:
        return reverse("standards") + f"#{self.code}"

    def text_in(self, language: str | None = None) -> "StandardText | None":
        """Its wording in `language` (by default the active one), else the site's, else any."""
        texts = {t.language: t for t in self.texts.all()}  # prefetched where it matters
        wanted = language or translation.get_language() or settings.LANGUAGE_CODE
        for code in (wanted, wanted.split("-")[0], settings.LANGUAGE_CODE):
            if code in texts:
                return texts[code]
        return next(iter(texts.values()), None)

    @property
    def title(self) -> str:
        found = self.text_in()
        return found.title if found else self.code

    @property
    def explanation(self) -> str:
        found = self.text_in()
        return found.text if found else ""

    @property
    def language(self) -> str:
        """The language `title` and `explanation` are in (for lang="…")."""
        found = self.text_in()
        return found.language if found else settings.LANGUAGE_CODE


class StandardText(models.Model):
    """A standard's title and explanation in one of the site's languages."""

    standard = models.ForeignKey(Standard, models.CASCADE, related_name="texts")
    language = models.CharField(max_length=8, choices=settings.LANGUAGES)
    title = models.CharField(max_length=200)
    text = models.TextField(max_length=4000)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["standard", "language"], name="one_standard_text")
        ]

    def __str__(self) -> str:
        return f"{self.standard_id} {self.language}"


class Decision(models.Model):
    """A moderator's decision on a submission: published, rejected or sent back.

    Kept for the record, as the audit trail is: the creator's dashboard shows
    the latest, and a rejected petition's page its rejection (the standard,
    the note unless the standard hides the text, the original of a duplicate).
    `text_sha256` is of the text decided on.
    """

    class Kind(models.TextChoices):
        PUBLISH = "publish", pgettext_lazy("moderation decision", "Published")
        REJECT = "reject", pgettext_lazy("moderation decision", "Rejected")
        SEND_BACK = "send_back", pgettext_lazy("moderation decision", "Sent back for changes")

    petition = models.ForeignKey(Petition, models.CASCADE, related_name="decisions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    standard = models.ForeignKey(
        Standard, models.PROTECT, null=True, blank=True, related_name="decisions"
    )
    note = models.TextField(max_length=2000, blank=True)
    duplicate_of = models.ForeignKey(
        Petition, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)
    text_sha256 = models.CharField(max_length=64, blank=True)
    supporters = models.PositiveIntegerField(default=0)  # confirmed when it was decided

    class Meta:
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.petition_id}"
