from django.db import migrations


class Migration(migrations.Migration):
    """AuditEvent moves to the audit app (its 0001): state only, no SQL, the table stays."""

    dependencies = [
        ("moderation", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEvent")],
            database_operations=[],
        ),
    ]
