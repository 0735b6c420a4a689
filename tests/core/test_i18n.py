"""English and Russian: pages by the browser's language, the switch, mails in the signer's language.

The Django test client sends no Accept-Language, so every other test sees English;
the tests here ask for Russian the way a browser or the language switch does.
"""

import re
import shutil
import subprocess
from datetime import date, datetime
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.management import call_command
from django.db import OperationalError
from django.test import Client
from django.utils import formats, translation

from tests.conftest import body_of, link_in, make_petition
from undersigned.outbox.models import OutgoingMail
from undersigned.outbox.services import enqueue
from undersigned.petitions.models import Petition, Tally
from undersigned.signing import services as signing
from undersigned.signing.models import Signature
from undersigned.signing.tokens import new_token

SRC = Path(__file__).resolve().parents[2] / "src" / "undersigned"
PO = SRC / "locale" / "ru" / "LC_MESSAGES" / "django.po"
RU = {"HTTP_ACCEPT_LANGUAGE": "ru-RU,ru;q=0.9,en;q=0.5"}
RUSSIAN_PLURALS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
    "(n%100<10 || n%100>=20) ? 1 : 2);"
)
NBSP = "\xa0"


def subject_of(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def sign_form(**overrides: str) -> dict[str, str]:
    data = {"full_name": "Анна Белова", "email": "anna@example.org", "visibility": "show"}
    data.update(overrides)
    return data


# ------------------------------------------------------------------ pages


@pytest.mark.django_db
def test_a_russian_browser_gets_the_page_in_russian(client: Client, petition: Petition) -> None:
    response = client.get(f"/p/{petition.slug}/", **RU)
    assert response.status_code == 200
    assert response["Content-Language"] == "ru"
    page = response.content.decode()
    assert '<html lang="ru">' in page
    # The interface and the sign form's labels are Russian ...
    assert ">Подписать</button>" in page
    assert ">Имя и фамилия" in page
    assert "Показывать моё имя" in page
    assert "Мы пришлём ссылку для подтверждения" in page
    assert "Вход для организаторов" in page
    assert ">Sign</button>" not in page and "Full name" not in page
    # ... while the petition's own text keeps its language and says so.
    assert '<h1 lang="en">Clean air for Kolpino</h1>' in page
    assert '<div class="letter" lang="en">We ask for clean air.</div>' in page


@pytest.mark.django_db
def test_without_a_preference_the_site_is_english(client: Client, petition: Petition) -> None:
    page = client.get(f"/p/{petition.slug}/").content.decode()
    assert '<html lang="en">' in page
    assert ">Sign</button>" in page and "Подписать" not in page
    # The visible switch offers both languages, each named in itself.
    assert 'action="/i18n/setlang/"' in page
    assert re.search(r'name="language" value="en" lang="en"[^>]*aria-current="true">English<', page)
    assert re.search(r'name="language" value="ru" lang="ru"[^>]*>Русский<', page)


@pytest.mark.django_db
def test_the_switch_sets_the_language_and_returns_to_the_page(
    client: Client, petition: Petition
) -> None:
    page = client.get(f"/p/{petition.slug}/signatories/?q=Anna").content.decode()
    # The switch sends the visitor back where they were, query string included.
    assert f'name="next" value="/p/{petition.slug}/signatories/?q=Anna"' in page

    response = client.post(
        "/i18n/setlang/", {"language": "ru", "next": f"/p/{petition.slug}/signatories/?q=Anna"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/p/{petition.slug}/signatories/?q=Anna"
    assert client.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "ru"
    # The choice outranks the browser's own preference, on every later page.
    page = client.get(f"/p/{petition.slug}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="ru">' in page and ">Подписать</button>" in page
    assert re.search(r'value="ru" lang="ru"[^>]*aria-current="true">Русский<', page)
    assert re.search(r'value="en" lang="en" class="link">English<', page)

    client.post("/i18n/setlang/", {"language": "en", "next": f"/p/{petition.slug}/"})
    assert ">Sign</button>" in client.get(f"/p/{petition.slug}/", **RU).content.decode()


@pytest.mark.django_db
def test_the_switch_never_redirects_elsewhere_nor_to_a_post_only_address(
    client: Client, petition: Petition
) -> None:
    response = client.post(
        "/i18n/setlang/", {"language": "ru", "next": "https://evil.example.org/"}
    )
    assert response.status_code == 302
    assert "evil" not in response["Location"]
    # A sign form with errors is shown at the sign address, which answers POST only:
    # from there the switch returns to the petition page instead.
    page = client.post(f"/p/{petition.slug}/sign/", sign_form(email="nope")).content.decode()
    assert f'name="next" value="/p/{petition.slug}/"' in page


@pytest.mark.django_db
def test_form_errors_and_messages_are_in_russian(client: Client, petition: Petition) -> None:
    page = client.post(
        f"/p/{petition.slug}/sign/", sign_form(full_name="1234", email="nope"), **RU
    ).content.decode()
    assert "Напишите имя буквами." in page
    # Django's own messages come from Django's Russian catalogue.
    assert "Введите правильный адрес электронной почты." in page
    assert Signature.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("failure", "status", "english", "russian"),
    [
        (None, 404, "There is no page at this address.", "По этому адресу страницы нет."),
        (RuntimeError("bug"), 500, "Something went wrong on our side", "У нас что-то пошло не так"),
        (
            OperationalError("connection refused"),
            503,
            "The site cannot reach its database right now.",
            "Сайт сейчас не может связаться со своей базой данных.",
        ),
    ],
)
def test_error_pages_are_translated(
    petition: Petition,
    failure: Exception | None,
    status: int,
    english: str,
    russian: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"/p/{petition.slug}/"
    if failure is None:
        url = "/p/no-such-petition/"
    else:

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise failure

        monkeypatch.setattr("undersigned.petitions.standing.read", broken)
    visitor = Client(raise_request_exception=False)
    english_page = visitor.get(url)
    russian_page = visitor.get(url, **RU)
    assert english_page.status_code == russian_page.status_code == status
    assert english in english_page.content.decode()
    assert russian in russian_page.content.decode()
    assert '<html lang="ru">' in russian_page.content.decode()


@pytest.mark.django_db
def test_the_expired_form_page_is_translated(petition: Petition) -> None:
    strict = Client(enforce_csrf_checks=True)
    page = strict.post(f"/p/{petition.slug}/sign/", sign_form(), **RU).content.decode()
    assert "Срок действия формы истёк" in page


# ------------------------------------------------------------------ mails


@pytest.mark.django_db
def test_a_russian_signer_gets_the_confirmation_mail_in_russian(
    client: Client, petition: Petition, deliver: Any
) -> None:
    response = client.post(f"/p/{petition.slug}/sign/", sign_form(), **RU)
    assert response.status_code == 302
    assert Signature.objects.get().language == "ru"
    # An English signer at the same moment gets English: the mail follows the signer.
    client.post(f"/p/{petition.slug}/sign/", sign_form(full_name="Bob", email="bob@example.org"))

    inbox = deliver()
    message = inbox.last_to("anna@example.org")
    assert subject_of(message) == "Подтвердите подпись: Clean air for Kolpino"
    body = body_of(message).replace("\r\n", "\n")
    assert body.startswith("Здравствуйте!\n")
    assert (
        "попросил подписать «Clean air for Kolpino» с этого адреса под именем «Анна Белова» "
        "(так оно введено в форме)" in body
    )
    assert "Ссылка срабатывает один раз и действует 72 часа." in body
    assert "Отозвать подпись можно в любой момент" in body
    assert "Confirm" not in body and "Hello" not in body
    assert subject_of(inbox.last_to("bob@example.org")).startswith("Confirm your signature: ")

    # The link in the Russian mail works, and the pages it leads to are Russian too.
    confirm = link_in(message, "confirm")
    assert "Подтвердите подпись" in client.get(confirm, **RU).content.decode()
    assert "Ваша подпись проверена" in client.post(confirm, **RU).content.decode()


@pytest.mark.django_db
def test_a_decision_taken_in_english_reaches_a_russian_signer_in_russian(
    letter: Petition, deliver: Any
) -> None:
    signature = signing.sign(
        letter,
        signing.SignRequest(
            full_name="Вера Орлова",
            email="vera@mail.example.org",
            role="municipal deputy",
            municipality="Yakutsk",
            language="ru",
        ),
    )
    raw, signature.confirm_token_hash = new_token()
    signature.save(update_fields=["confirm_token_hash"])
    signing.confirm(raw)
    with translation.override("en"):  # the moderator reads the site in English
        signing.reject(signature.pk, letter.organiser, reason="Not on the register")
    message = deliver().last_to("vera@mail.example.org")
    assert subject_of(message) == "Ваша подпись не принята: Letter of deputies"
    body = body_of(message)
    assert "Модератор проверил вашу подпись под «Letter of deputies» и не смог её принять." in body
    # The moderator's own words stay as written.
    assert "Причина: Not on the register" in body


@pytest.mark.django_db
def test_the_data_link_mail_is_in_the_language_it_was_asked_in(
    client: Client, petition: Petition, deliver: Any
) -> None:
    signing.sign(petition, signing.SignRequest(full_name="Anna", email="anna@example.org"))
    OutgoingMail.objects.all().delete()
    client.post("/my-data/", {"email": "anna@example.org"}, **RU)
    message = deliver().last_to("anna@example.org")
    assert subject_of(message) == "Что мы о вас храним"
    assert "она действует 24 часа:" in body_of(message)


def mail_cases(petition: Petition, signature: Signature) -> dict[str, list[dict[str, Any]]]:
    """Every mail template with the contexts its callers give it."""
    base = {"signature": signature, "petition": petition, "title": "Kolpino & “Co”"}
    link = "https://petitions.example.org/"
    return {
        "signing/mail/confirm.txt": [
            {
                **base,
                "confirm_url": link + "confirm/a/",
                "withdraw_url": link + "withdraw/b/",
                "ttl_hours": 72,
                "founder": False,
            },
            {
                **base,
                "confirm_url": link + "confirm/a/",
                "withdraw_url": link + "withdraw/b/",
                "ttl_hours": 21,
                "founder": True,
            },
            {
                **base,
                "confirm_url": link + "confirm/a/",
                "withdraw_url": link + "withdraw/b/",
                "ttl_hours": 5,
                "founder": False,
                "resent": True,
            },
            {
                **base,
                "confirm_url": link + "confirm/a/",
                "withdraw_url": link + "withdraw/b/",
                "ttl_hours": 72,
                "supporter": True,
                "supporters_needed": 5,
            },
        ],
        "signing/mail/already_signed.txt": [
            {**base, "withdraw_url": link + "withdraw/b/"},
            {**base, "withdraw_url": ""},
        ],
        "signing/mail/decision.txt": [
            {**base, "petition_url": link + "p/x/", "receipt_url": link + "receipt/r/"},
        ],
        **submission_mail_cases(base, link),
        "privacy/mail/link.txt": [{"url": link + "my-data/t/", "hours": 24}],
        "accounts/mail/confirm_address.txt": [
            {"confirm_url": link + "accounts/confirm/c/", "ttl_hours": 72},
            {"confirm_url": link + "accounts/confirm/c/", "ttl_hours": 21},
        ],
        "updates/mail/update.txt": [
            {
                **base,
                "kind": kind,
                "petition_url": link + "p/x/",
                "unsubscribe_url": link + "unsubscribe/u/",
                "response": {
                    "answered_by": "Глава администрации",
                    "responded_on": date(2026, 11, 20),
                    "text": QUOTED,
                },
                "outcome": {"happens_on": date(2026, 12, 1), "note": QUOTED, "link": link},
            }
            for kind in ("response", "debate_scheduled", "debated")
        ],
        "updates/mail/step_reached.txt": [
            {
                **base,
                "step": step,
                "threshold": 10_000,
                "verified": 10_003,
                "petition_url": link + "p/x/",
                "office_email": office,
            }
            for step, office in (
                ("response", "office@petitions.example.org"),
                ("response", ""),
                ("debate", ""),
            )
        ],
    }


# What a moderator published, quoted as it was written (the same in both languages).
QUOTED = "Мы посадим 200 деревьев."


def submission_mail_cases(base: dict[str, Any], link: str) -> dict[str, list[dict[str, Any]]]:
    """The mails of submissions (issue 14 §1): to the creator, and to its supporters."""
    from undersigned.petitions.models import Standard

    duplicate = Standard.objects.get(code="duplicate")
    hiding = Standard.objects.get(code="defamatory")
    urls = {
        "manage_url": link + "dashboard/x/",
        "standards_url": link + "standards/",
        "petition_url": link + "p/x/",
    }
    return {
        "petitions/mail/submitted.txt": [
            {**base, **urls, "support_url": link + "support/x/k/", "needed": n, "again": again}
            for n, again in ((5, False), (1, True), (0, False))
        ],
        "petitions/mail/awaiting_moderation.txt": [
            {**base, **urls, "needed": 5, "supporters": n} for n in (5, 21)
        ],
        "moderation/mail/decision.txt": [
            {**base, **urls, "decision": {"kind": "publish"}, "note": QUOTED},
            {**base, **urls, "decision": {"kind": "publish"}, "note": ""},
            {
                **base,
                **urls,
                "decision": {"kind": "reject"},
                "standard": duplicate,
                "note": QUOTED,
                "original_url": link + "p/original/",
            },
            {**base, **urls, "decision": {"kind": "reject"}, "standard": hiding, "note": ""},
            {**base, **urls, "decision": {"kind": "send_back"}, "note": QUOTED},
        ],
        "signing/mail/supporter_outcome.txt": [
            {**base, **urls, "outcome": "published", "receipt_url": link + "receipt/r/"},
            {**base, **urls, "outcome": "rejected", "standard": duplicate},
            {**base, **urls, "outcome": "sent_back"},
        ],
    }


@pytest.mark.django_db
def test_every_mail_renders_in_both_languages(petition: Petition) -> None:
    signature = signing.sign(
        petition, signing.SignRequest(full_name="Ксения Линдстрем", email="k@example.org")
    )
    signature.state_reason = "Seen twice"
    cases = mail_cases(petition, signature)
    footer = f"— {django_settings.SITE_NAME}"
    on_disk = {p.relative_to(p.parents[2]).as_posix() for p in SRC.glob("*/templates/*/mail/*.txt")}
    assert on_disk == set(cases), "a mail template without a test case here"

    for template, contexts in cases.items():
        for context in contexts:
            for state in ("verified", "rejected") if "decision" in template else ("unconfirmed",):
                signature.state = state
                english = enqueue("test", "k@example.org", template, context, language="en")
                russian = enqueue("test", "k@example.org", template, context, language="ru")
                # Subjects are one line, with the title as written (mails are not HTML).
                assert "\n" not in russian.subject and russian.subject != english.subject
                if "title" in context:
                    assert "Kolpino & “Co”" in russian.subject
                    assert "Kolpino & “Co”" in english.subject
                assert re.search("[а-яА-Я]", russian.subject)
                # Every line of prose differs; what stays is links, names and the signature.
                shared = set(english.body.splitlines()) & set(russian.body.splitlines())
                for line in shared:
                    assert line in ("", footer, QUOTED) or line.startswith("http"), (
                        template,
                        line,
                    )
                assert not re.search(r"\b(the|your|you|signature|link)\b", russian.body), (
                    template,
                    russian.body,
                )
    hours = {
        21: "действует 21 час.",
        72: "действует 72 часа.",
    }
    for ttl, words in hours.items():
        context = {**cases["signing/mail/confirm.txt"][0], "ttl_hours": ttl}
        mail = enqueue("test", "k@example.org", "signing/mail/confirm.txt", context, language="ru")
        assert words in mail.body


@pytest.mark.django_db
def test_a_mail_is_in_the_default_language_when_none_is_given(petition: Petition) -> None:
    with translation.override("ru"):  # e.g. queued while a Russian page was being served
        mail = enqueue(
            "my-data", "a@example.org", "privacy/mail/link.txt", {"url": "u", "hours": 24}
        )
    assert mail.subject == "What we hold about you"


# ------------------------------------------------------------------ numbers and dates


def test_numbers_and_dates_use_russian_formats() -> None:
    when = datetime(2031, 3, 5, 12, 30, tzinfo=ZoneInfo("UTC"))
    with translation.override("ru"):
        assert intcomma(1234567) == f"1{NBSP}234{NBSP}567"
        assert formats.date_format(when, "j E Y") == "5 марта 2031"
    with translation.override("en"):
        assert intcomma(1234567) == "1,234,567"
        assert formats.date_format(when, "j E Y") == "5 March 2031"


@pytest.mark.django_db
def test_the_petition_page_shows_russian_numbers_dates_and_plurals(
    client: Client, organiser: Any
) -> None:
    petition = make_petition(
        organiser,
        thresholds=[100_000],
        deadline=datetime(2099, 3, 5, 12, 30, tzinfo=ZoneInfo("UTC")),
    )
    Tally.objects.create(petition=petition, region="", municipality="", verified=12345, awaiting=2)
    page = client.get(f"/p/{petition.slug}/", **RU).content.decode()
    assert "закрывается 5 марта 2099, 12:30 UTC" in page
    assert f'data-count="verified">12{NBSP}345</strong> проверенных подписей<' in page
    assert 'data-count="awaiting">2</strong> ожидают проверки<' in page
    assert f"12{NBSP}345 из 100{NBSP}000 проверенных подписей" in page
    assert f'content="12{NBSP}345 проверенных подписей · 2 ожидают проверки"' in page

    Tally.objects.filter(petition=petition).update(verified=21, awaiting=1)
    page = client.get(f"/p/{petition.slug}/", **RU).content.decode()
    assert 'data-count="verified">21</strong> проверенная подпись<' in page
    assert 'data-count="awaiting">1</strong> ожидает проверки<' in page
    english = client.get(f"/p/{petition.slug}/").content.decode()
    assert "closes 5 March 2099, 12:30 UTC" in english
    assert 'data-count="verified">21</strong> verified<' in english


@pytest.mark.django_db
def test_state_and_status_labels_are_translated(client: Client, petition: Petition) -> None:
    assert Petition.Kind.LETTER.label == "Open letter"
    with translation.override("ru"):
        assert str(Signature.State.VERIFIED.label) == "Проверена"
        assert str(Petition.Status.OPEN.label) == "Идёт сбор подписей"
        assert str(Petition.Kind.LETTER.label) == "Открытое письмо"
    page = client.get("/", **RU).content.decode()
    assert "Петиция · организатор: Friends of Kolpino" in page


# ------------------------------------------------------------------ the catalogue


def msgfmt_statistics(po: Path, tmp_path: Path) -> str:
    if shutil.which("msgfmt") is None:
        pytest.fail("GNU gettext's msgfmt is needed: apt-get install gettext")
    done = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", str(tmp_path / "django.mo"), str(po)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr.strip()


def test_every_message_has_a_russian_translation_and_msgfmt_accepts_it(tmp_path: Path) -> None:
    # Untranslated or fuzzy entries would be counted here ("…, 2 untranslated messages").
    assert re.fullmatch(r"\d+ translated messages\.", msgfmt_statistics(PO, tmp_path))
    text = PO.read_text(encoding="utf-8")
    header = text[: text.index("\n\n")]
    assert '"Language: ru\\n"' in header
    assert "".join(re.findall(r'"(.*)"', header)).count(RUSSIAN_PLURALS) == 1

    import gettext

    with open(tmp_path / "django.mo", "rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    plural = catalogue.ngettext
    one, few, many = (plural("%(n)s verified signature", "x", n) for n in (1, 3, 5))
    assert (one, few, many) == (
        "%(n)s проверенная подпись",
        "%(n)s проверенные подписи",
        "%(n)s проверенных подписей",
    )
    assert plural("%(n)s verified signature", "x", 11) == many
    assert plural("%(n)s verified signature", "x", 22) == few
    assert plural("%(n)s verified signature", "x", 101) == one


def test_the_catalogue_holds_every_translatable_string(
    tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Extract the strings again from a copy of the sources: none may be new or changed.

    When this fails, run `make messages` and translate what it adds to the .po file.
    """
    copy = tmp_path / "undersigned"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "static"))
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["ru"], no_obsolete=True, verbosity=0)
    stats = msgfmt_statistics(copy / "locale" / "ru" / "LC_MESSAGES" / "django.po", tmp_path)
    assert re.fullmatch(r"\d+ translated messages\.", stats), (
        f"{stats}: run `make messages` and translate the new strings"
    )
