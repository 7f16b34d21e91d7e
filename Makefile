# Kassa: the two commands a newcomer needs are `make run` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export FLASK_APP := app

.PHONY: run test install i18n-extract i18n-update i18n-compile i18n-check lint bench clean

$(BIN)/activate: requirements.txt requirements-dev.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $(BIN)/activate

VENDOR := console/static/vendor

install: $(BIN)/activate $(VENDOR)/htmx.min.js

## The console's front-end assets, from the npm registry at build time (served by Kassa, no CDN).
$(VENDOR)/htmx.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js

## Start everything (web, worker, scheduler) on SQLite + embedded Redis, with demo data.
run: install
	$(BIN)/flask up

## Run the whole test suite: SQLite always, PostgreSQL too when reachable.
test: install
	$(BIN)/python -m tests.run

## Translations: extract strings, update every catalog, compile (checks they compile).
i18n-extract: | $(BIN)/activate
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k gettext -k ngettext:1,2 -k pgettext:1c,2 \
	  --add-comments=TRANSLATORS: --no-location --sort-output -o i18n/messages.pot .
i18n-update: i18n-extract
	$(BIN)/pybabel update -i i18n/messages.pot -d i18n/locale --no-fuzzy-matching --ignore-obsolete
	@echo "catalogs updated: fill the new msgstr entries, then run make test"
i18n-compile: | $(BIN)/activate
	$(BIN)/pybabel compile -d i18n/locale --statistics

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis node_modules $(VENDOR)
