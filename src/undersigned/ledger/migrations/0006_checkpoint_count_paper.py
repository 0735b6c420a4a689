"""CheckpointCount.paper: of each petition's verified count at the latest
checkpoint, the signatures entered from paper.

Filled here from the entries below the latest checkpoint, in the same
transaction as the column is added: the verifications marked "channel":
"paper", less the withdrawals and invalidations that name them. From then on,
signing each checkpoint moves it with the others (ledger.services).
"""

from typing import Any

from django.db import migrations, models
from django.db.models import Count

VERIFIED = "signature.verified"
REMOVALS = ["signature.withdrawn", "signature.invalidated"]


def fill(apps: Any, schema_editor: Any) -> None:
    SignedCheckpoint = apps.get_model("ledger", "SignedCheckpoint")
    LogEntry = apps.get_model("ledger", "LogEntry")
    CheckpointCount = apps.get_model("ledger", "CheckpointCount")
    latest = SignedCheckpoint.objects.order_by("-size").first()
    if latest is None:
        return
    below = LogEntry.objects.filter(index__lt=latest.size)
    paper: dict[int, int] = {}
    added = (
        below.filter(event=VERIFIED, payload__channel="paper")
        .values("petition_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in added:
        paper[row["petition_id"]] = row["n"]
    removed = (
        below.filter(event__in=REMOVALS, ref_entry__payload__channel="paper")
        .values("petition_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in removed:
        paper[row["petition_id"]] = paper.get(row["petition_id"], 0) - row["n"]
    for petition_id, n in paper.items():
        # A petition with paper entries below the checkpoint has its row already.
        CheckpointCount.objects.filter(petition_id=petition_id).update(paper=n)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0005_witnessing"),
    ]

    operations = [
        migrations.AddField(
            model_name="checkpointcount",
            name="paper",
            field=models.BigIntegerField(default=0),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
