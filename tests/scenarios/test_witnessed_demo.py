"""`make demo`'s witness: the demo's checkpoints are cosigned within seconds.

The commands `make demo` runs (migrate, demo, serve --with-worker), in fresh
processes: the demo prepares a witness on loopback, serve starts it beside
the worker, and a visitor sees its cosignature on /log/checkpoint and its
name on /log/; `undersigned verify --policy` with the demo's policy passes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port
from tests.scenarios.harness import Site, get_json, wait_for, wait_until_up
from tests.tlog.spec_verifier import SpecCosigner

pytestmark = pytest.mark.slow


def text(url: str) -> str:
    status, body = get_json(url, token="")
    return body if status == 200 and isinstance(body, str) else ""


def test_the_demo_witness_cosigns_the_demo_log(make_site: Any, tmp_path: Path) -> None:
    port, witness_port = free_port(), free_port()
    site: Site = make_site(
        "sqlite",
        "demo",
        site_url=f"http://127.0.0.1:{port}",
        extra={"UNDERSIGNED_DEMO_WITNESS_LISTEN": f"127.0.0.1:{witness_port}"},
    )
    site.data_dir.mkdir(parents=True)
    site.manage("migrate", "--verbosity", "0")
    out = site.manage("demo")
    assert f"one witness on http://127.0.0.1:{witness_port}/" in out
    line = (site.data_dir / "demo-witnesses").read_text().strip().splitlines()[-1]
    name, vkey, url = line.split(" ")
    assert (name, url) == ("demo", f"http://127.0.0.1:{witness_port}/")

    serving = site._spawn("serve", "serve", "--bind", f"127.0.0.1:{port}", "--with-worker")
    wait_until_up(port, serving)
    base = f"http://127.0.0.1:{port}/"
    witness = SpecCosigner(vkey)

    def cosigned() -> bool:
        checkpoint = text(base + "log/checkpoint")
        return bool(checkpoint) and bool(witness.cosignatures(checkpoint))

    wait_for(cosigned, 30, "the demo's checkpoint cosigned by its witness", site)

    policy = tmp_path / "demo.policy"
    policy.write_text(text(base + "log/policy"))
    assert f"witness demo {vkey} {url}\n" in policy.read_text()
    assert policy.read_text().endswith("quorum witnesses\n")
    verified = subprocess.run(
        [
            sys.executable,
            "-m",
            "undersigned",
            "verify",
            base,
            "--policy",
            str(policy),
            "--state",
            str(tmp_path / "state.json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "cosigned by demo; meets the policy's quorum 'witnesses'" in verified.stdout

    page = text(base + "log/")
    assert "demo" in page and "/log/policy" in page

    status, ready = get_json(base + "readyz")
    assert status == 200, ready
    assert ready["checks"]["witnesses"]["witnesses"]["demo"]["cosigned"] >= 1
