"""The JSON API fuzzed from its own OpenAPI schema: never a server error, always as described."""

from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections

from tests.conftest import make_petition

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@pytest.fixture(autouse=True)
def keep_the_test_connection() -> Iterator[None]:
    # A real WSGI handler closes "old" connections at each request; inside a
    # test's transaction that would close it on PostgreSQL. Django's own test
    # client turns this off the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def some_petitions(organiser: object) -> None:
    make_petition(organiser, slug="clean-air")  # type: ignore[arg-type]
    make_petition(organiser, slug="draft-one", publish=False)  # type: ignore[arg-type]


@pytest.mark.django_db
@pytest.mark.usefixtures("some_petitions")
@schema.parametrize()
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    case.call_and_validate()
