"""The published standards a new site starts with, in English and Russian (/standards/).

Staff change them at /moderation/standards/; this only seeds a site that has
none yet, and undoing it removes only the standards no decision names.
"""

from typing import Any

from django.db import migrations

# code, hides the text, names the original, (English title, text), (Russian title, text)
STANDARDS = [
    (
        "duplicate",
        False,
        True,
        (
            "A duplicate",
            "There is already a petition asking for the same thing, open or recently "
            "closed. Sign that one instead: several petitions asking for one thing split "
            "the signatures between them, and none reaches its steps. The decision names "
            "the petition this one repeats.",
        ),
        (
            "Дубликат",
            "Уже есть петиция с тем же требованием, открытая или недавно закрытая. "
            "Подпишите её: когда об одном и том же просят несколько петиций, подписи "
            "делятся между ними, и ни одна не доходит до порогов. В решении указана "
            "петиция, которую повторяет эта.",
        ),
    ),
    (
        "no-action",
        False,
        False,
        (
            "Not a request for action",
            "A petition asks its addressee to do something definite that is in their "
            "power. A statement of opinion, a question, a complaint that asks for "
            "nothing, or a request nobody could act on is not a petition.",
        ),
        (
            "Нет требования",
            "Петиция просит адресата сделать что-то определённое, что в его силах. "
            "Мнение, вопрос, жалоба, в которой ничего не просят, или просьба, которую "
            "никто не может выполнить, петицией не являются.",
        ),
    ),
    (
        "defamatory",
        True,
        False,
        (
            "Defamatory",
            "It makes claims about a person or an organisation that could harm their "
            "reputation and that the site cannot check, or accuses someone of a crime. "
            "Its title and text are not published.",
        ),
        (
            "Клевета",
            "В ней есть утверждения о человеке или организации, способные повредить их "
            "репутации, которые сайт не может проверить, или обвинение кого-либо в "
            "преступлении. Её название и текст не публикуются.",
        ),
    ),
    (
        "offensive",
        True,
        False,
        (
            "Offensive or abusive",
            "It uses offensive, obscene or threatening language, or stirs up hatred of "
            "people for who they are. Its title and text are not published.",
        ),
        (
            "Оскорбления",
            "В ней есть оскорбительные, непристойные или угрожающие выражения либо "
            "разжигание ненависти к людям за то, кто они есть. Её название и текст не "
            "публикуются.",
        ),
    ),
    (
        "personal-data",
        True,
        False,
        (
            "Personal information",
            "It names or points at a private person, or gives anyone's personal details: "
            "an address, a telephone number, their health or family. Its title and text "
            "are not published, to protect them.",
        ),
        (
            "Персональные данные",
            "В ней назван или узнаваем частный человек либо приведены чьи-то личные "
            "сведения: адрес, телефон, здоровье, семья. Её название и текст не "
            "публикуются, чтобы защитить этих людей.",
        ),
    ),
    (
        "outside-remit",
        False,
        False,
        (
            "Outside the addressee's remit",
            "It asks for something its addressee has no power over: another body "
            "decides it, or no public office does. Address it to whoever decides.",
        ),
        (
            "Вне полномочий адресата",
            "Она просит о том, что не в ведении адресата: это решает другой орган или "
            "вообще не органы власти. Обратитесь к тому, кто принимает решение.",
        ),
    ),
    (
        "confidential",
        True,
        False,
        (
            "Confidential, or before a court",
            "It concerns a case that a court is hearing and could prejudice it, or it "
            "discloses what the law keeps confidential (state security, commercial "
            "secrets, a protected witness). Its title and text are not published.",
        ),
        (
            "Тайна или дело в суде",
            "Она касается дела, которое рассматривает суд, и может повлиять на его "
            "исход, либо раскрывает сведения, закрытые по закону (государственная "
            "безопасность, коммерческая тайна, защищённый свидетель). Её название и "
            "текст не публикуются.",
        ),
    ),
    (
        "advertising",
        False,
        False,
        (
            "Advertising or spam",
            "It promotes a product, a service, a business or a website, or is one of "
            "many copies sent for their own sake.",
        ),
        (
            "Реклама или спам",
            "Она продвигает товар, услугу, компанию или сайт либо представляет собой "
            "одну из множества одинаковых копий.",
        ),
    ),
    (
        "nonsense",
        False,
        False,
        (
            "Nonsense or a joke",
            "It makes no sense, is a joke or is not meant seriously. The site is for "
            "requests that people mean.",
        ),
        (
            "Бессмыслица или шутка",
            "Она бессмысленна, шуточная или написана не всерьёз. Сайт существует для "
            "требований, которые люди выдвигают всерьёз.",
        ),
    ),
]


def seed(apps: Any, schema_editor: Any) -> None:
    Standard = apps.get_model("petitions", "Standard")
    StandardText = apps.get_model("petitions", "StandardText")
    if Standard.objects.exists():
        return
    for position, (code, hides, original, english, russian) in enumerate(STANDARDS, 1):
        standard = Standard.objects.create(
            code=code, position=position * 10, hides_text=hides, names_original=original
        )
        for language, (title, text) in (("en", english), ("ru", russian)):
            StandardText.objects.create(
                standard=standard, language=language, title=title, text=text
            )


def unseed(apps: Any, schema_editor: Any) -> None:
    Standard = apps.get_model("petitions", "Standard")
    Standard.objects.filter(
        code__in=[code for code, *_ in STANDARDS], decisions__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("petitions", "0009_submissions_and_standards"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
