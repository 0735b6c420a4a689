from django.apps import AppConfig


class SharingConfig(AppConfig):
    """Charts, the live count, embeddable counters, share links, previews and QR codes."""

    name = "undersigned.sharing"
    label = "sharing"
