from django.db import models


class LogEntry(models.Model):
    """One event of the public log.

    Requests only insert rows (index still empty) in the same transaction as
    the change they record; the worker sequences them into the tree in id
    order, fixing `index` and `data` for good. That keeps the hot path to one
    insert and the tree to a single writer.
    """

    index = models.BigIntegerField(null=True, blank=True, unique=True)
    petition = models.ForeignKey("petitions.Petition", models.PROTECT, related_name="log_entries")
    signature = models.ForeignKey(
        "signing.Signature", models.SET_NULL, null=True, blank=True, related_name="log_entries"
    )
    event = models.CharField(max_length=40)
    # The arguments of tlog.entries.encode, but for `ref`, which names a
    # leaf index that may not exist yet when the row is written.
    payload = models.JSONField()
    ref_entry = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="removals"
    )
    data = models.BinaryField(null=True, blank=True)
    receipt_key_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # A hidden signer's opening of the commitment (name, place, salt), sealed to
    # the receipt key that only the signer holds (core/crypto.seal_for_holder):
    # the receipt shows it when they bring the key, a seized server cannot.
    opening_sealed = models.BinaryField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["id"], condition=models.Q(index__isnull=True), name="log_entry_pending"
            ),
            # One petition's entries in log order, a page at a time (/log/?petition=),
            # however small a part of the log they are.
            models.Index(fields=["petition", "index"], name="log_entry_petition_index"),
        ]

    def __str__(self) -> str:
        return f"log entry {self.index if self.index is not None else '(pending)'} {self.event}"


class LogHash(models.Model):
    """A stored tree hash at its tlog storage index; written once, never changed."""

    index = models.BigIntegerField(primary_key=True)
    hash = models.BinaryField(max_length=32)

    def __str__(self) -> str:
        return f"hash {self.index}"


class LogState(models.Model):
    """The single row that serialises sequencing: how many entries the tree holds."""

    size = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"log of {self.size}"


class SignedCheckpoint(models.Model):
    size = models.BigIntegerField(unique=True)
    root = models.BinaryField(max_length=32)
    note = models.TextField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-size"]

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class CheckpointCount(models.Model):
    """A petition's counts from the log's entries up to the latest signed checkpoint.

    Moved in the transaction that signs each checkpoint, by the entries it
    adds, so that a page can say what a checkpoint holds for a petition (the
    number a verifier recomputes from that checkpoint's entries) without
    counting entries. A petition without a row has none in the checkpoint.
    """

    petition = models.OneToOneField(
        "petitions.Petition", models.CASCADE, primary_key=True, related_name="checkpoint_count"
    )
    verified = models.BigIntegerField(default=0)
    withdrawn = models.BigIntegerField(default=0)
    invalidated = models.BigIntegerField(default=0)
    # Of `verified`, the verifications marked "channel": "paper" (entered from
    # paper sheets) that no withdrawal or invalidation in the checkpoint names.
    paper = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.verified} verified in the latest checkpoint"


class Cosignature(models.Model):
    """A witness's cosignature of a signed checkpoint (c2sp.org/tlog-cosignature).

    Stored only after it verified against the witness's configured key; the
    checkpoint is served with every one of them appended (/log/checkpoint).
    """

    checkpoint = models.ForeignKey(
        SignedCheckpoint, models.CASCADE, related_name="cosignatures"
    )
    # The policy-local name the site gave the witness (LEDGER_WITNESSES).
    witness = models.CharField(max_length=64)
    # The signed-note key the line is from: a reconfigured key is another signer.
    key_name = models.CharField(max_length=255)
    key_id = models.BigIntegerField()
    # The signature line, as the witness sent it: "— <key name> <base64>\n".
    line = models.TextField()
    # The cosignature's own timestamp (POSIX seconds), as the witness signed it.
    timestamp = models.BigIntegerField()
    received = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "key_name", "key_id"], name="cosignature_once_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.witness} cosigned checkpoint {self.checkpoint_id}"


class WitnessStatus(models.Model):
    """What the worker knows of one witness: the size it cosigned, its answers, its backoff.

    Written by the worker outside any transaction that sequences or signs, and
    read by /readyz. Counters only go up; they count requests, never people.
    """

    name = models.CharField(max_length=64, primary_key=True)
    # The tree size this witness last cosigned, as far as the site knows (the
    # "old" of the next request; a 409 corrects it).
    size = models.BigIntegerField(default=0)
    cosigned = models.BigIntegerField(default=0)
    conflicts = models.BigIntegerField(default=0)  # 409: the witness was at another size
    bad_requests = models.BigIntegerField(default=0)  # 400
    refused = models.BigIntegerField(default=0)  # 403: our signature was not accepted
    unknown_log = models.BigIntegerField(default=0)  # 404: the witness does not follow us
    inconsistent = models.BigIntegerField(default=0)  # 422: our proof did not verify for it
    timeouts = models.BigIntegerField(default=0)
    unreachable = models.BigIntegerField(default=0)  # no connection, or it broke
    bad_responses = models.BigIntegerField(default=0)  # a 200 without a valid cosignature
    other_errors = models.BigIntegerField(default=0)  # any other status (5xx, ...)
    consecutive_failures = models.IntegerField(default=0)
    next_attempt = models.DateTimeField(null=True, blank=True)
    last_success = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"witness {self.name} at size {self.size}"
