"""GET /api/petitions offers the listing's filters: state, q, sort and page, described in the
schema; without them it still answers every public petition, as `undersigned verify` reads it."""

import json
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from tests.conftest import confirm_now, make_petition
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing

pytestmark = pytest.mark.django_db


def verify(petition: Petition, n: int) -> None:
    for i in range(n):
        request = signing.SignRequest(full_name=f"P {i}", email=f"{petition.slug}{i}@example.org")
        confirm_now(signing.sign(petition, request))


def slugs(client: Client, url: str, **params: Any) -> list[str]:
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    return [item["slug"] for item in json.loads(response.content)]


@pytest.fixture
def some(organiser: User) -> dict[str, Petition]:
    parks = make_petition(organiser, slug="parks", title="Save the parks", body="Every park.")
    schools = make_petition(organiser, slug="schools", title="Школы", body="Депутатам.")
    river = make_petition(organiser, slug="river", title="Clean the river", body="Fish.")
    make_petition(organiser, slug="draft", title="Draft park", publish=False)
    verify(schools, 2)
    verify(river, 1)
    petitions.close(river, organiser)
    for n, slug in enumerate(["parks", "schools", "river"]):
        Petition.objects.filter(slug=slug).update(opened_at=timezone.now() - timedelta(days=n))
    return {"parks": parks, "schools": schools, "river": river}


def test_without_parameters_every_public_petition_newest_first(
    client: Client, some: dict[str, Petition]
) -> None:
    response = client.get("/api/petitions")
    listed = json.loads(response.content)
    assert [p["slug"] for p in listed] == ["parks", "schools", "river"]
    assert "X-Total-Count" not in response and "Link" not in response
    by_slug = {p["slug"]: p for p in listed}
    assert by_slug["schools"]["verified_count"] == 2
    assert by_slug["schools"]["states"] == ["open"]
    assert by_slug["river"]["states"] == ["closed"]
    assert by_slug["parks"]["title"] == "Save the parks"


def test_state_search_and_order(client: Client, some: dict[str, Petition]) -> None:
    assert slugs(client, "/api/petitions", state="open") == ["parks", "schools"]
    assert slugs(client, "/api/petitions", state="closed") == ["river"]
    assert slugs(client, "/api/petitions", sort="signatures") == ["schools", "river", "parks"]
    assert slugs(client, "/api/petitions", q="deputatam") == ["schools"]
    assert slugs(client, "/api/petitions", q="парк") == ["parks"]  # never the draft
    assert slugs(client, "/api/petitions", q="fish", state="open") == []


def test_pages_carry_the_total_and_links(client: Client, organiser: User) -> None:
    for n in range(25):
        make_petition(organiser, slug=f"p{n:02}", title=f"Number {n}")
    first = client.get("/api/petitions", {"page": 1, "sort": "signatures"})
    assert len(json.loads(first.content)) == 20
    assert first["X-Total-Count"] == "25"
    assert first["Link"] == (
        '<http://testserver/api/petitions?state=all&sort=signatures&page=2>; rel="next"'
    )
    second = client.get("/api/petitions", {"page": 2, "sort": "signatures"})
    assert len(json.loads(second.content)) == 5
    assert second["Link"] == (
        '<http://testserver/api/petitions?state=all&sort=signatures&page=1>; rel="prev"'
    )
    both = {p["slug"] for p in json.loads(first.content) + json.loads(second.content)}
    assert len(both) == 25
    assert json.loads(client.get("/api/petitions", {"page": 3}).content) == []
    # The query string of the links keeps the filters.
    filtered = client.get("/api/petitions", {"page": 1, "state": "open", "q": "number"})
    assert filtered["Link"] == (
        '<http://testserver/api/petitions?state=open&sort=newest&q=number&page=2>; rel="next"'
    )


@pytest.mark.parametrize(
    "params", [{"state": "nonsense"}, {"sort": "random"}, {"page": "0"}, {"page": "x"}]
)
def test_a_parameter_that_is_not_a_choice_is_a_422(
    client: Client, some: dict[str, Petition], params: dict[str, str]
) -> None:
    response = client.get("/api/petitions", params)
    assert response.status_code == 422
    assert "detail" in json.loads(response.content)


def test_the_schema_describes_the_filters(client: Client) -> None:
    schema = json.loads(client.get("/api/openapi.json").content)
    operation = schema["paths"]["/api/petitions"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert set(parameters) == {"state", "q", "sort", "page"}

    def choices(name: str) -> list[str]:
        found = parameters[name]["schema"]
        found = found.get("allOf", [found])[0]
        if "$ref" in found:
            found = schema["components"]["schemas"][found["$ref"].rsplit("/", 1)[1]]
        return list(found.get("enum", []))

    assert {"open", "closed", "all"} <= set(choices("state"))
    assert set(choices("sort")) == {"signatures", "newest"}
    assert "429" in operation["responses"]
    assert "X-Total-Count" in operation["description"]


def test_past_the_limit_a_client_gets_429_with_retry_after(
    client: Client, some: dict[str, Petition], settings: Any
) -> None:
    settings.RATE_LIMIT_API = "3/60"
    for _ in range(3):
        assert client.get("/api/petitions", {"q": "park"}).status_code == 200
    refused = client.get("/api/petitions", {"q": "park"})
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "the limit is 3 per 60 seconds" in json.loads(refused.content)["detail"]
    # One budget for the lists: a petition's timeline and signatories too.
    assert client.get("/api/petitions/parks/timeline").status_code == 429
    assert client.get("/api/petitions/parks/signatories").status_code == 429
    # Another address has its own budget; one petition's count is never limited.
    assert client.get("/api/petitions", REMOTE_ADDR="192.0.2.9").status_code == 200
    assert client.get("/api/petitions/parks").status_code == 200
