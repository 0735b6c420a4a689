"""Tally.verified_paper: how many of a place's verified signatures were entered from paper.

Zero on every existing row is the truth: no signature was entered from paper
before this column existed.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('petitions', '0005_counts_never_back'),
    ]

    operations = [
        migrations.AddField(
            model_name='tally',
            name='verified_paper',
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddConstraint(
            model_name='tally',
            constraint=models.CheckConstraint(condition=models.Q(('verified_paper__gte', 0), ('verified_paper__lte', models.F('verified'))), name='tally_paper_within_verified'),
        ),
    ]
