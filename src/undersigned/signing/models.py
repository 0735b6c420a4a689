from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import pgettext_lazy

from undersigned.core.fields import EncryptedTextField
from undersigned.core.hashing import keyed_hash
from undersigned.petitions.models import Petition, TextVersion
from undersigned.registers.emails import normalise_email
from undersigned.registers.models import RegisterEntry


class SignatureQuerySet(models.QuerySet["Signature"]):
    def with_email(self, email: str) -> "SignatureQuerySet":
        """Rows for an address; addresses are sealed, so this matches their keyed hash."""
        return self.filter(email_hash=keyed_hash("email", normalise_email(email)))

    def holding(self, petition_id: int, register_entry_key: str | None) -> "SignatureQuerySet":
        """The verified signature that holds a register entry (by its keyed hash), if any.

        One register entry can hold only one verified signature (the constraint
        one_verified_signature_per_register_entry); this is who holds it.
        """
        return self.filter(
            petition_id=petition_id,
            register_entry_key=register_entry_key,
            state=Signature.State.VERIFIED,
        )


class Signature(models.Model):
    class State(models.TextChoices):
        # A context of their own: "Verified" here is a signature's state, in
        # Russian an adjective agreeing with "подпись", not a column heading.
        UNCONFIRMED = "unconfirmed", pgettext_lazy("signature state", "Unconfirmed")
        CONFIRMED = "confirmed", pgettext_lazy("signature state", "Confirmed")
        NEEDS_REVIEW = "needs_review", pgettext_lazy("signature state", "Needs review")
        VERIFIED = "verified", pgettext_lazy("signature state", "Verified")
        REJECTED = "rejected", pgettext_lazy("signature state", "Rejected")
        WITHDRAWN = "withdrawn", pgettext_lazy("signature state", "Withdrawn")
        INVALIDATED = "invalidated", pgettext_lazy("signature state", "Invalidated")

    class Channel(models.TextChoices):
        ONLINE = "online", pgettext_lazy("signature channel", "Online")
        PAPER = "paper", pgettext_lazy("signature channel", "On paper")

    petition = models.ForeignKey(Petition, models.CASCADE, related_name="signatures")
    text_version = models.ForeignKey(TextVersion, models.PROTECT, related_name="signatures")
    state = models.CharField(max_length=12, choices=State.choices, default=State.UNCONFIRMED)
    # Sealed at rest: a seized database must not name who signed (forms limit lengths).
    full_name = EncryptedTextField(purpose="signature.full_name")
    email = EncryptedTextField(purpose="signature.email")
    # The keyed hash that keeps one signature per person: of the address
    # online; of a paper signature's person on its sheet (signing/paper.py),
    # under a purpose of its own, so it never equals an address's.
    email_hash = models.CharField(max_length=64)
    show_name = models.BooleanField(default=True)
    role = models.CharField(max_length=120, blank=True)
    municipality = models.CharField(max_length=120, blank=True)
    region = models.CharField(max_length=120, blank=True)
    evidence_url = EncryptedTextField(purpose="signature.evidence_url", blank=True)
    language = models.CharField(max_length=8, default="en")
    # The signer asked to be told about the petition's response and outcome:
    # when the signature is verified, its address is kept for that in a
    # Subscription, before the signature's own copy is sealed away.
    wants_updates = models.BooleanField(default=False)
    # Given online, or on a paper sheet that an assigned moderator entered
    # (who and when: the audit trail); the sheet's reference as the petitions
    # office files it.
    channel = models.CharField(max_length=6, choices=Channel.choices, default=Channel.ONLINE)
    sheet_reference = models.CharField(max_length=120, blank=True, default="")
    # The register entry this signature stands for, once known: at signing
    # when the address is the entry's official contact, or when a moderator
    # approves the claim.
    register_entry = models.ForeignKey(
        RegisterEntry, models.PROTECT, null=True, blank=True, related_name="signatures"
    )
    # Which register entry this signature holds, as a keyed hash: it keeps "one
    # verified signature per entry" enforceable after a hidden signer's entry
    # itself has been sealed away (signing/custody.py).
    # NULL, not "": unbound verified signatures must not clash in the unique constraint.
    register_entry_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    sent_to_official_contact = models.BooleanField(default=False)
    is_founder = models.BooleanField(default=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirm_token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    confirm_token_expires = models.DateTimeField(null=True, blank=True)
    withdraw_token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    state_reason = models.CharField(max_length=500, blank=True)
    # The public log: the entry that made this signature count (named by a
    # later withdrawal), and the salt of its commitment when the name is hidden.
    verified_entry = models.ForeignKey(
        "ledger.LogEntry", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    log_salt = models.BinaryField(null=True, blank=True)
    # What the server no longer needs to read, sealed to the petition's custody
    # key (age files, base64, one a line): only its moderators can open it, off
    # the server. See signing/custody.py and docs/security.md.
    custody_sealed = models.TextField(blank=True, default="")
    sealed_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = SignatureQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "email_hash"], name="one_signature_per_email"
            ),
            # Several people may claim one register entry while they wait for
            # review (an impostor must not lock out the real deputy), but only
            # one of them can ever be verified as that person.
            models.UniqueConstraint(
                fields=["petition", "register_entry_key"],
                condition=models.Q(state="verified"),
                name="one_verified_signature_per_register_entry",
            ),
        ]
        indexes = [
            models.Index(
                fields=["petition", "state", "-verified_at"], name="signature_public_list"
            ),
            models.Index(fields=["state", "created"], name="signature_queue"),
        ]
        permissions = [("moderate_any", "Can moderate signatures on every petition")]

    # Set by the signing services when a verification is logged, for the page
    # or mail that hands the signer their receipt; never stored in the clear.
    receipt_key: str | None = None
    # A moderator's own words on a decision, sealed with the identity (signing/custody.py).
    moderator_note: str = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Tally changes decided by a state move, applied after the row is saved.
        self.tally_moves: list[tuple[int, tuple[str, str], str, int]] = []

    def __str__(self) -> str:
        return f"signature {self.pk} on {self.petition_id} ({self.state})"

    @property
    def public_name(self) -> str:
        return self.full_name if self.show_name else ""

    def place(self) -> tuple[str, str]:
        """Where this signature is counted: the register's word when bound, else the signer's."""
        if self.register_entry is not None:
            return self.register_entry.region, self.register_entry.municipality
        return self.region, self.municipality


