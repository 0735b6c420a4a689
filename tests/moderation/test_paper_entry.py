"""The paper entry pages: only a petition's assigned moderators, past the second factor;
a sheet is checked line by line before anything is entered, then entered whole or not at all."""

import base64
import hashlib

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.conftest import second_factor_login
from undersigned.audit.models import AuditEvent
from undersigned.petitions.models import Petition, Tally
from undersigned.registers.models import RegisterEntry
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db

SHEET = (
    "sheet,full_name,municipality,show_name\n"
    "Council session 12 March,Anna Belova,Kolpino,yes\n"
    "Council session 12 March,Ксения Линдстрем,Семёновский,no\n"
)


@pytest.fixture
def moderator_user(letter: Petition) -> User:
    user = User.objects.create_user("mod", "mod@example.org", "pw-for-tests-only")
    letter.moderators.add(user)
    return user


@pytest.fixture
def moderator(moderator_user: User) -> Client:
    return second_factor_login(Client(), moderator_user)


def paper_count(petition: Petition) -> int:
    return sum(Tally.objects.filter(petition=petition).values_list("verified_paper", flat=True))


def upload(client: Client, letter: Petition, text: str, **extra: str) -> tuple[int, str]:
    response = client.post(
        f"/moderation/paper/{letter.slug}/sheet/",
        {"file": SimpleUploadedFile("sheet.csv", text.encode()), "encoding": "utf-8", **extra},
    )
    return response.status_code, response.content.decode()


def commit(client: Client, letter: Petition, text: str) -> tuple[int, str]:
    """What the preview's button sends: the previewed bytes back, and `commit`."""
    response = client.post(
        f"/moderation/paper/{letter.slug}/sheet/",
        {
            "content": base64.b64encode(text.encode()).decode(),
            "encoding": "utf-8",
            "sheet": "",
            "commit": "1",
        },
        follow=True,
    )
    return response.status_code, response.content.decode()


def test_only_the_petitions_assigned_moderators_with_the_second_factor(
    letter: Petition, moderator_user: User, organiser: User
) -> None:
    path = f"/moderation/paper/{letter.slug}/"
    anonymous = Client().get(path)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    password_only = Client()
    password_only.force_login(moderator_user)
    assert "/accounts/2fa/" in password_only.get(path)["Location"]
    # The organiser, and a moderator of another petition, find no such page.
    assert second_factor_login(Client(), organiser).get(path).status_code == 404
    stranger = User.objects.create_user("other", "o@example.org", "pw-for-tests-only")
    assert second_factor_login(Client(), stranger).get(path).status_code == 404
    assert second_factor_login(Client(), stranger).post(path, {}).status_code == 404
    response = second_factor_login(Client(), moderator_user).get(path)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert Signature.objects.count() == 0


def test_one_signature_typed_from_a_sheet(
    letter: Petition, moderator: Client, moderator_user: User
) -> None:
    belova = RegisterEntry.objects.get(full_name="Anna Belova")
    response = moderator.post(
        f"/moderation/paper/{letter.slug}/",
        {
            "sheet_reference": "Council session 12 March",
            "full_name": "Anna Belova",
            "show_name": "on",
            "register_entry": str(belova.pk),
        },
        follow=True,
    )
    page = response.content.decode()
    assert "signature #" in page and "now counts" in page
    signature = Signature.objects.get()
    assert (signature.channel, signature.state, signature.register_entry) == (
        "paper",
        "verified",
        belova,
    )
    assert paper_count(letter) == 1
    event = AuditEvent.objects.get(action="signature.paper_entered")
    assert event.actor == moderator_user and event.details["register_entry"] == belova.pk
    # Listed on the page, with a link to invalidate it.
    assert f'href="/moderation/{signature.pk}/"' in page
    decided = moderator.get(f"/moderation/{signature.pk}/").content.decode()
    assert "on paper, sheet “Council session 12 March”" in decided
    assert 'value="invalidate"' in decided


