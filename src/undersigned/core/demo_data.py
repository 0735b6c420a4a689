"""Fictional people and places for the demo. Any resemblance to real deputies is chance."""

import random

# Real municipality names are fine; every person here is invented.
PLACES = [
    ("St Petersburg", "Semyonovsky"),
    ("St Petersburg", "Smolninskoye"),
    ("St Petersburg", "Lomonosovsky"),
    ("St Petersburg", "Kolpino"),
    ("St Petersburg", "Vasileostrovsky"),
    ("Moscow", "Krasnoselsky"),
    ("Moscow", "Tverskoy"),
    ("Moscow", "Gagarinsky"),
    ("Moscow", "Yakimanka"),
    ("Samara Oblast", "Samara"),
    ("Sakha (Yakutia)", "Yakutsk"),
]

FIRST = [
    ("Anna", "f"),
    ("Boris", "m"),
    ("Vera", "f"),
    ("Gleb", "m"),
    ("Daria", "f"),
    ("Yegor", "m"),
    ("Zoya", "f"),
    ("Ilya", "m"),
    ("Kira", "f"),
    ("Lev", "m"),
    ("Marina", "f"),
    ("Nikita", "m"),
    ("Olga", "f"),
    ("Pavel", "m"),
    ("Raisa", "f"),
    ("Semyon", "m"),
    ("Taisia", "f"),
    ("Fyodor", "m"),
    ("Yulia", "f"),
    ("Artyom", "m"),
    ("Polina", "f"),
    ("Timofei", "m"),
    ("Alina", "f"),
    ("Matvei", "m"),
    ("Nadezhda", "f"),
]
LAST = [
    ("Belov", "Belova"),
    ("Vetrov", "Vetrova"),
    ("Gromov", "Gromova"),
    ("Zorin", "Zorina"),
    ("Klyuev", "Klyueva"),
    ("Lapin", "Lapina"),
    ("Morozov", "Morozova"),
    ("Nechaev", "Nechaeva"),
    ("Orlov", "Orlova"),
    ("Panin", "Panina"),
    ("Rybin", "Rybina"),
    ("Sokolov", "Sokolova"),
    ("Tikhonov", "Tikhonova"),
    ("Ushakov", "Ushakova"),
    ("Filatov", "Filatova"),
    ("Kharitonov", "Kharitonova"),
    ("Tsvetkov", "Tsvetkova"),
    ("Chernov", "Chernova"),
    ("Sharov", "Sharova"),
    ("Yakovlev", "Yakovleva"),
]

# The organiser and the people whose names the press would misspell.
ORGANISER = ("Kseniya Lindstrem", "Semyonovsky", "St Petersburg")
SPELLING_VARIANTS = [
    # (claimed name, claimed municipality, register name it should match)
    ("Xenia Lindstrom", "Semenovsky", "Kseniya Lindstrem"),
    ("Dmitri Paliuga", "Smolninskoe", "Dmitry Palyuga-Orlov"),
    ("Ксения Линдстрем", "Семёновский", "Kseniya Lindstrem"),
    ("Fedor Kharitonov", "Kolpino", None),
    ("Julia Tsvetkova", "Yakutsk", None),
    ("Jegor Morozov", "Tverskoy", None),
    ("Nadezda Sokolova", "Samara", None),
]


def register_people(count: int = 200, seed: int = 2022) -> list[dict[str, str]]:
    """A deterministic register of fictional municipal deputies."""
    rng = random.Random(seed)
    people: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    fixed = [ORGANISER, ("Dmitry Palyuga-Orlov", "Smolninskoye", "St Petersburg")]
    for name, municipality, region in fixed:
        seen.add((name, municipality))
        people.append(
            {
                "full_name": name,
                "role": "municipal deputy",
                "municipality": municipality,
                "region": region,
            }
        )
    while len(people) < count:
        first, sex = rng.choice(FIRST)
        last = rng.choice(LAST)[0 if sex == "m" else 1]
        region, municipality = rng.choice(PLACES)
        name = f"{first} {last}"
        if (name, municipality) in seen:
            continue
        seen.add((name, municipality))
        people.append(
            {
                "full_name": name,
                "role": "municipal deputy",
                "municipality": municipality,
                "region": region,
            }
        )
    for i, person in enumerate(people):
        # Every third deputy has an official address on the register.
        person["email"] = f"deputy{i:03d}@council.example.org" if i % 3 == 0 else ""
    return people