class ResentLink(models.Model):
    """A further confirmation or withdrawal link of a signature, mailed when someone
    signs again with its address.

    Signing again never replaces a link: the owner of the address may still
    hold the first mail, and a withdrawal link must keep working for as long
    as the signature counts. Only the token's hash is kept, as on the signature.
    """

    class Kind(models.TextChoices):
        CONFIRM = "confirm"
        WITHDRAW = "withdraw"

    signature = models.ForeignKey(Signature, models.CASCADE, related_name="resent_links")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} link for signature {self.signature_id}"


class Subscription(models.Model):
    """The address of a verified signer who asked to be told about the petition's
    response and outcome: the one address the server keeps after a decision.

    Sealed with the server's data key (it must mail it), kept until the signer
    unsubscribes, withdraws, deletes their data (/my-data/) or the petition's
    retention purge, whichever comes first (docs/security.md, "What a seizure
    takes"). No link to the signature row: the keyed hash of the address
    (the signature's own `email_hash`) finds it for those erasures.
    """

    petition = models.ForeignKey(Petition, models.CASCADE, related_name="subscriptions")
    email = EncryptedTextField(purpose="subscription.email")
    email_hash = models.CharField(max_length=64)
    language = models.CharField(max_length=8, default="en")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "email_hash"], name="one_subscription_per_email"
            )
        ]

    def __str__(self) -> str:
        return f"subscription {self.pk} to {self.petition_id}"

    @property
    def recipient_key(self) -> str:
        """What names this subscriber's mail in the outbox (OutgoingMail.recipient_key)."""
        return f"subscription:{self.pk}"
