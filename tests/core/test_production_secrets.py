"""Production refuses placeholder and guessable secrets, and DEBUG, naming the variable only."""

import base64
import hashlib
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.test_hardening import production_env

# Fixed, not random: parameters must be the same in every xdist worker (make test).
GOOD_DATA_KEY = base64.b64encode(hashlib.sha256(b"a good data key").digest()).decode()


def start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "undersigned", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SECRET_KEY", "change-me"),
        ("SECRET_KEY", "changeme"),
        ("SECRET_KEY", "secret"),
        ("SECRET_KEY", "django-insecure-" + "k3y" * 12),
        ("SECRET_KEY", "Replace this with a long random string, please!"),
        ("SECRET_KEY", "q8Zr2LwX-vN5kT0yHb7dJg"),  # random-looking, but 22 characters
        ("SECRET_KEY", "ab" * 30),  # long, but two characters
        ("UNDERSIGNED_HASH_KEY", "change-me"),
        ("UNDERSIGNED_HASH_KEY", "my-example-hash-key-for-petitions-example-org"),
        ("UNDERSIGNED_DATA_KEYS", "change-me"),
        ("UNDERSIGNED_DATA_KEYS", base64.b64encode(bytes(32)).decode()),  # 32 zero bytes
        ("UNDERSIGNED_DATA_KEYS", f"{GOOD_DATA_KEY},change-me"),  # an old key left as it was
        ("READYZ_TOKEN", "change-me"),
        ("READYZ_TOKEN", "monitoring"),
    ],
)
def test_production_refuses_a_weak_secret_naming_it_without_showing_it(
    tmp_path: Path, name: str, value: str
) -> None:
    env = production_env(tmp_path)
    env[name] = value
    result = start(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith(f"django.core.exceptions.ImproperlyConfigured: {name} "), message
    assert "UNDERSIGNED_PRODUCTION=1" in message
    assert repr(value) not in result.stderr
    if len(value) >= 8:  # shorter ones ("secret") are words of the traceback itself
        assert value not in result.stderr
    if "," in value:
        assert value.split(",")[0] not in result.stderr  # not the good key beside it either
    assert not any(tmp_path.iterdir()), "production must never invent a secret instead"


@pytest.mark.parametrize("value", ["1", "true", "on"])
def test_production_refuses_debug(tmp_path: Path, value: str) -> None:
    env = production_env(tmp_path)
    env["DEBUG"] = value
    result = start(env)
    assert result.returncode != 0
    assert (
        "ImproperlyConfigured: DEBUG must be off (unset or 0) when UNDERSIGNED_PRODUCTION=1"
        in result.stderr
    )


def test_production_starts_with_random_secrets_and_a_monitoring_token(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    # Two sealing keys (a rotation under way) and base64's own alphabet.
    env["UNDERSIGNED_DATA_KEYS"] = f"{GOOD_DATA_KEY}, {base64.b64encode(os.urandom(32)).decode()}"
    env["READYZ_TOKEN"] = secrets.token_urlsafe(32)
    env["DEBUG"] = "0"
    result = start(env)
    assert result.returncode == 0, result.stderr


def test_development_still_accepts_anything(tmp_path: Path) -> None:
    """The demo and tests make their own keys; a developer may type a short one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "UNDERSIGNED_"))}
    env.update(
        SECRET_KEY="dev",
        UNDERSIGNED_HASH_KEY="dev",
        READYZ_TOKEN="dev",
        DEBUG="1",
        UNDERSIGNED_DATA_DIR=str(tmp_path),
    )
    result = start(env)
    assert result.returncode == 0, result.stderr
