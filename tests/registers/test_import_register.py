"""Importing a register into the database: service, command and admin page. All rows or none."""

import hashlib
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from tests.conftest import second_factor_login
from undersigned.core.hashing import keyed_hash
from undersigned.registers.models import Register, RegisterEntry
from undersigned.registers.services import import_register
from undersigned.signing.services import email_hash

pytestmark = pytest.mark.django_db

GOOD = """full_name,role,municipality,region,email
Kseniya Lindstrem,municipal deputy,Semyonovsky,St Petersburg,Lindstrem@Council.example.org
Dmitry Palyuga,municipal deputy,Smolninskoye,St Petersburg,
Anna  Belova ,municipal deputy,Kolpino,St Petersburg,belova@council.example.org
"""

# Line 3 lacks a municipality, line 5 has a broken address, line 6 repeats line 2.
BAD = """full_name,role,municipality,region,email
Gleb Zorin,municipal deputy,Samara,Samara Oblast,
Vera Orlova,municipal deputy,,Sakha (Yakutia),
Boris Vetrov,municipal deputy,Tverskoy,Moscow,
Daria Lapina,municipal deputy,Yakimanka,Moscow,daria@@example
Gleb Zorin,municipal deputy,Samara,Samara Oblast,
"""

# Line 2 is new; lines 3 and 4 are people already imported from GOOD
# (line 4 with another spelling of the same name); line 5 reuses an address.
AGAIN = """full_name,role,municipality,region,email
Gleb Zorin,municipal deputy,Samara,Samara Oblast,
Kseniya Lindstrem,municipal deputy,Semyonovsky,St Petersburg,
Dmitri Paliuga,municipal deputy,Smolninskoye,St Petersburg,
Vera Orlova,municipal deputy,Yakutsk,Sakha (Yakutia),belova@council.example.org
"""


@pytest.fixture
def admin_client(db: None) -> Client:
    root = User.objects.create_superuser("root", "root@example.org", "pw")
    return second_factor_login(Client(), root)


def people(register: str = "Deputies") -> list[tuple[str, str, str, str, str]]:
    return sorted(
        RegisterEntry.objects.filter(register__name=register).values_list(
            "full_name", "role", "municipality", "region", "official_email"
        )
    )


def csv_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "register.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_good_file_is_imported(db: None) -> None:
    result = import_register("  Deputies ", GOOD.encode(), description="St Petersburg, 2024")
    assert result.ok and result.errors == []
    assert result.imported == 3
    register = Register.objects.get()
    assert result.register == register
    assert (register.name, register.description) == ("Deputies", "St Petersburg, 2024")
    assert people() == [
        (
            "Anna Belova",
            "municipal deputy",
            "Kolpino",
            "St Petersburg",
            "belova@council.example.org",
        ),
        ("Dmitry Palyuga", "municipal deputy", "Smolninskoye", "St Petersburg", ""),
        (
            "Kseniya Lindstrem",
            "municipal deputy",
            "Semyonovsky",
            "St Petersburg",
            "lindstrem@council.example.org",
        ),
    ]
    assert RegisterEntry.objects.get(full_name="Dmitry Palyuga").official_email_hash == ""


def test_a_file_with_bad_rows_imports_nothing_and_names_every_bad_line(db: None) -> None:
    result = import_register("Deputies", BAD.encode())
    assert not result.ok
    assert result.imported == 0 and result.register is None
    assert [error.line for error in result.errors] == [3, 5, 6]
    assert all(str(error).startswith(f"line {error.line}:") for error in result.errors)
    assert "municipality" in str(result.errors[0])
    assert "daria@@example" in str(result.errors[1])
    assert "duplicate of line 2" in str(result.errors[2])
    assert not Register.objects.exists()
    assert not RegisterEntry.objects.exists()


def test_importing_the_same_people_again_is_refused_with_their_lines(db: None) -> None:
    assert import_register("Deputies", GOOD.encode()).ok
    before = people()

    result = import_register("Deputies", AGAIN.encode())
    assert not result.ok and result.imported == 0
    assert [error.line for error in result.errors] == [3, 4, 5]
    # What a person reads names the line too, like every other import error.
    assert [str(error).split(":")[0] for error in result.errors] == ["line 3", "line 4", "line 5"]
    assert "Kseniya Lindstrem (Semyonovsky) is already on this register" in str(result.errors[0])
    assert "already on this register" in str(result.errors[1])
    assert "this email is already on this register" in str(result.errors[2])
    # Not even the new person on line 2 was added.
    assert people() == before
    assert not RegisterEntry.objects.filter(full_name="Gleb Zorin").exists()

    # The same people may be on another register.
    other = import_register("Deputies 2029", GOOD.encode())
    assert other.ok and other.imported == 3
    assert people() == before


def test_a_register_needs_a_name(db: None) -> None:
    for name in ("", "   ", "x" * 201):
        result = import_register(name, GOOD.encode())
        assert not result.ok
        assert "needs a name" in str(result.errors[0])
    assert not Register.objects.exists()


def test_the_command_imports_a_file_and_says_how_many(tmp_path: Path, db: None) -> None:
    out = StringIO()
    call_command(
        "import-register", csv_file(tmp_path, GOOD), register="St Petersburg deputies", stdout=out
    )
    assert out.getvalue().strip() == "imported 3 people into register “St Petersburg deputies”"
    assert len(people("St Petersburg deputies")) == 3


