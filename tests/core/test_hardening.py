"""Security headers, the production checklist, and no secrets in the repository."""

import base64
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from undersigned.core import custody
from undersigned.petitions.models import Petition

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]
SIGNER_KEY = re.compile(r"PRIVATE\+KEY\+[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]{40,}=*")


def test_pages_carry_a_strict_content_security_policy(client: Client, petition: Petition) -> None:
    for path in ("/", f"/p/{petition.slug}/", "/accounts/login/", "/log/check-receipt/"):
        response = client.get(path)
        policy = response["Content-Security-Policy"]
        assert "default-src 'self'" in policy
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


def production_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DEBUG"))}
    env.update(
        UNDERSIGNED_PRODUCTION="1",
        SECRET_KEY=secrets.token_urlsafe(50),
        UNDERSIGNED_HASH_KEY=secrets.token_urlsafe(32),
        UNDERSIGNED_DATA_KEYS=base64.b64encode(os.urandom(32)).decode(),
        ALLOWED_HOSTS="petitions.example.org",
        SITE_URL="https://petitions.example.org",
        UNDERSIGNED_DATA_DIR=str(tmp_path),
        UNDERSIGNED_CUSTODY_RECIPIENT=custody.new_identity()[1],
    )
    return env


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "undersigned", "check", "--deploy", "--fail-level", "WARNING"],
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_without_a_custody_key(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    del env["UNDERSIGNED_CUSTODY_RECIPIENT"]
    result = subprocess.run(
        [sys.executable, "-m", "undersigned", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "undersigned.W001" in result.stdout + result.stderr


def test_a_custody_key_that_is_no_public_key_stops_the_start(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    env["UNDERSIGNED_CUSTODY_RECIPIENT"] = custody.new_identity()[0]  # the private half
    result = subprocess.run(
        [sys.executable, "-m", "undersigned", "check"], env=env, capture_output=True, text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "UNDERSIGNED_CUSTODY_RECIPIENT" in result.stderr
    assert "AGE-SECRET-KEY" not in result.stderr, "a key is never printed"


@pytest.mark.parametrize("missing", ["SECRET_KEY", "UNDERSIGNED_HASH_KEY", "UNDERSIGNED_DATA_KEYS"])
def test_production_refuses_to_start_without_its_secrets(tmp_path: Path, missing: str) -> None:
    env = production_env(tmp_path)
    del env[missing]
    result = subprocess.run(
        [sys.executable, "-m", "undersigned", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "must be set" in result.stderr
    assert not any(tmp_path.iterdir()), "production must never invent a secret"


def test_no_secret_is_committed() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in tracked:
        assert not name.startswith("var/"), name
        assert not name.endswith((".key", ".pem", "secret_key", "hash_key", "data_key")), name
        path = REPO / name
        if path.suffix in {".py", ".md", ".txt", ".toml", ".cfg", ".json", ".conf", ".service"}:
            for key in SIGNER_KEY.findall(path.read_text(errors="replace")):
                # Go's published test vector for sumdb/note is public on purpose.
                assert "+PeterNeumann+" in key, f"{name} holds a log signing key"
