"""Signers may ask to be told about the response and outcome; their addresses are
kept for that alone, in Subscription (issue 14 §3)."""

import django.db.models.deletion
from django.db import migrations, models

import undersigned.core.fields


class Migration(migrations.Migration):

    dependencies = [
        ("petitions", "0007_addressee_steps_answers"),
        ("signing", "0006_paper_channel"),
    ]

    operations = [
        migrations.AddField(
            model_name="signature",
            name="wants_updates",
            field=models.BooleanField(default=False),
        ),
        migrations.CreateModel(
            name="Subscription",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "email",
                    undersigned.core.fields.EncryptedTextField(purpose="subscription.email"),
                ),
                ("email_hash", models.CharField(max_length=64)),
                ("language", models.CharField(default="en", max_length=8)),
                ("created", models.DateTimeField(auto_now_add=True)),
                (
                    "petition",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="subscriptions",
                        to="petitions.petition",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("petition", "email_hash"), name="one_subscription_per_email"
                    )
                ],
            },
        ),
    ]
