from typing import Any

import pytest
from django.test import Client

from tests.conftest import confirm_now
from undersigned.ops.management.commands.worker import run_once
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing

pytestmark = pytest.mark.django_db


def confirmed(petition: Petition, name: str, show: bool = True) -> Any:
    signature = signing.sign(
        petition,
        signing.SignRequest(
            full_name=name, email=f"{name.split()[0].lower()}@example.org", show_name=show
        ),
    )
    return confirm_now(signature)


def test_read_only_api_is_cors_open_cacheable_and_conditional(
    client: Client, petition: Petition
) -> None:
    response = client.get(f"/api/petitions/{petition.slug}")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Cache-Control"] == "public, max-age=1"
    etag = response["ETag"]
    again = client.get(f"/api/petitions/{petition.slug}", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    confirmed(petition, "Anna Belova")
    from undersigned.petitions.services import forget_cached_counts

    forget_cached_counts()
    changed = client.get(f"/api/petitions/{petition.slug}", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed.json()["verified_count"] == 1
    # Nothing private is opened up: the dashboard gets no CORS header.
    assert "Access-Control-Allow-Origin" not in client.get("/dashboard/")


def test_public_signatories_in_pages_from_the_log(
    client: Client, petition: Petition, settings: Any
) -> None:
    from undersigned.api import views

    for i in range(5):
        confirmed(petition, f"Person{i} Shown", show=i != 2)
    run_once()
    views.SIGNATORIES_PAGE = 2
    try:
        first = client.get(f"/api/petitions/{petition.slug}/signatories").json()
        assert [s["name"] for s in first["signatories"]] == ["Person0 Shown", "Person1 Shown"]
        assert first["log_size"] == 6
        rest = client.get(
            f"/api/petitions/{petition.slug}/signatories", {"after": first["next_after"]}
        ).json()
        assert [s["name"] for s in rest["signatories"]] == ["Person3 Shown", "Person4 Shown"]
        assert rest["next_after"] is None
    finally:
        views.SIGNATORIES_PAGE = 500
    assert client.get("/api/petitions/nope/signatories").status_code == 404


def test_timeline(client: Client, petition: Petition) -> None:
    confirmed(petition, "Anna Belova")
    run_once()
    data = client.get(f"/api/petitions/{petition.slug}/timeline").json()
    assert sum(h["verified"] for h in data["hours"]) == 1
    assert data["slug"] == petition.slug and data["awaiting_complete"] is True
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/petitions/{slug}/timeline", "/api/petitions/{slug}/signatories"} <= set(paths)
