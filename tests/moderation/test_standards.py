"""The published standards: seeded, shown at /standards/, edited by staff (audited)."""

from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from tests.submissions import client_of, site_moderator
from undersigned.audit.models import AuditEvent
from undersigned.petitions.models import Standard, StandardText

pytestmark = pytest.mark.django_db

SEEDED = [
    "duplicate",
    "no-action",
    "defamatory",
    "offensive",
    "personal-data",
    "outside-remit",
    "confidential",
    "advertising",
    "nonsense",
]


@pytest.fixture
def staff() -> User:
    user = User.objects.create_user("clerk", "clerk@example.org", "correct horse battery")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    for codename in ("change_standard", "add_standard"):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return User.objects.get(pk=user.pk)


def edit_form(standard: Standard, **changes: str) -> dict[str, str]:
    texts = {t.language: t for t in standard.texts.all()}
    data = {"position": str(standard.position)}
    for language, text in texts.items():
        data[f"title_{language}"], data[f"text_{language}"] = text.title, text.text
    for flag in ("hides_text", "names_original", "retired"):
        if getattr(standard, flag):
            data[flag] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_new_site_has_the_standards_a_petitions_office_uses() -> None:
    assert list(Standard.objects.values_list("code", flat=True)) == SEEDED
    hiding = set(Standard.objects.filter(hides_text=True).values_list("code", flat=True))
    assert hiding == {"defamatory", "offensive", "personal-data", "confidential"}
    assert list(Standard.objects.filter(names_original=True).values_list("code", flat=True)) == [
        "duplicate"
    ]
    # Each in both languages.
    assert StandardText.objects.filter(language="ru").count() == len(SEEDED)
    assert StandardText.objects.filter(language="en").count() == len(SEEDED)


def test_the_public_page_lists_them_in_the_reader_s_language() -> None:
    page = Client().get("/standards/").content.decode()
    assert '<h2 class="first" id="standard-defamatory" lang="en">Defamatory</h2>' in page
    assert 'id="duplicate"' in page
    assert "A petition rejected for this is listed without its title or text." in page
    russian = Client(HTTP_ACCEPT_LANGUAGE="ru").get("/standards/").content.decode()
    assert "Требования к петициям" in russian and ">Клевета</h2>" in russian
    # Linked from every page.
    assert 'href="/standards/"' in Client().get("/").content.decode()


def test_staff_edit_a_standard_and_the_change_is_audited(staff: User) -> None:
    client = client_of(staff)
    assert client.get("/moderation/standards/").status_code == 200
    standard = Standard.objects.get(code="advertising")
    response = client.post(
        "/moderation/standards/advertising/",
        edit_form(
            standard,
            title_en="Advertising",
            text_en="It promotes a product, a service or a business.",
            hides_text="on",
        ),
    )
    assert response.status_code == 302
    standard.refresh_from_db()
    assert standard.hides_text and standard.title == "Advertising"
    event = AuditEvent.objects.get(action="standard.changed")
    assert event.actor == staff and event.petition is None
    assert event.details["standard"] == "advertising"
    assert event.details["changed"] == ["hides_text", "text_en"]
    assert "It promotes a product, a service or a business." in Client().get(
        "/standards/"
    ).content.decode()


def test_staff_add_and_retire_standards(staff: User) -> None:
    client = client_of(staff)
    client.post(
        "/moderation/standards/new/",
        {
            "code": "honours",
            "position": "95",
            "title_en": "About honours or appointments",
            "text_en": "It asks to give or take away an honour, or to appoint someone.",
        },
    )
    added = Standard.objects.get(code="honours")
    assert added.position == 95 and list(added.texts.values_list("language", flat=True)) == ["en"]
    assert AuditEvent.objects.filter(action="standard.added").count() == 1
    # Shown in English to a Russian reader, since it has no Russian wording.
    assert "About honours or appointments" in Client(HTTP_ACCEPT_LANGUAGE="ru").get(
        "/standards/"
    ).content.decode()
    client.post("/moderation/standards/honours/", edit_form(added, retired="on"))
    assert "About honours or appointments" not in Client().get("/standards/").content.decode()
    assert "retired" in client.get("/moderation/standards/").content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title_en": ""}, "This field is required."),
        ({"title_ru": ""}, "Give both the title and the explanation."),
        ({"position": "many"}, "Enter a whole number."),
        ({"title_en": "Two\nlines"}, "must be plain text on one line"),
    ],
)
def test_bad_input_changes_nothing(staff: User, changes: dict[str, str], message: str) -> None:
    standard = Standard.objects.get(code="nonsense")
    before = list(StandardText.objects.order_by("pk").values_list("title", "text"))
    response = client_of(staff).post(
        "/moderation/standards/nonsense/", edit_form(standard, **changes)
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and 'role="alert"' in html
    assert list(StandardText.objects.order_by("pk").values_list("title", "text")) == before
    assert not AuditEvent.objects.filter(action__startswith="standard.").exists()


def test_a_code_is_never_taken_twice(staff: User) -> None:
    response = client_of(staff).post(
        "/moderation/standards/new/",
        {"code": "duplicate", "position": "1", "title_en": "Again", "text_en": "Again."},
    )
    assert response.status_code == 400 and "Another standard has this code." in (
        response.content.decode()
    )
    assert Standard.objects.count() == len(SEEDED)


def test_only_staff_with_the_permission_edit_them(staff: User, settings: Any) -> None:
    moderator = site_moderator()  # moderates submissions, does not write the rules
    client = client_of(moderator)
    assert client.get("/moderation/standards/").status_code == 404
    assert client.post(
        "/moderation/standards/nonsense/",
        edit_form(Standard.objects.get(code="nonsense"), title_en="Changed"),
    ).status_code == 404
    staff.user_permissions.clear()
    staff = User.objects.get(pk=staff.pk)
    assert client_of(staff).get("/moderation/standards/").status_code == 404
    assert Standard.objects.get(code="nonsense").title == "Nonsense or a joke"
