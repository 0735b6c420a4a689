import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("signing", "0004_custody"),
    ]

    operations = [
        migrations.CreateModel(
            name="ResentLink",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("confirm", "Confirm"), ("withdraw", "Withdraw")], max_length=8
                    ),
                ),
                ("token_hash", models.CharField(max_length=64, unique=True)),
                ("created", models.DateTimeField(auto_now_add=True)),
                (
                    "signature",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="resent_links",
                        to="signing.signature",
                    ),
                ),
            ],
        ),
    ]
