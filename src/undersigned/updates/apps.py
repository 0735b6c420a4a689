from django.apps import AppConfig


class UpdatesConfig(AppConfig):
    """Telling signers who asked for it about a petition's response and outcome."""

    name = "undersigned.updates"
    label = "updates"
    default_auto_field = "django.db.models.BigAutoField"
