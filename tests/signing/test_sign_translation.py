"""A signer signs the text they read: the sign form names it, and the signature records it.

The petition page puts the id of the text version it shows into the form; a
signer of the Russian translation signs the Russian text, and their entry
in the public log (and so their receipt) names that text's hash. An id that
is not one of the petition's current texts is refused with a message, and
nothing is written.
"""

import json
import re
from email.header import decode_header, make_header
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import link_in, make_petition
from undersigned.ledger.models import LogEntry
from undersigned.ledger.services import integrate
from undersigned.outbox.models import OutgoingMail
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition, TextVersion
from undersigned.petitions.translations import add_translation
from undersigned.signing.models import Signature

pytestmark = pytest.mark.django_db

RUSSIAN_TITLE = "Чистый воздух для Колпино"


@pytest.fixture
def russian(petition: Petition, organiser: User) -> TextVersion:
    return add_translation(
        petition, organiser, title=RUSSIAN_TITLE, body="Мы просим чистого воздуха.", language="ru"
    )


def form_version(page: str) -> str:
    found = re.search(r'name="text_version" value="(\d+)"', page)
    assert found, page
    return found.group(1)


def sign(client: Client, petition: Petition, email: str, **fields: str) -> Any:
    return client.post(
        f"/p/{petition.slug}/sign/",
        {"full_name": "Anna Belova", "email": email, "visibility": "show", **fields},
    )


def test_the_form_carries_the_text_the_page_shows(
    petition: Petition, russian: TextVersion
) -> None:
    english = Client().get(f"/p/{petition.slug}/").content.decode()
    assert form_version(english) == str(petition.current_version().pk)
    in_russian = Client().get(f"/p/{petition.slug}/", {"lang": "ru"}).content.decode()
    assert form_version(in_russian) == str(russian.pk)


def test_signing_the_translation_records_it_and_the_log_names_its_hash(
    petition: Petition, russian: TextVersion, deliver: Any
) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="ru")
    page = client.get(f"/p/{petition.slug}/").content.decode()
    response = sign(client, petition, "anna@example.org", text_version=form_version(page))
    assert response.status_code == 302
    signature = Signature.objects.get()
    assert signature.text_version == russian
    # The confirmation mail names the text signed.
    message = deliver().last_to("anna@example.org")
    assert RUSSIAN_TITLE in str(make_header(decode_header(message["Subject"])))
    confirmed = client.post(link_in(message, "confirm"))
    assert confirmed.status_code == 200
    entry = LogEntry.objects.get(petition=petition, event="signature.verified")
    assert entry.payload["text_sha256"] == russian.sha256 != petition.current_version().sha256
    # The receipt proves that entry: the text it names is the translation's.
    receipt_page = re.search(r'href="/receipt/([^"/]+)/"', confirmed.content.decode())
    assert receipt_page, confirmed.content.decode()
    integrate()  # sequenced and in a signed checkpoint, as the worker does
    receipt = json.loads(client.get(f"/receipt/{receipt_page.group(1)}.json").content)
    assert json.loads(receipt["entry"])["text"] == russian.sha256


def test_an_english_reader_who_switched_to_russian_signs_the_russian_text(
    petition: Petition, russian: TextVersion
) -> None:
    client = Client()  # the interface in English
    assert sign(client, petition, "a@example.org", text_version=str(russian.pk)).status_code == 302
    assert Signature.objects.get().text_version == russian


def test_a_form_without_the_field_signs_what_the_page_shows_that_visitor(
    petition: Petition, russian: TextVersion
) -> None:
    assert sign(Client(HTTP_ACCEPT_LANGUAGE="ru"), petition, "ru@example.org").status_code == 302
    assert sign(Client(), petition, "en@example.org").status_code == 302
    by_address = {s.email_hash: s.text_version for s in Signature.objects.all()}
    assert set(by_address.values()) == {russian, petition.current_version()}


def refused(response: Any) -> str:
    assert response.status_code == 400
    page = response.content.decode()
    assert not Signature.objects.exists()
    assert not OutgoingMail.objects.exists()
    assert not LogEntry.objects.filter(event="signature.verified").exists()
    return page


@pytest.mark.parametrize("posted", ["", "abc", "-1", "0", "99999999", "9" * 40, "1 OR 1=1"])
def test_a_garbage_text_id_is_refused_and_nothing_is_written(
    petition: Petition, russian: TextVersion, posted: str
) -> None:
    page = refused(sign(Client(), petition, "anna@example.org", text_version=posted))
    assert "This form does not say which of the petition" in page
    # What they typed is still there, to sign again after reading.
    assert 'value="anna@example.org"' in page
    assert petitions.counts(petition) == (0, 0)


def test_another_petitions_text_is_refused(
    petition: Petition, russian: TextVersion, organiser: User
) -> None:
    other = make_petition(organiser, slug="other", title="Another petition")
    page = refused(
        sign(Client(), petition, "a@example.org", text_version=str(other.current_version().pk))
    )
    assert "This form does not say which of the petition" in page


def test_a_translation_not_yet_published_is_refused(organiser: User) -> None:
    # A founder of a draft cannot be sent here, but a guessed id of its draft text is no better.
    draft = make_petition(organiser, slug="draft", title="A draft", publish=False)
    unpublished = add_translation(draft, organiser, title="Черновик", body="Текст.", language="ru")
    petition = make_petition(organiser, slug="open-one", title="An open one")
    page = refused(sign(Client(), petition, "a@example.org", text_version=str(unpublished.pk)))
    assert "This form does not say which of the petition" in page


def test_a_text_corrected_since_the_page_was_read_is_refused_and_the_correction_shown(
    petition: Petition, russian: TextVersion, organiser: User
) -> None:
    corrected = petitions.new_version(
        petition,
        organiser,
        title="Чистый воздух для всего Колпино",
        body="Мы просим чистого воздуха везде.",
        language="ru",
        change_note="Весь район",
    )
    page = refused(
        sign(
            Client(HTTP_ACCEPT_LANGUAGE="ru"),
            petition,
            "a@example.org",
            text_version=str(russian.pk),
        )
    )
    assert "Пока страница была открыта, текст, который вы читали, исправили." in page
    # The page shows the corrected text in the language they read, ready to sign.
    assert '<h1 lang="ru">Чистый воздух для всего Колпино</h1>' in page
    assert form_version(page) == str(corrected.pk)


def test_signing_again_is_answered_with_the_title_in_the_readers_language(
    petition: Petition, russian: TextVersion, deliver: Any
) -> None:
    from tests.conftest import body_of

    client = Client(HTTP_ACCEPT_LANGUAGE="ru")
    page = client.get(f"/p/{petition.slug}/").content.decode()
    sign(client, petition, "anna@example.org", text_version=form_version(page))
    client.post(link_in(deliver().last_to("anna@example.org"), "confirm"))
    sign(client, petition, "anna@example.org", text_version=form_version(page))
    again = deliver().last_to("anna@example.org")
    assert OutgoingMail.objects.filter(kind="already-signed").exists()
    assert RUSSIAN_TITLE in body_of(again)
    assert "Clean air for Kolpino" not in body_of(again)
