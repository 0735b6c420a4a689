from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: health endpoints, backups and restores. No models of its own."""

    name = "undersigned.ops"
    label = "ops"
