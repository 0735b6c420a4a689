from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_save


class PetitionsConfig(AppConfig):
    name = "undersigned.petitions"
    label = "petitions"

    def ready(self) -> None:
        from undersigned.petitions.models import TextVersion

        # A signal rather than a call in each service: every way a text gets
        # published (publishing, a correction, a translation, the admin, the
        # demo) reaches the search index, in the same transaction.
        post_save.connect(_index_published, sender=TextVersion, dispatch_uid="petition-search")


def _index_published(sender: type, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw or instance.published_at is None:
        return  # fixtures load words of their own; drafts are never searched
    from undersigned.petitions.search import index_petition

    index_petition(instance.petition_id)
