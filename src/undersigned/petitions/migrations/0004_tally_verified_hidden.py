"""Tally.verified_hidden: how many of a place's verified signers chose not to be shown.

Filled from the signature rows here, in the same transaction as the column is
added: a zero left in it would count every hidden signer as shown, and the
public reads would then attribute them all to their places.
"""

from typing import Any

from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import Coalesce


def fill(apps: Any, schema_editor: Any) -> None:
    Signature = apps.get_model("signing", "Signature")
    Tally = apps.get_model("petitions", "Tally")
    rows = (
        Signature.objects.filter(state="verified", show_name=False)
        .annotate(
            place_region=Coalesce("register_entry__region", "region"),
            place_municipality=Coalesce("register_entry__municipality", "municipality"),
        )
        .values("petition_id", "place_region", "place_municipality")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        Tally.objects.filter(
            petition_id=row["petition_id"],
            region=row["place_region"],
            municipality=row["place_municipality"],
        ).update(verified_hidden=row["n"])


class Migration(migrations.Migration):
    dependencies = [
        ("petitions", "0003_petition_custody_recipient"),
        # The signature rows as they were first laid out: state, visibility, place.
        ("signing", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="tally",
            name="verified_hidden",
            field=models.BigIntegerField(default=0),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="tally",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("verified_hidden__gte", 0), ("verified_hidden__lte", models.F("verified"))
                ),
                name="tally_hidden_within_verified",
            ),
        ),
    ]
