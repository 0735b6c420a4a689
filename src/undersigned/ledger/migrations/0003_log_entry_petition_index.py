"""An index on (petition, index): one petition's entries in log order, a page
at a time (/log/?petition=), however small a part of the log they are.

Built without blocking writes (docs/deploying.md, "Upgrades"): the log
table grows with every signature.
"""

from django.db import migrations, models

from undersigned.core.schema import AddIndexSafely


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("ledger", "0002_checkpoint_counts")]

    operations = [
        AddIndexSafely(
            model_name="logentry",
            index=models.Index(fields=["petition", "index"], name="log_entry_petition_index"),
        ),
    ]
