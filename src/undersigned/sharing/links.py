"""Share links: plain addresses of each network's own share page, no scripts of theirs."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode


@dataclass(frozen=True)
class ShareLink:
    key: str  # stable, for styling and tests
    name: str  # a brand name, not translated ("Email" is translated by the template)
    href: str


def _query(**params: str) -> str:
    # %20 rather than "+" for spaces: mailto: (RFC 6068) reads "+" literally,
    # and every share page accepts %20.
    return urlencode(params, quote_via=quote)


def share_links(url: str, text: str, *, subject: str, body: str) -> list[ShareLink]:
    """Links sharing `url` with `text`; the email link gets its own `subject` and `body`."""
    return [
        ShareLink("telegram", "Telegram", "https://t.me/share/url?" + _query(url=url, text=text)),
        ShareLink("x", "X (Twitter)", "https://x.com/intent/tweet?" + _query(text=text, url=url)),
        ShareLink(
            "facebook", "Facebook", "https://www.facebook.com/sharer/sharer.php?" + _query(u=url)
        ),
        ShareLink("vk", "VK", "https://vk.com/share.php?" + _query(url=url, title=text)),
        ShareLink("whatsapp", "WhatsApp", "https://wa.me/?" + _query(text=f"{text} {url}")),
        ShareLink("email", "Email", "mailto:?" + _query(subject=subject, body=body)),
    ]
