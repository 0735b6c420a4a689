"""Petitions that look like a new one: found across scripts and spellings, from the index alone."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import make_petition
from undersigned.petitions import services as petitions
from undersigned.petitions.lookalike import RECENT, lookalike_ids, lookalikes
from undersigned.petitions.models import Petition, Response

pytestmark = pytest.mark.django_db


def slugs(found: list[Petition]) -> list[str]:
    return [p.slug for p in found]


@pytest.fixture
def site(organiser: User) -> dict[str, Petition]:
    """A site with a few petitions on other things, so that "city" and "council" are common."""
    made = {}
    for slug, title, body in [
        ("deputies", "Депутатам муниципальных собраний", "Просим вас поддержать жителей."),
        ("library", "Save the city library", "The city council wants to close it."),
        ("parking", "Lower the city parking fees", "The city council raised them twice."),
        ("trees", "City council: plant trees on Mill Street", "Shade for the city."),
        ("bridge", "Repair the Mill Street bridge", "The city council must act."),
        ("buses", "Night buses for the city", "Ask the city council for buses."),
    ]:
        made[slug] = make_petition(organiser, slug=slug, title=title, body=body)
    return made


def test_titles_in_another_script_or_spelling_find_each_other(
    site: dict[str, Petition],
) -> None:
    assert slugs(lookalikes("deputatam munitsipalnykh sobraniy")) == ["deputies"]
    assert slugs(lookalikes("Deputatam munitsipalnyh sobranij")) == ["deputies"]
    # "municipal" is another word ("c" is not "ts"), but two of three are enough.
    assert slugs(lookalikes("Deputatam municipalnyh sobranij")) == ["deputies"]
    # Other cases of the same words, and the beginning of a title being typed.
    assert slugs(lookalikes("Письмо депутатам муниципального собрания")) == ["deputies"]
    assert slugs(lookalikes("deputatam munits")) == ["deputies"]
    # The first word alone is not enough: every petition using it would be listed.
    assert lookalikes("Депутатам") == []


def test_a_reworded_title_is_found_best_first(site: dict[str, Petition]) -> None:
    found = lookalikes("Fix the bridge on Mill Street, please")
    assert slugs(found)[0] == "bridge"
    # Sharing "Mill Street" with a petition about trees is less alike, if at all.
    scores = dict(lookalike_ids("Fix the bridge on Mill Street, please"))
    assert scores[site["bridge"].pk] > scores.get(site["trees"].pk, 0)


def test_petitions_sharing_only_common_words_are_not_shown(site: dict[str, Petition]) -> None:
    # One word in common.
    assert lookalikes("A new library for Kolpino") == []
    # One rare and one common word, but not what the petition is about.
    assert lookalikes("Save the city zoo") == []
    # Two words that most petitions here use ("city", "council") are not enough.
    assert lookalikes("City council: open a public sauna") == []
    # Nor are words every petition uses.
    assert lookalikes("The petition for the people") == []


def test_the_text_can_tell_what_the_title_does_not(site: dict[str, Petition]) -> None:
    assert lookalikes("Keep the library") == []
    found = lookalikes("Keep the library", "The council wants to close it. Save it!")
    assert slugs(found) == ["library"]


def test_drafts_and_submissions_are_never_shown(organiser: User, site: dict[str, Petition]) -> None:
    draft = make_petition(
        organiser, slug="draft", title="Ремонт моста на улице Мельничной", publish=False
    )
    assert draft.status == Petition.Status.DRAFT
    assert lookalikes("Ремонт моста на улице Мельничной") == []
    # Nor an unmoderated submission, even if its words were in the index.
    make_petition(organiser, slug="open-one", title="Ремонт моста на улице Мельничной")
    assert slugs(lookalikes("Ремонт моста на улице Мельничной")) == ["open-one"]
    for status in [
        Petition.Status.DRAFT,
        Petition.Status.COLLECTING,
        Petition.Status.MODERATION,
        Petition.Status.SENT_BACK,
    ]:
        Petition.objects.filter(slug="open-one").update(status=status)
        assert lookalikes("Ремонт моста на улице Мельничной") == [], status


def test_exclude_id_and_limit(organiser: User, site: dict[str, Petition]) -> None:
    for n in range(5):
        make_petition(organiser, slug=f"copy-{n}", title=f"Repair the Mill Street bridge now {n}")
    # Equally alike: the oldest first, the one the others copy.
    found = lookalikes("Repair the Mill Street bridge")
    assert slugs(found) == ["bridge", "copy-0", "copy-1", "copy-2", "copy-3"]
    assert slugs(lookalikes("Repair the Mill Street bridge", limit=2)) == ["bridge", "copy-0"]
    assert lookalikes("Repair the Mill Street bridge", limit=0) == []
    excluded = lookalikes("Repair the Mill Street bridge", exclude_id=site["bridge"].pk)
    assert slugs(excluded) == ["copy-0", "copy-1", "copy-2", "copy-3", "copy-4"]


def test_closed_petitions_are_shown_only_while_recent(
    organiser: User, site: dict[str, Petition]
) -> None:
    bridge = site["bridge"]
    petitions.close(bridge, organiser)
    assert slugs(lookalikes("Repair the Mill Street bridge")) == ["bridge"]
    Petition.objects.filter(pk=bridge.pk).update(
        closed_at=timezone.now() - RECENT - timedelta(days=1)
    )
    assert lookalikes("Repair the Mill Street bridge") == []
    # Answered recently: shown again, closed or not.
    Response.objects.create(
        petition=bridge,
        answered_by="City Council",
        responded_on=timezone.now().date(),
        text="We will.",
        verified=0,
    )
    assert slugs(lookalikes("Repair the Mill Street bridge")) == ["bridge"]


def test_an_open_petition_long_past_its_deadline_is_not_shown(site: dict[str, Petition]) -> None:
    Petition.objects.filter(pk=site["bridge"].pk).update(
        deadline=timezone.now() - RECENT - timedelta(days=1)
    )
    assert lookalikes("Repair the Mill Street bridge") == []


def test_the_look_up_reads_the_index_not_the_texts(
    site: dict[str, Petition], django_assert_max_num_queries: Any
) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert lookalike_ids("Repair the Mill Street bridge", "The city council must act.")
    assert len(queries) == 3
    for query in queries:
        assert "petitions_textversion" not in query["sql"]


def test_nothing_to_compare_gives_nothing(site: dict[str, Petition]) -> None:
    assert lookalikes("") == []
    assert lookalikes("!!! ???") == []
    assert lookalikes("the of and") == []
