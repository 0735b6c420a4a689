"""System checks of our own, run by `undersigned check` (`--deploy` for production)."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def custody_key_is_set(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    if settings.CUSTODY_RECIPIENT:
        return []
    return [
        Warning(
            "UNDERSIGNED_CUSTODY_RECIPIENT is not set: unless a petition has a custody key "
            "of its own, the identities the server stops holding are destroyed, and nobody "
            "can ever list who signed.",
            hint=(
                "On a moderator's own machine run `undersigned custody keygen --out FILE` and "
                "give the site only the printed age1… public key (docs/security.md)."
            ),
            id="undersigned.W001",
        )
    ]
