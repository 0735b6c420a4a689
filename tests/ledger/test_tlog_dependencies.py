"""The pure log package runs on the standard library and `cryptography`, as its docstrings say.

The import-linter contract (.importlinter) forbids Django and the rest of
undersigned; this checks the other half of the promise an auditor relies on:
no third-party package but `cryptography` is loaded either.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

# Only what importing tlog adds counts: neither the interpreter's start-up
# (site, the editable install's path hook) nor what cryptography's Ed25519 loads
# for itself (its Rust bindings, cffi) is the package's doing.
PROBE = """
import json, pkgutil, sys
import cryptography.exceptions
import cryptography.hazmat.primitives.asymmetric.ed25519
before = set(sys.modules)
import undersigned.tlog
for info in pkgutil.walk_packages(undersigned.tlog.__path__, "undersigned.tlog."):
    __import__(info.name)
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_tlog_loads_nothing_but_the_standard_library_and_cryptography() -> None:
    env = {k: val for k, val in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert "undersigned.tlog.verify.cli" in loaded  # the walk did reach the verifier
    foreign = [
        name
        for name in loaded
        if name.split(".")[0] not in sys.stdlib_module_names
        and name.split(".")[0] != "cryptography"
        and name != "undersigned"
        and not name.startswith("undersigned.tlog")
    ]
    assert foreign == []
