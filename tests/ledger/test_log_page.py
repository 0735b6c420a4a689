"""/log/ lists the public log's entries in words, per petition and for the whole log.

A newcomer who has just withdrawn a signature finds the withdrawal there, with
its index and a link to its inclusion proof; hidden signers are commitments
only; pages are plain links (issue 13, §4).
"""

import base64
import json
import re
from html import unescape

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import confirm_now, make_petition
from undersigned.ledger import views as ledger_views
from undersigned.ledger.models import LogEntry
from undersigned.ledger.services import integrate, latest_checkpoint
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing
from undersigned.signing.models import Signature
from undersigned.signing.tokens import new_token
from undersigned.tlog import merkle

pytestmark = pytest.mark.django_db

ROW = re.compile(r'<tr id="entry-(\d+)">(.*?)</tr>', re.S)


def confirmed(petition: Petition, name: str, *, show: bool = True) -> Signature:
    email = name.lower().replace(" ", ".") + "@example.org"
    request = signing.SignRequest(full_name=name, email=email, show_name=show)
    return confirm_now(signing.sign(petition, request))


def index_of(signature: Signature) -> int:
    index = LogEntry.objects.get(pk=signature.verified_entry_id).index
    assert index is not None
    return index


def rows(body: str) -> dict[int, str]:
    """Entry index -> the row's text, tags removed."""
    return {
        int(i): " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
        for i, html in ROW.findall(body)
    }


def test_a_withdrawal_and_an_invalidation_are_told_in_words(
    client: Client, petition: Petition, organiser: User
) -> None:
    kept = confirmed(petition, "Anna Shown")
    leaving = confirmed(petition, "Boris Leaving")
    forged = confirmed(petition, "Fake Person")
    raw, leaving.withdraw_token_hash = new_token()
    leaving.save(update_fields=["withdraw_token_hash"])
    signing.withdraw(raw)
    signing.invalidate(forged.pk, organiser, reason="the address bounced")
    integrate()
    body = client.get("/log/").content.decode()
    found = rows(body)
    assert len(found) == 6  # opened, three verified, withdrawn, invalidated
    text = list(found.values())
    assert any("Petition opened" in t and "Clean air for Kolpino" in t for t in text)
    assert "Signature verified : Anna Shown" in found[index_of(kept)]
    withdrawn = next(t for t in text if "withdrawn by its signer" in t)
    invalidated = next(t for t in text if "Signature invalidated" in t)
    assert "the address bounced" in invalidated
    # Each removal names the verification it takes back, which is on the page too.
    for removal in (withdrawn, invalidated):
        ref = int(re.search(r"takes back entry (\d+)", removal).group(1))  # type: ignore[union-attr]
        assert ref in found


def test_each_entry_links_to_a_proof_that_checks(client: Client, petition: Petition) -> None:
    confirmed(petition, "Anna Shown")
    integrate()
    checkpoint = latest_checkpoint()
    assert checkpoint is not None
    body = client.get("/log/").content.decode()
    links = re.findall(r'href="(/log/proof/inclusion\?index=(\d+)&amp;size=(\d+))"', body)
    assert len(links) == checkpoint.size
    for url, index, size in links:
        assert int(size) == checkpoint.size
        proof = client.get(unescape(url)).json()
        entry = LogEntry.objects.get(index=int(index))
        merkle.check_record(
            [base64.b64decode(h) for h in proof["proof"]],
            checkpoint.size,
            bytes(checkpoint.root),
            int(index),
            merkle.leaf_hash(bytes(entry.data or b"")),
        )


def test_a_hidden_signer_is_only_a_commitment(client: Client, petition: Petition) -> None:
    hidden = confirmed(petition, "Hanna Hidden", show=False)
    integrate()
    body = client.get(f"/log/?petition={petition.slug}").content.decode()
    assert "Hanna" not in body and "hanna" not in body.lower()
    row = rows(body)[index_of(hidden)]
    assert "name not shown" in row
    entry = LogEntry.objects.get(pk=hidden.verified_entry_id)
    commitment = json.loads(bytes(entry.data or b"{}"))["commitment"]
    assert commitment in row


