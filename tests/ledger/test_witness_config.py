"""LEDGER_WITNESSES and LEDGER_WITNESS_QUORUM: what an operator can write, and clear refusals."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from undersigned.ledger import services
from undersigned.ledger.keys import signer
from undersigned.ledger.witness_config import MAX_WITNESSES, parse_quorum, parse_witnesses
from undersigned.petitions.models import Petition
from undersigned.tlog import cosignature, merkle, note

# Fixed seeds, not random keys: the parameters below name these keys, and every
# xdist worker of `make test` must collect the same tests.
ED = cosignature.CosignatureSigner(
    "news.example/witness", cosignature.ED25519, hashlib.sha256(b"newsroom").digest()
)
ML = cosignature.CosignatureSigner(
    "library.example/w", cosignature.MLDSA44, hashlib.sha256(b"library").digest()
)


def test_one_per_line_or_semicolons_with_comments_and_blanks() -> None:
    text = f"""
# the newsroom's, then the library's
newsroom  {ED.verifier_key()}\thttps://witness.news.example/
library {ML.verifier_key()} http://127.0.0.1:7380 ;
"""
    parsed = parse_witnesses(text)
    assert [(w.name, w.url) for w in parsed] == [
        ("newsroom", "https://witness.news.example/"),
        ("library", "http://127.0.0.1:7380"),
    ]
    assert parsed[0].add_checkpoint_url == "https://witness.news.example/add-checkpoint"
    assert parsed[1].verifier.algorithm == cosignature.MLDSA44
    one_line = f"a {ED.verifier_key()} http://a.example/; b {ML.verifier_key()} http://b.example/"
    assert [w.name for w in parse_witnesses(one_line)] == ["a", "b"]
    assert parse_witnesses("") == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"newsroom {ED.verifier_key()}", "expected three fields"),
        (f"news room {ED.verifier_key()} http://a.example/", "expected three fields"),
        (f"-x {ED.verifier_key()} http://a.example/", "must be 1 to 64 letters"),
        (f"none {ED.verifier_key()} http://a.example/", "'none' is reserved"),
        (f"witnesses {ED.verifier_key()} http://a.example/", "'witnesses' is reserved"),
        ("newsroom news.example/w+12345678+AAAA http://a.example/", "not a cosignature key"),
        (f"newsroom {ED.verifier_key()[:-4]}AAAA http://a.example/", "not a cosignature key"),
        (f"log {signer().verifier_key()} http://a.example/", "not a cosignature key"),
        (f"newsroom {ED.verifier_key()} ftp://a.example/", "must start with http"),
        (f"newsroom {ED.verifier_key()} a.example/", "must start with http"),
        (f"newsroom {ED.verifier_key()} http://u:p@a.example/", "no query, fragment or password"),
        (
            f"a {ED.verifier_key()} http://a.example/\na {ML.verifier_key()} http://b.example/",
            "used twice",
        ),
        (
            f"a {ED.verifier_key()} http://a.example/\nb {ED.verifier_key()} http://b.example/",
            "the same key as witness 'a'",
        ),
    ],
)
def test_mistakes_are_refused_naming_the_entry(text: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message) as caught:
        parse_witnesses(text)
    assert "LEDGER_WITNESSES, witness " in str(caught.value)


def test_at_most_32_witnesses() -> None:
    keys = [
        cosignature.CosignatureSigner.generate(f"w{i}.example/w", cosignature.ED25519)
        for i in range(MAX_WITNESSES + 1)
    ]
    lines = [f"w{i} {k.verifier_key()} http://w{i}.example/" for i, k in enumerate(keys)]
    assert len(parse_witnesses("\n".join(lines[:MAX_WITNESSES]))) == MAX_WITNESSES
    with pytest.raises(ImproperlyConfigured, match="at most 32"):
        parse_witnesses("\n".join(lines))


def test_the_quorum_is_a_number_all_or_any() -> None:
    assert parse_quorum("", 3) == 3
    assert parse_quorum("all", 3) == 3
    assert parse_quorum("ALL", 3) == 3
    assert parse_quorum("any", 3) == 1
    assert parse_quorum("2", 3) == 2
    assert parse_quorum("0", 3) == 0
    assert parse_quorum("", 0) == 0
    with pytest.raises(ImproperlyConfigured, match="cannot need more witnesses"):
        parse_quorum("4", 3)
    with pytest.raises(ImproperlyConfigured, match="a number, 'all' or 'any'"):
        parse_quorum("two", 3)
    with pytest.raises(ImproperlyConfigured, match="needs at least one"):
        parse_quorum("any", 0)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LEDGER_WITNESSES": "newsroom nonsense http://a.example/"}, "not a cosignature key"),
        (
            {
                "LEDGER_WITNESSES": f"a {ED.verifier_key()} http://a.example/",
                "LEDGER_WITNESS_QUORUM": "2",
            },
            "cannot need more witnesses",
        ),
        ({"LEDGER_WITNESS_TIMEOUT": "0"}, "LEDGER_WITNESS_TIMEOUT"),
    ],
)
def test_the_site_refuses_to_start_with_a_bad_configuration(
    env: dict[str, str], message: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "undersigned.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and message in done.stderr


@pytest.mark.django_db
def test_checkpoints_are_what_the_witness_network_asks_for(petition: Petition) -> None:
    """An Ed25519 (0x01) log key named after the origin, and no extension lines."""
    vkey = signer().verifier_key()
    name, _, rest = vkey.partition("+")
    assert base64.b64decode(rest.partition("+")[2])[0] == note.ALG_ED25519
    assert "://" not in name and " " not in name and "+" not in name
    services.integrate()
    signed = services.latest_checkpoint()
    assert signed is not None
    text, _ = note.open_note(signed.note, [signer().verifier()])
    checkpoint = merkle.Checkpoint.parse(text)
    assert checkpoint.origin == name and checkpoint.extensions == ()
