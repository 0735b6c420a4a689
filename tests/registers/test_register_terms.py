"""A register's name, places and roles in another language: the rules, the admin, the command.

Register.translations maps the register's own words to the words a page in
another language shows (registers/terms.py); the pages that show them are
tested in test_register_pages.py.
"""

import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from undersigned.registers.models import Register
from undersigned.registers.terms import Terms, canonical, problems, terms_for

RU = {
    "ru": {
        "name": "Депутаты",
        "regions": {"St Petersburg": "Санкт-Петербург", "Samara Oblast": "Самарская область"},
        "municipalities": {"Semyonovsky": "Семёновский", "Samara": "Самара"},
        "roles": {"municipal deputy": "муниципальный депутат"},
    }
}


# ------------------------------------------------------------------ the rules alone


def test_a_page_shows_the_translation_or_else_the_stored_word() -> None:
    russian = terms_for(RU, "ru", name="Deputies")
    assert russian.name == "Депутаты"
    assert russian.region("St Petersburg") == "Санкт-Петербург"
    assert russian.show("municipality", "Semyonovsky") == "Семёновский"
    assert russian.show("role", "municipal deputy") == "муниципальный депутат"
    assert russian.municipality("Kolpino") == "Kolpino"  # not translated: as stored
    english = terms_for(RU, "en", name="Deputies", description="Who may sign")
    assert english == Terms(name="Deputies", description="Who may sign")
    assert english.region("St Petersburg") == "St Petersburg"


@pytest.mark.parametrize(
    ("kind", "typed", "stored"),
    [
        ("municipalities", "Семёновский", "Semyonovsky"),
        ("municipalities", "  семёновский ", "Semyonovsky"),
        ("roles", "Муниципальный  депутат", "municipal deputy"),
        ("regions", "Самарская область", "Samara Oblast"),
        ("municipalities", "Semyonovsky", "Semyonovsky"),
        ("municipalities", "Колпино", "Колпино"),  # no translation names it: as typed
        ("roles", "Семёновский", "Семёновский"),  # a municipality's word is no role
    ],
)
def test_a_typed_translation_stands_for_the_stored_word(kind: str, typed: str, stored: str) -> None:
    assert canonical(kind, typed, RU) == stored


@pytest.mark.parametrize(
    ("translations", "problem"),
    [
        ([], "must be a JSON object"),
        ({"de": {}}, "unknown language 'de'"),
        ({"ru": "Депутаты"}, "ru: must be an object"),
        ({"ru": {"title": "x"}}, "ru.title: unknown key"),
        ({"ru": {"name": 5}}, "ru.name: must be a string"),
        ({"ru": {"regions": ["Москва"]}}, "ru.regions: must be an object"),
        ({"ru": {"roles": {"municipal deputy": " "}}}, "must be a non-empty string"),
        ({"ru": {"municipalities": {"Samara": "С" * 201}}}, "longer than 200"),
    ],
)
def test_translations_that_cannot_be_shown_are_refused(translations: Any, problem: str) -> None:
    found = problems(translations, ["en", "ru"])
    assert any(problem in p for p in found), found


def test_good_translations_have_no_problem() -> None:
    assert problems(RU, ["en", "ru"]) == []
    assert problems({}, ["en", "ru"]) == []


# ------------------------------------------------------------------ the pages


@pytest.mark.django_db
def test_the_admin_refuses_translations_it_cannot_show(register: Register) -> None:
    register.translations = {"ru": {"regions": {"St Petersburg": ""}}}
    with pytest.raises(ValidationError) as refused:
        register.full_clean()
    assert "translations" in refused.value.message_dict


# ------------------------------------------------------------------ the command


CSV = """full_name,role,municipality,region,email
Gleb Zorin,municipal deputy,Samara,Samara Oblast,
"""


@pytest.mark.django_db
def test_import_register_sets_the_translations(tmp_path: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    people, words = tmp_path / "samara.csv", tmp_path / "samara-ru.json"
    people.write_text(CSV)
    words.write_text(json.dumps(RU, ensure_ascii=False), encoding="utf-8")
    out = StringIO()
    options = {"register": "Samara", "translations": str(words), "stdout": out}
    call_command("import-register", str(people), **options)
    assert "imported 1 people" in out.getvalue()
    register = Register.objects.get(name="Samara")
    assert register.terms("ru").municipality("Samara") == "Самара"
    assert register.entries.get().municipality == "Samara"  # the stored word stays


@pytest.mark.django_db
def test_import_register_with_bad_translations_imports_nothing(tmp_path: Any) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    people, words = tmp_path / "samara.csv", tmp_path / "bad.json"
    people.write_text(CSV)
    words.write_text('{"de": {"name": "Abgeordnete"}}')
    with pytest.raises(CommandError, match="unknown language 'de'"):
        call_command("import-register", str(people), register="Samara", translations=str(words))
    words.write_text("{not json")
    with pytest.raises(CommandError, match="not UTF-8 JSON"):
        call_command("import-register", str(people), register="Samara", translations=str(words))
    assert not Register.objects.exists()
