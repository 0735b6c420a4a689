from typing import Any

from django.apps import AppConfig, apps
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_migrate


def create_cache_tables(sender: AppConfig, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """The shared cache may live in the database; `migrate` alone sets it up.

    Django sends post_migrate once for each app that has a models module, and
    this app has none, so a receiver bound to it would never run. It listens
    to every app instead and acts once per `migrate`, on the last app, when
    every table the migration makes is in place.
    """
    with_models = [config for config in apps.get_app_configs() if config.models_module]
    if not with_models or sender is not with_models[-1]:
        return
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


class CoreConfig(AppConfig):
    name = "undersigned.core"
    label = "core"

    def ready(self) -> None:
        post_migrate.connect(create_cache_tables, dispatch_uid="undersigned.core.cache_tables")
        from undersigned.core import checks  # noqa: F401 - registers them
