"""Signature.channel and sheet_reference: signatures entered from paper sheets (signing/paper.py).

Every existing signature was given online, the default.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('signing', '0005_resentlink'),
    ]

    operations = [
        migrations.AddField(
            model_name='signature',
            name='channel',
            field=models.CharField(choices=[('online', 'Online'), ('paper', 'On paper')], default='online', max_length=6),
        ),
        migrations.AddField(
            model_name='signature',
            name='sheet_reference',
            field=models.CharField(blank=True, default='', max_length=120),
        ),
    ]
