"""The public JSON API: the same counts as the pages, drafts invisible, a described schema."""

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import make_petition
from undersigned.ledger.services import integrate
from undersigned.petitions import services as petitions
from undersigned.petitions.models import Petition
from undersigned.registers.models import RegisterEntry
from undersigned.signing import paper
from undersigned.signing import services as signing
from undersigned.signing.models import Signature
from undersigned.signing.paper import PaperLine
from undersigned.signing.tokens import new_token

pytestmark = pytest.mark.django_db


def sign(
    petition: Petition, name: str, email: str, *, confirm: bool = True, **extra: Any
) -> Signature:
    signature = signing.sign(petition, signing.SignRequest(full_name=name, email=email, **extra))
    if not confirm:
        return signature
    raw, signature.confirm_token_hash = new_token()
    signature.save(update_fields=["confirm_token_hash"])
    return signing.confirm(raw)


def get_json(client: Client, url: str, status: int = 200) -> Any:
    response = client.get(url)
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def test_list_shows_public_petitions_with_their_counts(
    client: Client, organiser: Any, petition: Petition, letter: Petition
) -> None:
    make_petition(organiser, slug="hidden-draft", title="Hidden draft", publish=False)
    closed = make_petition(organiser, slug="old-one", title="An old petition")
    petitions.close(closed, organiser)
    sign(petition, "Anna Belova", "a@example.org", region="St Petersburg", municipality="Kolpino")
    sign(petition, "Boris Vetrov", "b@example.org", show_name=False)
    sign(petition, "Not Yet", "n@example.org", confirm=False)
    sign(
        letter,
        "Gleb Zorin",
        "gleb@mail.example.org",
        role="municipal deputy",
        municipality="Samara",
    )

    listed = get_json(client, "/api/petitions")
    by_slug = {item["slug"]: item for item in listed}
    assert set(by_slug) == {"clean-air", "deputies-letter", "old-one"}
    item = by_slug["clean-air"]
    assert {
        "slug": item["slug"],
        "title": item["title"],
        "status": item["status"],
        "verified_count": item["verified_count"],
        "awaiting_count": item["awaiting_count"],
        "text_version": item["text_version"],
        "kind": item["kind"],
        "audience": item["audience"],
    } == {
        "slug": "clean-air",
        "title": "Clean air for Kolpino",
        "status": "open",
        "verified_count": 2,
        "awaiting_count": 0,
        "text_version": 1,
        "kind": "petition",
        "audience": "anyone",
    }
    assert item["url"] == "http://testserver/p/clean-air/"
    assert petition.opened_at is not None
    # JSON carries milliseconds.
    opened = datetime.fromisoformat(item["opened_at"])
    assert abs(opened - petition.opened_at) < timedelta(milliseconds=1)
    letter_item = by_slug["deputies-letter"]
    assert (letter_item["verified_count"], letter_item["awaiting_count"]) == (0, 1)
    assert (letter_item["kind"], letter_item["audience"]) == ("letter", "register")
    assert by_slug["old-one"]["status"] == "closed"
    assert by_slug["old-one"]["closed_at"] is not None
    assert "Hidden draft" not in json.dumps(listed)


def test_detail_has_counts_by_region_and_follows_approvals(
    client: Client, letter: Petition
) -> None:
    sign(
        letter,
        "Kseniya Lindstrem",
        "lindstrem@council.example.org",
        role="municipal deputy",
        municipality="Semenovsky",
    )
    claim = sign(
        letter,
        "Gleb Zorin",
        "gleb@mail.example.org",
        role="municipal deputy",
        municipality="Samara city",
    )
    waiting = sign(
        letter,
        "Vera Orlova",
        "vera@mail.example.org",
        role="municipal deputy",
        municipality="Yakutsk",
        show_name=False,
    )

    detail = get_json(client, f"/api/petitions/{letter.slug}")
    assert (detail["verified_count"], detail["awaiting_count"]) == (1, 2)
    assert detail["counts_by_region"] == [
        {
            "region": "St Petersburg",
            "verified": 1,
            "municipalities": [{"municipality": "Semyonovsky", "verified": 1}],
        },
    ]

    signing.approve(
        claim.pk, letter.organiser, entry=RegisterEntry.objects.get(full_name="Gleb Zorin")
    )
    signing.approve(
        waiting.pk, letter.organiser, entry=RegisterEntry.objects.get(full_name="Vera Orlova")
    )
    detail = get_json(client, f"/api/petitions/{letter.slug}")
    assert detail["slug"] == "deputies-letter"
    assert detail["title"] == "Letter of deputies"
    assert detail["status"] == "open"
    assert (detail["verified_count"], detail["awaiting_count"]) == (3, 0)
    # Hidden names still count; places are the register's, not the claimed spelling.
    # Yakutsk's one deputy chose to be counted without her name: a count there
    # would name her, so she is counted in no place (docs/security.md, "Small cells").
    assert detail["verified_unplaced"] == 1
    assert detail["counts_by_region"] == [
        {
            "region": "Samara Oblast",
            "verified": 1,
            "municipalities": [{"municipality": "Samara", "verified": 1}],
        },
        {
            "region": "St Petersburg",
            "verified": 1,
            "municipalities": [{"municipality": "Semyonovsky", "verified": 1}],
        },
    ]
    assert detail["register_name"] == "Deputies"
    assert detail["organiser"] == "Friends of Kolpino"
    assert detail["text_version"] == 1
    assert detail["text_sha256"] == letter.current_version().sha256
    # No signer's name or address is in the API.
    dumped = json.dumps(detail)
    for private in ("Gleb Zorin", "Vera Orlova", "gleb@mail.example.org", "lindstrem@"):
        assert private not in dumped


