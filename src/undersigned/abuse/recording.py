"""Where a signature came from, written as it is signed.

Signing calls this inside its own transaction, so it imports nothing above
abuse's models: abuse's tools that read these rows (trending sources, bulk
invalidation in abuse/services.py) sit above signing, this sits below it.
"""

from django.utils import timezone

from undersigned.abuse.models import SigningSource
from undersigned.abuse.sources import Source


def source_row(petition_id: int, source: Source) -> SigningSource:
    """A signature's source row, unsaved and not yet linked to its signature."""
    return SigningSource(
        petition_id=petition_id,
        client_hash=source.client_hash,
        network_hash=source.network_hash,
        email_domain=source.email_domain,
        fill_time=source.fill_time,
        created=timezone.now(),
    )


def record_source(signature_id: int, petition_id: int, source: Source) -> None:
    """The source of a signature, replacing the one it had (signing again replaces it)."""
    # One INSERT ... ON CONFLICT instead of update_or_create's six statements:
    # this runs inside every signing transaction that is not a new signer's.
    row = source_row(petition_id, source)
    row.signature_id = signature_id
    SigningSource.objects.bulk_create(
        [row],
        update_conflicts=True,
        unique_fields=["signature"],
        update_fields=[
            "petition",
            "client_hash",
            "network_hash",
            "email_domain",
            "fill_time",
            "created",
        ],
    )
