# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Translations: the .po files are committed, their compiled .mo files are made here.
PO := $(wildcard src/undersigned/locale/*/LC_MESSAGES/django.po)
MO := $(PO:.po=.mo)
INSTALL := $(STAMP) $(MO)

.PHONY: demo test test-postgres test-browser test-slow lint messages clean

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	touch $(STAMP)

# After the install, and again whenever a .po file changes (a pull, a new translation).
$(MO): %.mo: %.po | $(STAMP)
	@command -v msgfmt >/dev/null 2>&1 || { echo "GNU gettext's msgfmt is needed to compile the translations: apt-get install gettext"; exit 1; }
	$(BIN)/undersigned compilemessages --ignore=.venv --ignore=node_modules --verbosity 0
	@# compilemessages skips a .mo it thinks fresh; make must see it newer than its .po.
	touch $(MO)

demo: $(INSTALL)
	$(BIN)/undersigned migrate --verbosity 0
	$(BIN)/undersigned demo
	$(BIN)/undersigned serve --with-worker

test: $(INSTALL)
	$(BIN)/python -m pytest -m "not browser and not slow" -n auto -q

test-postgres: $(INSTALL)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} $(BIN)/python -m pytest -m "not browser and not slow" -q

# axe-core, which the accessibility tests load into pages, from the npm registry.
node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@

test-browser: $(INSTALL) node_modules/axe-core/axe.min.js
	$(BIN)/python -m pytest -m browser -q

# Long scenario tests (crash, load). pytest exits 5 when none is collected.
test-slow: $(INSTALL)
	$(BIN)/python -m pytest -m "slow and not browser" -q || [ $$? -eq 5 ]

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy src
	$(BIN)/bandit -q -c pyproject.toml -r src
	$(BIN)/lint-imports

# After changing user-facing text: refresh the catalogue, then translate what is new in it.
messages: $(STAMP)
	cd src/undersigned && UNDERSIGNED_DATA_DIR=$(CURDIR)/var ../../$(BIN)/undersigned makemessages -l ru --no-obsolete

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache $(MO)
