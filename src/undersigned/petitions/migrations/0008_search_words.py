"""SearchWord: the folded words of each petition's published texts (petitions/search.py).

Filled here for the petitions that exist, from the latest published version in
each language, as petitions.search.index_petition does from now on.
"""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models


def index_existing(apps: Any, schema_editor: Any) -> None:
    from undersigned.registers.matching import search_words

    TextVersion = apps.get_model("petitions", "TextVersion")
    SearchWord = apps.get_model("petitions", "SearchWord")
    latest: dict[tuple[int, str], Any] = {}
    for version in TextVersion.objects.filter(published_at__isnull=False).order_by("number"):
        latest[(version.petition_id, version.language)] = version
    words: dict[int, set[str]] = {}
    for (petition_id, _), version in latest.items():
        found = words.setdefault(petition_id, set())
        for text in (version.title, version.body):
            found.update(w[:40] for w in search_words(text))
    SearchWord.objects.bulk_create(
        [
            SearchWord(petition_id=petition_id, word=word)
            for petition_id, found in words.items()
            for word in sorted(found)
        ],
        batch_size=500,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("petitions", "0007_addressee_steps_answers"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchWord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("word", models.CharField(max_length=40)),
                (
                    "petition",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="search_words",
                        to="petitions.petition",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("word", "petition"), name="unique_search_word"
                    )
                ],
            },
        ),
        migrations.RunPython(index_existing, migrations.RunPython.noop, elidable=True),
    ]