def test_a_refused_signature_is_explained_and_nothing_is_written(
    letter: Petition, moderator: Client
) -> None:
    audited = AuditEvent.objects.count()
    response = moderator.post(
        f"/moderation/paper/{letter.slug}/",
        {"sheet_reference": "S1", "full_name": "Nobody Known", "municipality": "Kolpino"},
    )
    assert response.status_code == 400
    assert "No register entry matches this name and municipality." in response.content.decode()
    assert Signature.objects.count() == 0 and AuditEvent.objects.count() == audited


def test_a_sheet_is_previewed_then_entered_whole_and_audited(
    letter: Petition, moderator: Client, moderator_user: User
) -> None:
    status, page = upload(moderator, letter, SHEET)
    assert status == 200
    assert "2 signatures passed every check" in page and "Ксения Линдстрем" in page
    assert Signature.objects.count() == 0  # a preview writes nothing
    status, page = commit(moderator, letter, SHEET)
    assert status == 200 and "Entered 2 signatures from the file" in page
    assert paper_count(letter) == 2
    assert set(Signature.objects.values_list("sheet_reference", flat=True)) == {
        "Council session 12 March"
    }
    event = AuditEvent.objects.get(action="paper.sheet_entered")
    assert event.actor == moderator_user
    assert event.details == {
        "signatures": 2,
        "sha256": hashlib.sha256(SHEET.encode()).hexdigest(),
        "lines": 2,
        "sheets": ["Council session 12 March"],
    }
    assert AuditEvent.objects.filter(action="signature.paper_entered").count() == 2
    # The same file again: every line is refused, nothing is entered twice.
    status, page = commit(moderator, letter, SHEET)
    assert status == 400 and "Nothing was entered." in page
    assert page.count("This signature was entered before from sheet") == 2
    assert paper_count(letter) == 2


def test_a_sheet_with_a_bad_line_shows_it_and_cannot_be_committed(
    letter: Petition, moderator: Client
) -> None:
    bad = SHEET + "Council session 12 March,Anna Belova,Kolpino,no\n"
    audited = AuditEvent.objects.count()
    status, page = upload(moderator, letter, bad)
    assert status == 400
    assert "The same signer on the same sheet as line 2." in page
    assert 'name="commit"' not in page
    # A commit sent anyway (a stale page, a forged form) enters nothing either.
    status, page = commit(moderator, letter, bad)
    assert status == 400 and "Nothing was entered." in page
    assert Signature.objects.count() == 0 and AuditEvent.objects.count() == audited


def test_a_file_that_cannot_be_read_says_why(letter: Petition, moderator: Client) -> None:
    status, page = upload(moderator, letter, "sheet,full_name\nS1,A B,extra\n")
    assert status == 400 and "line 2: expected 2 fields, found 3" in page
    response = moderator.post(
        f"/moderation/paper/{letter.slug}/sheet/", {"encoding": "utf-8"}
    )
    assert response.status_code == 400
    assert "Choose the CSV file of the sheet." in response.content.decode()


def test_the_pages_in_russian(letter: Petition, moderator: Client) -> None:
    page = moderator.get(
        f"/moderation/paper/{letter.slug}/", HTTP_ACCEPT_LANGUAGE="ru"
    ).content.decode()
    assert "Подписи на бумаге" in page and "Ввести одну подпись" in page
    response = moderator.post(
        f"/moderation/paper/{letter.slug}/sheet/",
        {"file": SimpleUploadedFile("s.csv", b"sheet,full_name\nS1,A B\n"), "encoding": "utf-8"},
        HTTP_ACCEPT_LANGUAGE="ru",
    )
    assert "Укажите номер записи реестра или муниципалитет" in response.content.decode()
    queue = moderator.get("/moderation/").content.decode()
    assert f'href="/moderation/paper/{letter.slug}/"' in queue
