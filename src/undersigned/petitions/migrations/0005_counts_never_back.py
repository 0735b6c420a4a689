"""Tally.changes and CountMark: the order of two reads of a petition's counts,
and the newest counts any process has served (petitions/standing.py).

Existing rows start at 0 changes: only differences between later reads matter.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("petitions", "0004_tally_verified_hidden"),
    ]

    operations = [
        migrations.AddField(
            model_name="tally",
            name="changes",
            field=models.BigIntegerField(default=0),
        ),
        migrations.CreateModel(
            name="CountMark",
            fields=[
                (
                    "petition",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="count_mark",
                        serialize=False,
                        to="petitions.petition",
                    ),
                ),
                ("changes", models.BigIntegerField()),
                ("log_size", models.BigIntegerField()),
                ("read_at", models.FloatField()),
                ("counts", models.TextField()),
            ],
        ),
    ]
