"""The README's path, as a new user takes it: migrate, demo, serve, and log in.

Everything runs as the commands `make demo` runs, in fresh processes on a
fresh data directory, with nothing set in the environment but that directory:
no key, no database URL, no Redis. The test runner builds its own databases
(and their cache tables), so a step that only `migrate` should do, and does
not, hides from every other test; here it cannot.
"""

from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.scenarios.harness import Site, Visitor

pytestmark = pytest.mark.slow


class ReadmeSite(Site):
    """A site configured as a new user's shell is: only the data directory is named."""

    def env(self) -> dict[str, str]:
        env = super().env()
        for name in (
            "SECRET_KEY",
            "UNDERSIGNED_HASH_KEY",
            "UNDERSIGNED_DATA_KEYS",
            "LEDGER_STATE_FILE",
            "DATABASE_URL",
            "EMAIL_HOST",
            "EMAIL_PORT",
            "RATE_LIMIT_CLIENT",
            "RATE_LIMIT_DOMAIN",
            "RATE_LIMIT_PETITION",
        ):
            env.pop(name, None)
        return env


def test_every_demo_login_gets_past_the_password(tmp_path: Path) -> None:
    port = free_port()
    site = ReadmeSite(root=tmp_path, site_url=f"http://127.0.0.1:{port}")
    site.data_dir.mkdir(parents=True)
    site.manage("migrate", "--verbosity", "0")
    logins = [line.split() for line in site.manage("demo", "--quiet").splitlines() if line]
    assert [name for name, _ in logins] == ["moderator", "organiser", "admin"]
    site.serve(port)
    try:
        for name, password in logins:
            visitor = Visitor(f"http://127.0.0.1:{port}")
            answer = visitor.submit(
                "/accounts/login/", "/accounts/login/", {"username": name, "password": password}
            )
            assert "Temporarily unavailable" not in answer.body, (name, site.log_tail())
            # A wrong password shows the form again (200); a right one moves on.
            assert answer.status == 302, (name, answer.status, answer.body[:500], site.log_tail())
            assert not answer.headers["location"].startswith("/accounts/login/"), name
            # The page after the password: the second-factor step (every demo
            # login runs petitions or reviews them) or the page itself.
            shown = visitor.request("GET", answer.headers["location"])
            while shown.status == 302:
                shown = visitor.request("GET", shown.headers["location"])
            assert shown.status == 200, (name, shown.status, site.log_tail())
            assert "Temporarily unavailable" not in shown.body, name
            assert "authenticator app" in shown.body or "My petitions" in shown.body, name
    finally:
        site.stop_all()
