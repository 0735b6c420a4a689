from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from undersigned.outbox.models import OutgoingMail
from undersigned.petitions.models import Petition
from undersigned.signing.models import Subscription


class UpdateRun(models.Model):
    """One update (the response, a debate scheduled, a debate held) mailed to the
    petition's subscribers, in batches, at the site's pace.

    The worker writes the mails a batch at a time (updates.services.fill), in
    subscription order from `cursor`, each batch in one transaction with the
    cursor: after a crash the run resumes where its last batch ended, and the
    unique (run, subscription) of UpdateMail makes a second mail to anyone
    impossible. The outbox sends them at most once (OutgoingMail.at_most_once).
    """

    class Kind(models.TextChoices):
        RESPONSE = "response", _("Response")
        DEBATE_SCHEDULED = "debate_scheduled", _("Debate scheduled")
        DEBATED = "debated", _("Debated")

    petition = models.ForeignKey(Petition, models.CASCADE, related_name="update_runs")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    # The subscribers it goes to: those subscribed when it started, up to this id.
    last_subscription = models.BigIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    cursor = models.BigIntegerField(default=0)  # the last subscription a mail was written for
    next_slot = models.DateTimeField(null=True, blank=True)  # when its next mail may go
    filled_at = models.DateTimeField(null=True, blank=True)  # every mail written

    class Meta:
        ordering = ["created", "id"]
        constraints = [
            models.UniqueConstraint(fields=["petition", "kind"], name="one_update_run_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind} update of {self.petition_id}"


class UpdateMail(models.Model):
    """One subscriber's mail of a run, and the hash of its unsubscribe link's token."""

    run = models.ForeignKey(UpdateRun, models.CASCADE, related_name="mails")
    # Empty once the subscriber left (unsubscribed, withdrew, erased their
    # data) or the petition's data was purged; the mail is then dropped if unsent.
    subscription = models.ForeignKey(
        Subscription, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Empty once the outbox forgot the mail: dropped unsent, or purged a month after sending.
    mail = models.ForeignKey(
        OutgoingMail, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "subscription"], name="one_update_mail_each")
        ]

    def __str__(self) -> str:
        return f"update mail {self.pk} of run {self.run_id}"
