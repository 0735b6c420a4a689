"""CheckpointCount: each petition's counts at the latest signed checkpoint.

The counts are filled here from the entries below the latest checkpoint, in
the same transaction as the table is made: from then on, signing each
checkpoint moves them by the entries it adds (ledger.services).
"""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Count

COLUMNS = {
    "signature.verified": "verified",
    "signature.withdrawn": "withdrawn",
    "signature.invalidated": "invalidated",
}


def fill(apps: Any, schema_editor: Any) -> None:
    SignedCheckpoint = apps.get_model("ledger", "SignedCheckpoint")
    LogEntry = apps.get_model("ledger", "LogEntry")
    CheckpointCount = apps.get_model("ledger", "CheckpointCount")
    latest = SignedCheckpoint.objects.order_by("-size").first()
    if latest is None:
        return
    found: dict[int, dict[str, int]] = {}
    rows = (
        LogEntry.objects.filter(index__lt=latest.size, event__in=list(COLUMNS))
        .values("petition_id", "event")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        found.setdefault(row["petition_id"], {})[COLUMNS[row["event"]]] = row["n"]
    CheckpointCount.objects.bulk_create(
        CheckpointCount(
            petition_id=petition_id,
            verified=n.get("verified", 0) - n.get("withdrawn", 0) - n.get("invalidated", 0),
            withdrawn=n.get("withdrawn", 0),
            invalidated=n.get("invalidated", 0),
        )
        for petition_id, n in found.items()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0001_initial"),
        ("petitions", "0003_petition_custody_recipient"),
    ]

    operations = [
        migrations.CreateModel(
            name="CheckpointCount",
            fields=[
                (
                    "petition",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="checkpoint_count",
                        serialize=False,
                        to="petitions.petition",
                    ),
                ),
                ("verified", models.BigIntegerField(default=0)),
                ("withdrawn", models.BigIntegerField(default=0)),
                ("invalidated", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
