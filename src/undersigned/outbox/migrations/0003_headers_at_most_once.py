"""Mail may carry extra headers (List-Unsubscribe), and be sent at most once (issue 14 §3)."""

from django.db import migrations, models

import undersigned.core.fields


class Migration(migrations.Migration):

    dependencies = [
        ("outbox", "0002_alter_outgoingmail_body_alter_outgoingmail_subject_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="outgoingmail",
            name="headers",
            field=undersigned.core.fields.EncryptedTextField(
                blank=True, default="", purpose="outbox.headers"
            ),
        ),
        migrations.AddField(
            model_name="outgoingmail",
            name="at_most_once",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="outgoingmail",
            name="failures",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="outgoingmail",
            name="gave_up_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="outgoingmail",
            name="recipient_key",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
    ]
