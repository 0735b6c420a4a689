from django.db import models


class DataRequest(models.Model):
    """A signer's emailed link to see and delete what is held about their address."""

    email_hash = models.CharField(max_length=64, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    expires = models.DateTimeField()
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"data request {self.pk}"
