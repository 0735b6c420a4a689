"""A register's words in other languages: its name, its places and its roles.

A register stores each entry's region, municipality and role once, in the
words it was imported with (its canonical values). Tallies, the public log,
matching and exports use those and only those. A page in another language
shows them through the register's translations, a JSON object kept on the
register (Register.translations):

    {
      "ru": {
        "name": "Муниципальные депутаты",
        "description": "…",
        "regions": {"St Petersburg": "Санкт-Петербург"},
        "municipalities": {"Semyonovsky": "Семёновский"},
        "roles": {"municipal deputy": "муниципальный депутат"}
      }
    }

Every key is optional; a word with no translation is shown as stored. A
municipality's translation is by its name alone, whatever its region: the
same name is the same word. Pure: no Django, so the rules are tested alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

KINDS: Final = ("regions", "municipalities", "roles")
# The register's own texts, and how long each may be (its columns' lengths).
TEXTS: Final = {"name": 200, "description": 2000}
# What one shown word may be: as long as the register's own columns.
MAX_LENGTH: Final = 200


@dataclass(frozen=True)
class Terms:
    """A register's words as a page in one language shows them."""

    name: str = ""
    description: str = ""
    regions: Mapping[str, str] = field(default_factory=dict)
    municipalities: Mapping[str, str] = field(default_factory=dict)
    roles: Mapping[str, str] = field(default_factory=dict)

    def region(self, value: str) -> str:
        return self.regions.get(value, value)

    def municipality(self, value: str) -> str:
        return self.municipalities.get(value, value)

    def role(self, value: str) -> str:
        return self.roles.get(value, value)

    def show(self, kind: str, value: str) -> str:
        """`value` of kind "region", "municipality" or "role", in this language."""
        shown = {"region": self.region, "municipality": self.municipality, "role": self.role}
        return shown[kind](value)


def terms_for(
    translations: Mapping[str, Any], language: str, *, name: str, description: str = ""
) -> Terms:
    """The words a page in `language` shows; the stored ones where nothing is translated.

    `translations` is assumed valid (problems() is empty): the admin and the
    command refuse anything else before it is saved.
    """
    own = translations.get(language) or {}
    return Terms(
        name=own.get("name") or name,
        description=own.get("description") or description,
        regions=own.get("regions") or {},
        municipalities=own.get("municipalities") or {},
        roles=own.get("roles") or {},
    )


def canonical(kind: str, typed: str, translations: Mapping[str, Any]) -> str:
    """The stored word a signer meant when they typed one of its translations.

    A Russian deputy who picks "Семёновский" from the form's suggestions means
    the register's "Semyonovsky": counted, matched and logged as that. Compared
    without regard to case or spacing; anything else is returned as typed.
    """
    wanted = _fold(typed)
    if not wanted:
        return typed
    for own in translations.values():
        if not isinstance(own, Mapping):
            continue
        for stored, shown in (own.get(kind) or {}).items():
            if _fold(shown) == wanted:
                return str(stored)
    return typed


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def problems(translations: Any, languages: Iterable[str]) -> list[str]:
    """What is wrong with a register's translations (empty: nothing).

    English sentences for the operator (the admin and import-register show them).
    """
    known = list(languages)
    if not isinstance(translations, Mapping):
        return ["the translations must be a JSON object of languages"]
    found: list[str] = []
    for language, own in translations.items():
        if language not in known:
            found.append(f"unknown language {language!r} (the site has {', '.join(known)})")
            continue
        if not isinstance(own, Mapping):
            found.append(f"{language}: must be an object")
            continue
        for key, value in own.items():
            where = f"{language}.{key}"
            if key in TEXTS:
                if not isinstance(value, str):
                    found.append(f"{where}: must be a string")
                elif len(value) > TEXTS[key]:
                    found.append(f"{where}: longer than {TEXTS[key]} characters")
            elif key in KINDS:
                if not isinstance(value, Mapping):
                    found.append(f"{where}: must be an object of stored word to shown word")
                    continue
                for stored, shown in value.items():
                    if not isinstance(shown, str) or not shown.strip():
                        found.append(f"{where}[{stored!r}]: must be a non-empty string")
                    elif len(shown) > MAX_LENGTH:
                        found.append(f"{where}[{stored!r}]: longer than {MAX_LENGTH} characters")
            else:
                found.append(f"{where}: unknown key (use {', '.join((*TEXTS, *KINDS))})")
    return found
