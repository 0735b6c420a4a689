# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-postgres test-browser test-slow lint clean

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/undersigned migrate --verbosity 0
	$(BIN)/undersigned demo
	$(BIN)/undersigned serve --with-worker

test: $(STAMP)
	$(BIN)/python -m pytest -m "not browser and not slow" -n auto -q

test-postgres: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} $(BIN)/python -m pytest -m "not browser and not slow" -q

# axe-core, which the accessibility tests load into pages, from the npm registry.
node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@

test-browser: $(STAMP) node_modules/axe-core/axe.min.js
	$(BIN)/python -m pytest -m browser -q

# Long scenario tests (crash, load). pytest exits 5 when none is collected.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -m "slow and not browser" -q || [ $$? -eq 5 ]

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy src
	$(BIN)/bandit -q -c pyproject.toml -r src

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
