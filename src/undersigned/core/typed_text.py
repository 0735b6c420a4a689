"""What a signer may type as a name, role or place: text that names someone or somewhere.

Whatever is typed there is mailed to the address typed beside it, listed on
the petition page and written into signatories.csv. So it may not be

- a spreadsheet formula: a cell that starts with = + - @, a tab or a carriage
  return is one in Excel, LibreOffice and Sheets (OWASP, "CSV injection");
- a link or markup: with it the confirmation mail would carry an
  attacker's words and URL to any address they type (a phishing relay). No
  name, office or place contains "http", "www.", "://", "@", "<", ">" or a
  host name such as example.com; real ones do contain Cyrillic, apostrophes,
  hyphens, «quotes» and dots after initials or abbreviations ("А.С. Пушкин",
  "г.Москва", "St.Petersburg"), and those pass.

The checks run on the NFKC-folded text, so full-width "ｈｔｔｐ" is "http".
"""

import re
import unicodedata

from django.utils.translation import gettext

# The characters a spreadsheet reads a cell starting with as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
LINK_MARKS = ("http", "www.", "://", "@", "<", ">")

# Top-level domains people are sent to by spam and phishing, beyond the
# two-letter country ones (all of which count). A name's word after a dot is
# rarely one of these; when it is ("Jo.An"), a space after the dot passes.
GENERIC_TLDS = frozenset(
    """
    com net org info biz xyz top online site club shop store app dev page live link
    click email space website tech world life today news blog cloud digital group icu
    vip win bid loan loans work fun lol men mom rest bar buzz cam cyou sbs cfd fyi gov
    edu mil int name pro mobi tel asia cat jobs travel museum aero coop art bio eco one
    zone tools support services help center company business network systems solutions
    media social city host hosting domains download free game games bet casino poker
    money finance cash pay bank credit trade market agency studio design photo pics
    onion stream video chat mail gift gifts prize win vote today report guru ninja
    """.split()
)
# Cyrillic top-level domains: a word of a Russian place after a dot may only
# be one of these to read as an address ("г.Москва" still passes: "г" is no host).
CYRILLIC_TLDS = frozenset(
    "рф рус москва онлайн сайт орг ком дети укр бел қаз срб мкд бг мон".split()
)
# Cyrillic letters drawn like Latin ones: "ехаmple.соm" is read, and typed, as
# example.com.
LOOKALIKE = str.maketrans("авекмнорстухіјѕԁ", "abekmhopctyxijsd")

_TOKEN = re.compile(r"[\w.\-/]+")
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _host_like(token: str) -> bool:
    """Whether one run of word characters, dots, hyphens and slashes reads as a web address."""
    host, slash, _ = token.strip(".-/").partition("/")
    labels = host.split(".")
    if len(labels) < 2 or "" in labels:
        return False
    if _IPV4.match(host):
        return True
    last = labels[-1]
    if last in CYRILLIC_TLDS:
        tld = True
    elif not any(c.isascii() and c.isalpha() for c in host):
        # A Cyrillic word after a dot ("пос.Тор") is an abbreviation and a word,
        # not an address, unless it is a Cyrillic domain's.
        tld = False
    else:
        latin = last.translate(LOOKALIKE)
        tld = latin.isascii() and latin.isalpha() and (latin in GENERIC_TLDS or len(latin) == 2)
    # "t.me/…" is an address; "J.R" or "г.Москва" without a path is an initial
    # or an abbreviation before a word.
    return tld and (len(labels[-2]) >= 2 or bool(slash))


def problem(value: str, label: str) -> str | None:
    """Why `value` cannot be a signer's name, role or place (translated), or None."""
    if not value:
        return None
    if value.startswith(FORMULA_START):
        return gettext(
            "%(label)s cannot start with =, +, -, @ or a tab: "
            "spreadsheets would read it as a formula."
        ) % {"label": label}
    folded = _folded(value)
    if any(mark in folded for mark in LINK_MARKS):
        return gettext(
            "%(label)s cannot contain a web or mail address, or the characters < and >."
        ) % {"label": label}
    for token in _TOKEN.findall(folded):
        if _host_like(token):
            return gettext(
                "%(label)s looks like it contains a web address (%(token)s). "
                "If it is part of the name, put a space after the dot."
            ) % {"label": label, "token": token}
    return None
