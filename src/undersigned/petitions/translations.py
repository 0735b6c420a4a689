"""Translations of a petition's text: each one a text version of its own, in its language.

A translation is frozen and hashed like the original (TextVersion.compute_sha256
covers title, language and body) and entered in the public log as a text
version, so that a signature names exactly the text its signer read. On a
draft it waits, and can be rewritten, until the petition is published with
all its translations (services.publish); on an open petition it is published
at once. A correction of one language is a new version of that language
(services.new_version). Version numbers stay unique per petition, whatever
the language; the original language is the first version's.
"""

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from undersigned.audit import services as audit
from undersigned.ledger import services as ledger
from undersigned.petitions.forms import TranslationForm
from undersigned.petitions.models import Petition, TextVersion
from undersigned.petitions.services import Actor, PetitionError, Status
from undersigned.tlog import entries

TITLE_LENGTH = TextVersion._meta.get_field("title").max_length or 200
BODY_LENGTH = TextVersion._meta.get_field("body").max_length or 20000


def languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def add_translation(
    petition: Petition, actor: Actor, *, title: str, body: str, language: str
) -> TextVersion:
    """Add a translation of the current text (a draft's: save or rewrite it).

    Refused, with nothing changed, for a language the petition already has
    published (correct it instead), its original language, a closed petition,
    or an empty text.
    """
    title, body = " ".join(title.split()), body.replace("\r\n", "\n").strip()
    if language not in languages():
        raise PetitionError(_("Choose one of the site's languages."))
    if not title or not body:
        raise PetitionError(_("A translation needs its title and its text."))
    if len(title) > TITLE_LENGTH or len(body) > BODY_LENGTH:
        raise PetitionError(_("The translation is longer than a petition's text may be."))
    with transaction.atomic():
        petition = Petition.objects.select_for_update().get(pk=petition.pk)
        if petition.status not in (Status.DRAFT, Status.OPEN):
            raise PetitionError(_("Only a draft or an open petition can be given a translation."))
        if language == petition.original_language():
            raise PetitionError(
                _("This is the language the petition is written in: correct its text instead.")
            )
        existing = petition.versions.filter(language=language).order_by("-number").first()
        if existing is not None and existing.published_at is not None:
            raise PetitionError(
                _(
                    "The petition has a published text in this language already: "
                    "publish a correction of it instead."
                )
            )
        # A draft's translation not yet published is rewritten in place.
        version = existing or TextVersion(
            petition=petition,
            number=petition.next_number(),
            language=language,
            published_at=timezone.now() if petition.status == Status.OPEN else None,
        )
        version.title, version.body = title, body
        version.save()
        if version.published_at is None:
            audit.record(
                "petition.translation_saved",
                actor=actor,
                petition=petition,
                text_version=version.number,
                language=language,
            )
            return version
        ledger.record_petition_event(entries.PETITION_TEXT_VERSION, petition, version)
        audit.record(
            "petition.translation_published",
            actor=actor,
            petition=petition,
            text_version=version.number,
            language=language,
            sha256=version.sha256,
        )
        return version


def translation_languages(petition: Petition) -> list[tuple[str, str]]:
    """The languages a translation may be added in: all but the original and, once the
    petition is open, those it has published (a draft's may be rewritten)."""
    original = petition.original_language()
    published = set(
        petition.versions.filter(published_at__isnull=False).values_list("language", flat=True)
    )
    return [
        (code, name)
        for code, name in settings.LANGUAGES
        if code != original and code not in published
    ]


def translation_context(petition: Petition) -> dict[str, Any]:
    """What the manage page shows of the petition's texts and the form to add one."""
    if petition.status not in (Status.DRAFT, Status.OPEN):
        return {"texts": petition.latest_texts(), "translation_form": None}
    choices = translation_languages(petition)
    return {
        "texts": petition.latest_texts(published=petition.status != Status.DRAFT),
        "translation_form": TranslationForm(languages=choices) if choices else None,
    }