def test_detail_follows_a_correction(client: Client, petition: Petition, organiser: Any) -> None:
    # A correction is of the text in its language (another language is a
    # translation: tests/api/test_api_texts.py).
    petitions.new_version(
        petition,
        organiser,
        title="Clean air for all of Kolpino",
        body="We ask for clean air everywhere.",
        language="en",
        change_note="Wider.",
    )
    detail = get_json(client, f"/api/petitions/{petition.slug}")
    assert detail["text_version"] == 2
    assert detail["title"] == "Clean air for all of Kolpino"
    assert detail["language"] == "en"
    assert detail["text_sha256"] == petition.current_version().sha256
    assert detail["thresholds"] == []
    listed = get_json(client, "/api/petitions")
    assert [(p["slug"], p["text_version"]) for p in listed] == [("clean-air", 2)]


def test_drafts_and_unknown_slugs_are_404_json(client: Client, organiser: Any) -> None:
    make_petition(organiser, slug="a-draft", title="Draft title", publish=False)
    assert get_json(client, "/api/petitions") == []
    for slug in ("a-draft", "no-such-petition"):
        body = get_json(client, f"/api/petitions/{slug}", status=404)
        assert isinstance(body, dict) and "detail" in body
        assert "Draft title" not in json.dumps(body)


def test_openapi_describes_both_paths(client: Client, db: None) -> None:
    schema = get_json(client, "/api/openapi.json")
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Undersigned API"
    paths = schema["paths"]
    assert set(paths) >= {"/api/petitions", "/api/petitions/{slug}"}
    assert "get" in paths["/api/petitions"] and "get" in paths["/api/petitions/{slug}"]
    parameters = paths["/api/petitions/{slug}"]["get"]["parameters"]
    assert [(p["name"], p["in"]) for p in parameters] == [("slug", "path")]
    # Every field a client relies on is declared in the detail response's schema.
    ok = paths["/api/petitions/{slug}"]["get"]["responses"]["200"]
    ref = ok["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = schema["components"]["schemas"][ref]["properties"]
    assert set(properties) >= {
        "slug",
        "title",
        "status",
        "verified_count",
        "awaiting_count",
        "counts_by_region",
        "verified_unplaced",
        "text_version",
    }
    assert "Small cells" in properties["verified_unplaced"]["description"]
    assert "paper" in properties["log_paper_count"]["description"]


def test_the_paper_figure_is_given_live_and_at_the_checkpoint(
    client: Client, petition: Petition
) -> None:
    moderator = User.objects.create_user("mod", "mod@example.org", "pw-for-tests-only")
    petition.moderators.add(moderator)
    sign(petition, "Anna Belova", "a@example.org")
    sheet = [
        paper.enter_one(petition, PaperLine("Sheet 1", name, show_name=True), moderator)
        for name in ("Paper Pavel", "Paper Polina", "Paper Pyotr")
    ]
    integrate()
    signing.invalidate(sheet[0].pk, moderator, reason="Entered from paper by mistake")
    # The invalidation is recorded, not yet in a checkpoint: the live figure
    # has moved, the checkpoint's has not.
    figures = ("verified_count", "paper_count", "log_verified_count", "log_paper_count")
    detail = get_json(client, f"/api/petitions/{petition.slug}")
    (listed,) = [i for i in get_json(client, "/api/petitions") if i["slug"] == petition.slug]
    for answer in (detail, listed):
        assert [answer[k] for k in figures] == [3, 2, 4, 3]
    size = detail["log_size"]
    integrate()
    detail = get_json(client, f"/api/petitions/{petition.slug}")
    assert [detail[k] for k in figures] == [3, 2, 3, 2]
    assert detail["log_size"] == size + 1


def test_the_api_is_read_only(client: Client, petition: Petition) -> None:
    response = client.post("/api/petitions", {}, content_type="application/json")
    assert response.status_code == 405
    response = client.delete(f"/api/petitions/{petition.slug}")
    assert response.status_code == 405
    assert Petition.objects.filter(slug=petition.slug).exists()
