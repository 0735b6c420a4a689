"""A petition's texts in their languages, as the public reads them, and its register's words.

The petition page, the sign form's check of which text was read
(signing/texts.py) and the signatories page share these; they import
nothing of signing, so the sign form can use them.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy

from undersigned.petitions.models import Petition, TextVersion
from undersigned.petitions.services import FreshCache, register_cache
from undersigned.registers.terms import Terms


@dataclass(frozen=True)
class Texts:
    """A public petition's texts: the newest published version in each language,
    the original first (Petition.latest_texts)."""

    versions: tuple[TextVersion, ...]

    @property
    def original(self) -> TextVersion:
        return self.versions[0]

    def in_language(self, language: str | None) -> TextVersion | None:
        return next((v for v in self.versions if v.language == language), None)

    def for_reader(self, asked: str | None, visitor: str | None = None) -> TextVersion:
        """The text a page shows: the language asked for (?lang=), else the visitor's,
        else the original."""
        return self.in_language(asked) or self.in_language(visitor) or self.original


def read_texts(petition: Petition) -> Texts:
    # A petition not yet published has no published text; its page is not
    # public, but founders sign its current one (signing.services.sign).
    return Texts(tuple(petition.latest_texts() or [petition.shown_version()]))


# "Translated from …", by the original's language; the grammar of "from" differs.
TRANSLATED_FROM = {
    "en": gettext_lazy("Translated from English"),
    "ru": gettext_lazy("Translated from Russian"),
}


def translated_from(language: str) -> str:
    known = TRANSLATED_FROM.get(language)
    if known is not None:
        return str(known)
    name = translation.get_language_info(language)["name_translated"]
    return gettext("Translated from %(language)s") % {"language": name}


def register_terms(petition: Petition) -> Terms | None:
    """The petition's register's words in the active language (None: no register)."""
    if petition.register_id is None or petition.register is None:
        return None
    return petition.register.terms(translation.get_language() or settings.LANGUAGE_CODE)


def register_name(petition: Petition) -> str:
    """The name of the petition's register as the active language shows it ("": none)."""
    terms = register_terms(petition)
    return terms.name if terms is not None else ""


# The texts a signer is shown and signs, per petition.
_texts: FreshCache[int, Texts] = register_cache(FreshCache())


def cached_texts(petition: Petition) -> Texts:
    """The texts the page shows and the sign form records, from one copy at most
    COUNT_CACHE_SECONDS old: a correction or a translation reaches both together."""
    return _texts.get(petition.pk, lambda: read_texts(petition))
