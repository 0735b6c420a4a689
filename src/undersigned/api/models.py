from django.db import models


class PetitionDump(models.Model):
    """One day's dump of every public petition with its counts, as CSV and as JSON.

    Built by the worker once a day (or by `undersigned open-data-dump`), never
    per request, and kept for OPEN_DATA_DUMP_DAYS: a download is these stored
    bytes. Every count in it was read in one statement together with the
    latest signed checkpoint, whose size and time it is stamped with
    (api/open_data.py, docs/auditing.md).
    """

    day = models.DateField(unique=True)  # the UTC date it stands for
    created = models.DateTimeField(auto_now_add=True)
    log_size = models.BigIntegerField()
    checkpoint_time = models.DateTimeField(null=True, blank=True)
    petitions = models.PositiveIntegerField()
    csv = models.TextField()
    json = models.TextField()

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"dump of {self.day} at log size {self.log_size}"
