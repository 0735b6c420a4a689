"""Fetching: the site's resources over HTTP(S), cached for one run.

Only transport lives here; what the bytes must say is checked in
:mod:`~undersigned.tlog.verify.checks`.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from typing import Final, Protocol

from undersigned.tlog.merkle import TILE_WIDTH, Tile
from undersigned.tlog.verify.errors import EXIT_USAGE, VerifyError, reason

USER_AGENT: Final = "undersigned-verify/1 (log format 1; +https://c2sp.org/tlog-tiles)"
DEFAULT_TIMEOUT: Final = 30.0
# A full entry bundle is at most 256 * (2 + 65,535) bytes; nothing we fetch is larger.
MAX_RESPONSE_BYTES: Final = TILE_WIDTH * (2 + 0xFFFF) + 1024


class FetchError(Exception):
    """A request failed: no connection, a timeout, or an HTTP status other than 200.

    ``status`` is the HTTP status, or None when there was no HTTP response.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Fetcher(Protocol):
    """Reads one resource of the site, by path relative to the site's base URL."""

    def get(self, path: str) -> bytes:
        """Return the body of a 200 response for ``path`` (e.g. ``log/checkpoint``).

        Raises :class:`FetchError` for anything else.
        """
        ...


class HttpFetcher:
    """A :class:`Fetcher` over HTTP(S) with urllib: a timeout, a size limit, our User-Agent."""

    def __init__(self, base_url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{base_url!r} is not an http:// or https:// URL")
        if parts.query or parts.fragment:
            raise ValueError(f"{base_url!r}: give the site's base URL, without ? or #")
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        self.base_url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))
        self.timeout = timeout

    def get(self, path: str) -> bytes:
        url = self.base_url + path
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked in __init__)
            url, headers={"User-Agent": USER_AGENT, "Accept": "*/*"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310  # nosec B310
                body: bytes = response.read(MAX_RESPONSE_BYTES + 1)
                status: int = response.status
        except urllib.error.HTTPError as exc:
            detail = error_detail(exc)
            message = f"GET {url}: HTTP {exc.code} {exc.reason}"
            raise FetchError(message + (f": {detail}" if detail else ""), exc.code) from None
        except urllib.error.URLError as exc:
            raise FetchError(f"GET {url}: {reason(exc.reason)}") from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise FetchError(f"GET {url}: {reason(exc)}") from None
        if status != 200:
            raise FetchError(f"GET {url}: HTTP {status}", status)
        if len(body) > MAX_RESPONSE_BYTES:
            raise FetchError(f"GET {url}: response larger than {MAX_RESPONSE_BYTES} bytes")
        return body


def error_detail(exc: urllib.error.HTTPError) -> str:
    # The log answers 400s with a one-line reason worth showing.
    try:
        body = exc.read(500) if exc.fp is not None else b""
    except (OSError, http.client.HTTPException):
        return ""
    text = body.decode("utf-8", "replace").strip()
    if text.lstrip().startswith("<"):
        return ""  # an HTML error page says nothing useful on one line
    line = text.splitlines()[0] if text else ""
    return line[:200]


# (stage, done, total), as undersigned.core.progress reports it on the Django side.
Progress = Callable[[str, int, int], None]


def no_progress(stage: str, done: int, total: int) -> None:
    return None


def get(fetcher: Fetcher, path: str) -> bytes:
    """``fetcher.get(path)``, a failure to fetch becoming the usage/network exit code."""
    try:
        return fetcher.get(path)
    except FetchError as exc:
        raise VerifyError(EXIT_USAGE, str(exc)) from None


class CachingFetcher:
    """Caches tiles and bundles for one run: a tile path's contents never change."""

    def __init__(self, fetcher: Fetcher) -> None:
        self._fetcher = fetcher
        self._cache: dict[str, bytes] = {}

    def get(self, path: str) -> bytes:
        if not path.startswith("log/tile/"):
            return self._fetcher.get(path)
        if path not in self._cache:
            self._cache[path] = self._fetcher.get(path)
        return self._cache[path]


class FetcherTileReader:
    """A merkle.TileReader that fetches ``log/<tile path>``."""

    def __init__(self, fetcher: Fetcher, progress: Progress = no_progress) -> None:
        self._fetcher = fetcher
        self._progress = progress

    def read_tiles(self, tiles: Sequence[Tile]) -> list[bytes]:
        found = []
        for tile in tiles:
            found.append(get(self._fetcher, "log/" + tile.path))
            self._progress("fetching hash tiles", len(found), len(tiles))
        return found