# The register as a Russian page shows it (registers/terms.py): its name,
# regions, municipalities and role. The entries keep the English words above,
# which tallies, the log and matching use.
REGISTER_TRANSLATIONS = {
    "ru": {
        "name": "Муниципальные депутаты (демо)",
        "description": "Вымышленные люди, для демонстрации.",
        "regions": {
            "St Petersburg": "Санкт-Петербург",
            "Moscow": "Москва",
            "Samara Oblast": "Самарская область",
            "Sakha (Yakutia)": "Республика Саха (Якутия)",
        },
        "municipalities": {
            "Semyonovsky": "Семёновский",
            "Smolninskoye": "Смольнинское",
            "Lomonosovsky": "Ломоносовский",
            "Kolpino": "Колпино",
            "Vasileostrovsky": "Василеостровский",
            "Krasnoselsky": "Красносельский",
            "Tverskoy": "Тверской",
            "Gagarinsky": "Гагаринский",
            "Yakimanka": "Якиманка",
            "Samara": "Самара",
            "Yakutsk": "Якутск",
        },
        "roles": {"municipal deputy": "муниципальный депутат"},
    }
}

# The letter was written in Russian (its original, version 1); the English
# text is its translation, a text version of its own.
LETTER_TITLE_RU = "Открытое письмо муниципальных депутатов: мы призываем остановить войну"
LETTER_BODY_RU = """Мы — муниципальные депутаты. Соседи избрали нас, чтобы мы заботились об их улицах, школах и парках.

Мы видим, чего стоит война людям, которые нас избрали: сыновья и мужья, которые не возвращаются домой, цены, которые не по карману нашим пенсионерам, соседи, которые уехали и уже не вернутся.

Мы считаем, что решение начать эту войну нанесло вред нашей стране и её будущему, и просим главу государства признать свою ответственность и уйти в отставку.

Мы подписываем это письмо своими именами и указываем свои должности. Присоединиться к нему может любой муниципальный депутат России; каждую подпись сверяют с реестром депутатов, прежде чем засчитать."""

LETTER_TITLE = "Open letter of municipal deputies: we call for the war to end"
LETTER_BODY = """We are municipal deputies, elected by our neighbours to look after their streets, schools and parks.

We see what the war costs the people who elected us: sons and husbands who do not come back, prices our pensioners cannot pay, neighbours who left and will not return.

We hold that the decision to start this war has harmed our country and its future, and we ask the head of state to accept responsibility for it and step down.

We sign with our names and our offices. Any municipal deputy of Russia may join this letter; every signature is checked against the register of deputies before it is counted."""

PETITION_TITLE = "Keep the Kolpino riverside park public"
PETITION_BODY = """The riverside park on the Izhora is the only green space within walking distance for thousands of families.

We ask the district administration to withdraw the plan to lease the park's northern meadow for private development, and to hold public hearings before any change of its status.

Anyone may sign. Your email is confirmed before your signature counts, and you may choose not to show your name."""

# The petitions office's queue (issue 14): a citizen's submission with its five
# supporters, awaiting a moderator; and another's, rejected as a duplicate of
# the riverside park petition.
SUBMISSION_TITLE = "Light the footpath along the Izhora embankment"
SUBMISSION_BODY = """The footpath from the station to the riverside park has no lights for almost a kilometre. In winter it is dark by four o'clock, and people walk home along the road instead.

We ask the district administration to light the footpath before next winter."""
SUBMISSION_CREATOR = "Tamara Osipova"
DUPLICATE_TITLE = "Save the Kolpino riverside park from private development"
DUPLICATE_BODY = """The northern meadow of the riverside park must not be leased to a developer. We ask the district to keep the whole park public."""
SUPPORTERS = ["Irina Lapina", "Oleg Sharov", "Yana Filatova", "Roman Gromov", "Sofia Rybina"]
