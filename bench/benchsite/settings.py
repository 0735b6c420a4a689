"""The product's settings unchanged, with a URLconf that adds the reference views.

Nothing security-related is relaxed here: the figures must be those of the
configuration an operator runs.
"""

import os

from undersigned.settings import *  # noqa: F403

ROOT_URLCONF = "benchsite.urls"

# `http_load.py --no-cache` measures the same code with the public count cache
# off (the "before" of docs/performance.md).
if os.environ.get("BENCH_COUNT_CACHE_SECONDS"):
    COUNT_CACHE_SECONDS = float(os.environ["BENCH_COUNT_CACHE_SECONDS"])

# `BENCH_DJANGO_SQLITE=1`: Django's own SQLite backend instead of the product's
# (one writer per process, core/sqlite/base.py), for the before/after.
_engine = DATABASES["default"]["ENGINE"]  # noqa: F405
if os.environ.get("BENCH_DJANGO_SQLITE") and _engine == "undersigned.core.sqlite":
    DATABASES["default"]["ENGINE"] = "django.db.backends.sqlite3"  # noqa: F405