def test_only_entries_inside_the_latest_checkpoint_are_listed(
    client: Client, petition: Petition
) -> None:
    integrate()
    confirmed(petition, "Late Signer")  # recorded, not yet sequenced or signed
    body = client.get("/log/").content.decode()
    assert "Late Signer" not in body
    integrate()
    assert "Late Signer" in client.get("/log/").content.decode()


def test_one_petitions_entries_and_its_count_at_the_checkpoint(
    client: Client, petition: Petition, organiser: User
) -> None:
    other = make_petition(organiser, slug="other-petition", title="Another petition")
    confirmed(petition, "Anna Shown")
    confirmed(other, "Oleg Elsewhere")
    integrate()
    body = client.get(f"/log/?petition={petition.slug}").content.decode()
    assert "Anna Shown" in body and "Oleg Elsewhere" not in body
    assert "this petition's entries count 1 verified signature." in body
    whole = client.get("/log/").content.decode()
    assert "Anna Shown" in whole and "Oleg Elsewhere" in whole
    assert f'href="/log/?petition={other.slug}"' in whole


def test_pages_are_plain_links_back_and_forth(
    client: Client, petition: Petition, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_views, "LOG_PAGE", 3)
    for i in range(7):
        confirmed(petition, f"Person {i}")
    integrate()  # 8 entries: the opening and seven verifications
    first = client.get("/log/").content.decode()
    assert sorted(rows(first)) == [5, 6, 7]
    assert "Newer entries" not in first
    older = re.search(r'href="\?before=(\d+)">Older entries', first)
    assert older and older.group(1) == "5"
    second = client.get("/log/?before=5").content.decode()
    assert sorted(rows(second)) == [2, 3, 4]
    assert 'href="?before=8">Newer entries' in second or 'href="?">Newest entries' in second
    last = client.get("/log/?before=2").content.decode()
    assert sorted(rows(last)) == [0, 1]
    assert "Older entries" not in last
    assert re.search(r'href="\?before=5">Newer entries', last)
    # One petition's pages keep the petition in every link.
    mine = client.get(f"/log/?petition={petition.slug}&before=5").content.decode()
    assert sorted(rows(mine)) == [2, 3, 4]
    assert f"?petition={petition.slug}&amp;before=2" in mine


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("?before=abc", 400, "must be an entry number"),
        ("?before=-1", 400, "must be an entry number"),
        ("?petition=no-such-thing", 404, "No public petition has the address"),
    ],
)
def test_bad_parameters_get_a_clear_message(
    client: Client, petition: Petition, query: str, status: int, message: str
) -> None:
    integrate()
    response = client.get("/log/" + query)
    assert response.status_code == status
    assert message in response.content.decode()


def test_a_draft_is_not_found_by_its_address(client: Client, organiser: User) -> None:
    draft = make_petition(organiser, slug="secret-draft", publish=False)
    response = client.get(f"/log/?petition={draft.slug}")
    assert response.status_code == 404


def test_the_page_is_in_russian_too(client: Client, petition: Petition) -> None:
    confirmed(petition, "Anna Shown")
    integrate()
    body = client.get("/log/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Подпись подтверждена" in body
    assert "Открыта петиция" in body or "Петиция открыта" in body


def test_an_entry_kind_this_version_does_not_know_is_still_listed() -> None:
    line = ledger_views.log_line(
        9,
        b'{"event":"petition.translated","petition":"p","text":"' + b"a" * 64 + b'",'
        b'"time":"2026-01-02T03:04:05Z","v":1}',
    )
    # (response.published, the example this once used, is now a kind of its own.)
    assert line.what == "Entry of kind “petition.translated”"
    assert line.time is not None and line.time.year == 2026
