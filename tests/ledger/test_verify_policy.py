"""`undersigned verify --policy` and `--receipt`: readers who require the witness quorum.

The site runs for real (live_server), a real witness cosigns on loopback, and
the verifier's command line reads the site's policy the way a reader would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.ledger.test_witnessing import Running, configure, grow, start_witness
from undersigned.ledger import cosigning
from undersigned.ledger.keys import signer
from undersigned.ledger.models import Cosignature
from undersigned.ops.management.commands.worker import run_once
from undersigned.petitions.models import Petition
from undersigned.signing import services as signing
from undersigned.signing.tokens import new_token
from undersigned.tlog import cosignature, entries
from undersigned.tlog import proof as tlog_proof
from undersigned.tlog.policy import Policy
from undersigned.tlog.verify import cli
from undersigned.tlog.verify.errors import EXIT_CONTENT, EXIT_QUORUM, EXIT_SIGNATURE

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "RETRY_PAUSE", 0.0)


@pytest.fixture
def newsroom(tmp_path: Path, settings: Any) -> Any:
    running = start_witness(tmp_path / "newsroom")
    configure(settings, [running.line()])
    yield running
    running.stop()


def policy_file(client: Client, path: Path) -> Path:
    path.write_bytes(client.get("/log/policy").content)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_cosigned_log_passes_and_the_witnesses_are_named(
    live_server: Any,
    petition: Petition,
    newsroom: Running,
    client: Client,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    grow(petition, 4, 0)
    cosigning.cosign_round()
    policy = policy_file(client, tmp_path / "site.policy")
    state = str(tmp_path / "state.json")
    # The policy names the log: no --key needed.
    code, out, err = run(capsys, live_server.url + "/", "--policy", str(policy), "--state", state)
    assert code == 0, err
    assert "witnesses: cosigned by newsroom; meets the policy's quorum 'witnesses'" in out
    # The policy may also come from a URL (better: one the site does not control).
    code, out, err = run(
        capsys,
        live_server.url + "/",
        "--key",
        signer().verifier_key(),
        "--policy",
        live_server.url + "/log/policy",
        "--state",
        state,
        "--json",
    )
    assert code == 0, err
    assert '"split_view_excluded": true' in out and '"signed": ["newsroom"]' in out


def test_without_a_policy_it_says_split_views_are_not_excluded(
    live_server: Any, petition: Petition, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    grow(petition, 2, 0)
    code, out, err = run(
        capsys,
        live_server.url + "/",
        "--key",
        signer().verifier_key(),
        "--state",
        str(tmp_path / "state.json"),
    )
    assert code == 0, err
    assert "not checked (no --policy): a split view" in out
    assert "is not excluded" in out


def test_a_checkpoint_below_the_quorum_is_refused_naming_who_signed(
    live_server: Any,
    petition: Petition,
    newsroom: Running,
    settings: Any,
    client: Client,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A second witness that does not follow this log: it never cosigns.
    library = start_witness(tmp_path / "library", name="library", follow=None)
    try:
        configure(settings, [newsroom.line(), library.line()])  # quorum: all
        grow(petition, 3, 0)
        assert cosigning.cosign_round() == {"newsroom": "cosigned", "library": "unknown_log"}
        policy = policy_file(client, tmp_path / "site.policy")
        code, _, err = run(
            capsys, live_server.url + "/", "--policy", str(policy), "--state", str(tmp_path / "s")
        )
    finally:
        library.stop()
    assert code == EXIT_QUORUM
    assert "cosigned by newsroom; does not meet the quorum 'witnesses'" in err
    assert "missing: library" in err
    assert "split view" in err
    assert not (tmp_path / "s").exists()  # nothing accepted, nothing remembered


def test_a_tampered_cosignature_is_refused(
    live_server: Any,
    petition: Petition,
    newsroom: Running,
    client: Client,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    grow(petition, 3, 0)
    cosigning.cosign_round()
    row = Cosignature.objects.get()
    name, b64 = row.line.rstrip("\n").split(" ")[1:]
    flipped = b64[:40] + ("A" if b64[40] != "A" else "B") + b64[41:]
    row.line = f"— {name} {flipped}\n"
    row.save(update_fields=["line"])
    policy = policy_file(client, tmp_path / "site.policy")
    code, _, err = run(
        capsys, live_server.url + "/", "--policy", str(policy), "--state", str(tmp_path / "s")
    )
    assert code == EXIT_SIGNATURE
    assert "rejected by the policy" in err


# ------------------------------------------------------------------ receipts


def confirmed(petition: Petition, name: str, show: bool) -> str:
    """Sign and confirm; returns the receipt key the confirmation page links."""
    signature = signing.sign(
        petition,
        signing.SignRequest(full_name=name, email=f"{name.split()[0]}@example.org", show_name=show),
    )
    raw, signature.confirm_token_hash = new_token()
    signature.save(update_fields=["confirm_token_hash"])
    key = signing.confirm(raw).receipt_key
    assert key
    return str(key)


@pytest.mark.parametrize("show", [True, False])
def test_a_receipt_downloads_as_a_tlog_proof_that_verifies_offline(
    petition: Petition,
    newsroom: Running,
    client: Client,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    show: bool,
) -> None:
    key = confirmed(petition, "Anna Belova", show)
    assert client.get(f"/receipt/{key}.tlog-proof").status_code == 404  # not yet logged
    run_once()  # sequences, signs, and asks the witness
    response = client.get(f"/receipt/{key}.tlog-proof")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.tlog-proof"')
    assert response["Cache-Control"] == "private, no-store"
    body = response.content
    assert body.startswith(b"c2sp.org/tlog-proof@v1\nextra ")
    parsed = tlog_proof.TlogProof.parse(body)
    entry = entries.decode(parsed.extra or b"")
    assert entry.event == "signature.verified"
    if not show:
        # A hidden signer's opening (name, salt) stays in the JSON receipt.
        assert entry.signer is None and entry.commitment
        assert b"Anna" not in body and b"salt" not in body

    # Offline: the file and the policy, nothing else.
    receipt = tmp_path / "receipt.tlog-proof"
    receipt.write_bytes(body)
    policy = policy_file(client, tmp_path / "site.policy")
    code, out, err = run(capsys, "--receipt", str(receipt), "--policy", str(policy))
    assert code == 0, err
    assert f"receipt: entry {parsed.index} of {signer().name}" in out
    assert "cosigned by newsroom; meets the policy's quorum 'witnesses'" in out
    assert ("hidden" in out) is (not show)


def test_a_tampered_or_uncosigned_receipt_is_refused(
    petition: Petition,
    newsroom: Running,
    client: Client,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = confirmed(petition, "Boris Petrov", True)
    run_once()
    body = client.get(f"/receipt/{key}.tlog-proof").content
    policy = policy_file(client, tmp_path / "site.policy")
    parsed = tlog_proof.TlogProof.parse(body)

    # Another entry in the extra line: the inclusion proof no longer binds it.
    other = (parsed.extra or b"").replace(b"Boris Petrov", b"Boris Petrof")
    forged = tmp_path / "forged.tlog-proof"
    forged.write_bytes(
        tlog_proof.build(parsed.index, parsed.inclusion_proof, parsed.checkpoint, other).to_bytes()
    )
    code, _, err = run(capsys, "--receipt", str(forged), "--policy", str(policy))
    assert code == EXIT_CONTENT, err

    # A policy requiring a witness that never cosigned it: below the quorum.
    absent = cosignature.CosignatureSigner.generate("absent.example/w").verifier_key()
    stricter = Policy.parse(
        policy.read_text().replace(
            "group witnesses all newsroom\n",
            f"witness absent {absent}\ngroup witnesses all newsroom absent\n",
        )
    )
    strict = tmp_path / "strict.policy"
    strict.write_text(stricter.to_text())
    receipt = tmp_path / "receipt.tlog-proof"
    receipt.write_bytes(body)
    code, _, err = run(capsys, "--receipt", str(receipt), "--policy", str(strict))
    assert code == EXIT_QUORUM
    assert "missing: absent" in err

    # No policy, only the key: accepted, and it says what that leaves open.
    code, out, _ = run(capsys, "--receipt", str(receipt), "--key", signer().verifier_key())
    assert code == 0
    assert "split view is not excluded" in out
