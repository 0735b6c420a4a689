from django.db import models

from undersigned.petitions.models import Petition


class HourlyCount(models.Model):
    """Verified signatures added and removed in one UTC hour, summed from the public log.

    Written only by sharing.services.absorb_log, which reads each log entry
    once; the charts read these rows (at most one per hour a petition had
    events) instead of the log or the signatures. See sharing.services.
    """

    petition = models.ForeignKey(Petition, models.CASCADE, related_name="+")
    hour = models.DateTimeField()
    verified = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["petition", "hour"], name="unique_hourly_count")
        ]

    def __str__(self) -> str:
        return f"{self.petition_id} {self.hour:%Y-%m-%d %H}h +{self.verified} -{self.removed}"


class LogCursor(models.Model):
    """The single row saying how far HourlyCount has summed the log: the next leaf index."""

    next_index = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"charts have read the log up to {self.next_index}"
