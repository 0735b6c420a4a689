"""The JSON API fuzzed from its own OpenAPI schema: never a server error, always as described."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application

from tests.conftest import make_petition

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@pytest.fixture
def some_petitions(organiser: object) -> None:
    make_petition(organiser, slug="clean-air")  # type: ignore[arg-type]
    make_petition(organiser, slug="draft-one", publish=False)  # type: ignore[arg-type]


@pytest.mark.django_db
@pytest.mark.usefixtures("some_petitions")
@schema.parametrize()
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    case.call_and_validate()
