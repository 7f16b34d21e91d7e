# Kassa: the two commands a newcomer needs are `make run` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := app

.PHONY: run test install install-dev i18n-extract i18n-update i18n-compile i18n-check i18n-sample lint bench clean

# Runtime packages only (what `make run` and production need); stamped so a
# second `make run` installs nothing.
$(VENV)/.kassa-runtime: requirements.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $@

VENDOR := console/static/vendor

# Tests, benchmarks and linters on top (pytest, hypothesis, locust, mypy, ruff, playwright).
$(VENV)/.kassa-dev: requirements-dev.txt $(VENV)/.kassa-runtime
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.kassa-runtime $(VENDOR)/htmx.min.js
install-dev: install $(VENV)/.kassa-dev

## The console's front-end assets, from the npm registry at build time (served by Kassa, no CDN).
$(VENDOR)/htmx.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js

## Start everything (web, worker, scheduler) on SQLite + embedded Redis, with demo data.
## `make run PORT=8080` serves on another port.
run: install
	$(BIN)/flask up --port $(PORT)

## Run the whole test suite: SQLite always, PostgreSQL too when reachable.
test: install-dev
	$(BIN)/python -m tests.run

## Translations: extract strings, update every catalog, compile (checks they compile).
i18n-extract: | $(VENV)/.kassa-dev
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k gettext -k ngettext:1,2 -k pgettext:1c,2 \
	  --add-comments=TRANSLATORS: --no-location --sort-output -o i18n/messages.pot .
i18n-update: i18n-extract
	$(BIN)/pybabel update -i i18n/messages.pot -d i18n/locale --no-fuzzy-matching --ignore-obsolete
	@echo "catalogs updated: fill the new msgstr entries, then run make test"
i18n-compile: | $(VENV)/.kassa-runtime
	$(BIN)/pybabel compile -d i18n/locale --statistics
## Every catalog against its glossary (i18n/glossary/<lang>.toml); a sample for translators to review.
i18n-check: | $(VENV)/.kassa-runtime
	$(BIN)/flask i18n check
i18n-sample: | $(VENV)/.kassa-runtime
	$(BIN)/flask i18n sample --out i18n-sample.txt

## ruff, mypy strict on the whole project, and the layer contracts with no import cycle (make test runs the last two too).
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python tools/lint_imports.py

bench: install-dev
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis node_modules $(VENDOR)
