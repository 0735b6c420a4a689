"""Fixtures for scenario tests: whole sites in real processes, on SQLite or PostgreSQL."""

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.scenarios.harness import Site, SmtpServer, postgres_database


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def make_site(tmp_path: Path) -> Iterator[Callable[..., Site]]:
    """make_site(engine, name) -> a Site with its own directory and database."""
    stack = ExitStack()
    sites: list[Site] = []

    def make(engine: str, name: str = "site", **fields: Any) -> Site:
        url = ""
        if engine == "postgresql":
            url = stack.enter_context(postgres_database(name))
        site = Site(root=tmp_path / name, database_url=url, **fields)
        site.root.mkdir(parents=True)
        sites.append(site)
        return site

    with stack:
        try:
            yield make
        finally:
            # Processes first: a database cannot be dropped while they hold it.
            for site in sites:
                site.stop_all()