def test_the_command_prints_every_bad_line_and_fails(tmp_path: Path, db: None) -> None:
    out, err = StringIO(), StringIO()
    path = csv_file(tmp_path, BAD)
    with pytest.raises(CommandError) as raised:
        call_command("import-register", path, register="X", stdout=out, stderr=err)
    assert raised.value.returncode == 1
    assert str(raised.value) == f"nothing imported: 3 problem(s) in {path}"
    lines = err.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["line 3", "line 5", "line 6"]
    assert out.getvalue() == ""
    assert not RegisterEntry.objects.exists()


def test_the_command_names_the_lines_of_people_already_on_the_register(
    tmp_path: Path, db: None
) -> None:
    call_command("import-register", csv_file(tmp_path, GOOD), register="X", stdout=StringIO())
    err = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import-register",
            csv_file(tmp_path, AGAIN),
            register="X",
            stdout=StringIO(),
            stderr=err,
        )
    assert [line.split(":")[0] for line in err.getvalue().splitlines()] == [
        "line 3",
        "line 4",
        "line 5",
    ]
    assert len(people("X")) == 3


def test_the_command_explains_a_missing_file(tmp_path: Path, db: None) -> None:
    with pytest.raises(CommandError, match=r"cannot read .*missing\.csv"):
        call_command("import-register", str(tmp_path / "missing.csv"), register="X")


def test_the_admin_page_imports_a_good_file(admin_client: Client) -> None:
    form = admin_client.get("/admin/registers/register/import/")
    assert form.status_code == 200
    assert 'enctype="multipart/form-data"' in form.content.decode()
    assert (
        "Import a CSV register" in admin_client.get("/admin/registers/register/").content.decode()
    )

    response = admin_client.post(
        "/admin/registers/register/import/",
        {
            "name": "Deputies",
            "file": SimpleUploadedFile("deputies.csv", GOOD.encode(), content_type="text/csv"),
        },
        follow=True,
    )
    assert response.redirect_chain[-1] == ("/admin/registers/register/", 302)
    assert "Imported 3 people into “Deputies”." in response.content.decode()
    assert len(people()) == 3


def test_the_admin_page_shows_the_errors_of_a_bad_file(admin_client: Client) -> None:
    response = admin_client.post(
        "/admin/registers/register/import/",
        {
            "name": "Deputies",
            "file": SimpleUploadedFile("deputies.csv", BAD.encode(), content_type="text/csv"),
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was imported." in page
    for line in (3, 5, 6):
        assert f"<li>line {line}:" in page
    assert "daria@@example" in page
    assert not Register.objects.exists() and not RegisterEntry.objects.exists()

    response = admin_client.post("/admin/registers/register/import/", {"name": "Deputies"})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_only_staff_reach_the_admin_import(client: Client, db: None) -> None:
    response = client.get("/admin/registers/register/import/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    organiser = User.objects.create_user("org", "org@example.org", "pw")
    client.force_login(organiser)
    response = client.post(
        "/admin/registers/register/import/",
        {
            "name": "Deputies",
            "file": SimpleUploadedFile("deputies.csv", GOOD.encode(), content_type="text/csv"),
        },
    )
    assert response.status_code == 302
    assert not RegisterEntry.objects.exists()


def test_official_emails_are_kept_with_a_keyed_hash(settings: Any, db: None) -> None:
    import_register("Deputies", GOOD.encode())
    entry = RegisterEntry.objects.get(full_name="Kseniya Lindstrem")
    address = "lindstrem@council.example.org"
    digest = entry.official_email_hash
    assert len(digest) == 64
    assert digest != hashlib.sha256(address.encode()).hexdigest()
    assert digest != hashlib.sha256(b"Lindstrem@Council.example.org").hexdigest()
    assert digest == keyed_hash("email", address)
    # A signer typing the address in any case is found by it.
    assert email_hash(" LINDSTREM@council.example.org ") == digest
    # Without the server's key the hash cannot be reproduced.
    settings.HASH_KEY = "some-other-key"
    assert keyed_hash("email", address) != digest


def test_the_command_speaks_json_for_scripts(db: None, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text(GOOD)
    out = StringIO()
    call_command("import-register", str(good), register="Json", json=True, stdout=out)
    result = json.loads(out.getvalue())
    assert result["ok"] and result["imported"] > 0 and result["errors"] == []
    bad = tmp_path / "bad.csv"
    bad.write_text("full_name,role,municipality,region\n,deputy,Kolpino,SPb\n")
    out = StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("import-register", str(bad), register="Json2", json=True, stdout=out)
    assert exited.value.code == 1
    result = json.loads(out.getvalue())
    assert not result["ok"] and result["errors"][0]["line"] == 2


def test_with_json_an_unreadable_file_is_reported_in_json(db: None, tmp_path: Path) -> None:
    out = StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command(
            "import-register", str(tmp_path / "missing.csv"), register="J", json=True, stdout=out
        )
    assert exited.value.code == 1
    result = json.loads(out.getvalue())
    assert result["ok"] is False and result["imported"] == 0
    assert "cannot read" in result["error"]
    assert not Register.objects.filter(name="J").exists()
