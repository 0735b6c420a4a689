"""An index on the unsent mail's recipient keys, for dropping a leaver's unsent mail.

Built without blocking writes (docs/deploying.md, "Upgrades"): the outbox
takes a row for every signature in a surge.
"""

from django.db import migrations, models

from undersigned.core.schema import AddIndexSafely


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("outbox", "0003_headers_at_most_once")]

    operations = [
        AddIndexSafely(
            model_name="outgoingmail",
            index=models.Index(
                condition=models.Q(
                    ("sent_at__isnull", True), models.Q(("recipient_key", ""), _negated=True)
                ),
                fields=["recipient_key"],
                name="outgoing_mail_recipient",
            ),
        ),
    ]
