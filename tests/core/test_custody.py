"""Custody keys: age's own formats, so the standard `age` tool agrees with ours."""

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from undersigned.core import custody, custody_cli

PASSPHRASE = "a long moderator passphrase"


def age_tool() -> str:
    # .ci/run installs Debian's age; a machine without it cannot run this check.
    found = shutil.which("age")
    if found is None:
        pytest.fail("the `age` tool is needed (apt-get install age), as .ci/run installs it")
    return found


def test_what_is_sealed_opens_only_with_its_identity() -> None:
    identity, recipient = custody.new_identity()
    sealed = custody.seal(recipient, {"full_name": "Анна Ветрова", "email": "a@example.org"})
    assert b"a@example.org" not in sealed and "Анна".encode() not in sealed
    assert custody.open_sealed(identity, sealed)["full_name"] == "Анна Ветрова"
    other, _ = custody.new_identity()
    with pytest.raises(custody.CustodyError):
        custody.open_sealed(other, sealed)


@pytest.mark.parametrize(
    "bad", ["", "age1", "age1qqqqqqqq", "AGE-SECRET-KEY-1XYZ", "ssh-ed25519 AAAA", "age2abc"]
)
def test_a_bad_public_key_is_refused_with_a_message(bad: str) -> None:
    with pytest.raises(custody.CustodyError, match="age"):
        custody.check_recipient(bad)


def test_a_locked_key_needs_its_passphrase() -> None:
    identity, _ = custody.new_identity()
    locked = custody.lock_identity(identity, PASSPHRASE)
    assert identity not in locked and locked.startswith(custody.ARMOR_BEGIN)
    assert custody.unlock_identity(locked, PASSPHRASE) == identity
    with pytest.raises(custody.CustodyError, match="wrong passphrase"):
        custody.unlock_identity(locked, "not the passphrase at all")
    with pytest.raises(custody.CustodyError, match="at least 12"):
        custody.lock_identity(identity, "short")
    with pytest.raises(custody.CustodyError):
        custody.unlock_identity("not an age file", PASSPHRASE)


@pytest.mark.slow  # needs Debian's age, which .ci/run installs for the slow suite
def test_the_age_tool_opens_our_values_and_our_key_file(tmp_path: Path) -> None:
    age = age_tool()
    identity, recipient = custody.new_identity()
    identity_file = tmp_path / "identity.txt"
    identity_file.write_text(identity + "\n")
    sealed = tmp_path / "value.age"
    sealed.write_bytes(custody.seal(recipient, {"email": "a@example.org"}))
    opened = subprocess.run(
        [age, "-d", "-i", str(identity_file), str(sealed)], capture_output=True, check=True
    )
    assert json.loads(opened.stdout) == {"email": "a@example.org"}
    # And what age seals to the recipient, ours opens.
    made = subprocess.run(
        [age, "-r", recipient], input=b'{"full_name": "X"}', capture_output=True, check=True
    )
    assert custody.open_sealed(identity, made.stdout) == {"full_name": "X"}
    # A key file locked here is an armoured age passphrase file: age reads it
    # (it asks for the passphrase on a terminal; here we check its header only).
    locked = custody.dearmor(custody.lock_identity(identity, PASSPHRASE))
    assert locked.startswith(b"age-encryption.org/v1\n-> scrypt ")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = custody_cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_keygen_writes_a_locked_key_and_never_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    passphrase = tmp_path / "pass"
    passphrase.write_text(PASSPHRASE)
    key = tmp_path / "keys" / "letter.age"
    code, out, _ = run(capsys, "keygen", "--out", str(key), "--passphrase-file", str(passphrase),
                       "--json")
    result = json.loads(out)
    assert code == 0 and result["recipient"].startswith("age1")
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    identity = custody.unlock_identity(key.read_text(), PASSPHRASE)
    assert custody.recipient_of(identity) == result["recipient"]
    before = key.read_text()
    code, _, err = run(capsys, "keygen", "--out", str(key), "--passphrase-file", str(passphrase))
    assert code == 1 and "never overwritten" in err and key.read_text() == before
    code, out, _ = run(capsys, "sheet", str(key), "--passphrase-file", str(passphrase))
    assert code == 0 and identity in out and result["recipient"] in out


def test_open_refuses_what_is_no_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    passphrase = tmp_path / "pass"
    passphrase.write_text(PASSPHRASE)
    identity, recipient = custody.new_identity()
    key = tmp_path / "k.age"
    key.write_text(custody.lock_identity(identity, PASSPHRASE))
    for content in (b"\xff\xfe", b"not json\n", b'{"format": "something else"}\n', b""):
        export = tmp_path / "export.jsonl"
        export.write_bytes(content)
        code, out, _ = run(capsys, "open", str(export), "--key", str(key), "--passphrase-file",
                           str(passphrase), "--json")
        assert code == 1 and json.loads(out)["ok"] is False
    good = tmp_path / "good.jsonl"
    box = base64.b64encode(custody.seal(recipient, {"full_name": "=HYPERLINK(1)"})).decode()
    good.write_text(
        json.dumps({"format": custody.EXPORT_FORMAT, "recipient": recipient}) + "\n"
        + json.dumps({"signature": 1, "state": "verified", "box": box}) + "\n"
    )
    out_csv = tmp_path / "out.csv"
    code, _, _ = run(capsys, "open", str(good), "--key", str(key), "--passphrase-file",
                     str(passphrase), "--out", str(out_csv))
    # A name typed as a formula stays text in a spreadsheet.
    assert code == 0 and "'=HYPERLINK(1)" in out_csv.read_text()
