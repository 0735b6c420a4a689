from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def create_cache_tables(**kwargs: Any) -> None:
    # The shared cache may live in the database; `migrate` alone sets it up.
    from django.core.management import call_command

    call_command("createcachetable", verbosity=0)


class CoreConfig(AppConfig):
    name = "undersigned.core"
    label = "core"

    def ready(self) -> None:
        post_migrate.connect(create_cache_tables, sender=self)
