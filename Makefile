# Two commands do all set-up on a fresh machine with Python 3.11 and make:
#   make run    run the bot (no TELEGRAM_BOT_TOKEN: the console demo on SQLite with sample data)
#   make test   ruff, mypy, catalog checks and pytest, on SQLite then on PostgreSQL
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCALES := locales
# Translators edit locales/<code>/LC_MESSAGES/messages.po; the compiled .mo live in the package
# (bot/locale), where an installed wheel has them too (setup.py compiles them for a build).
COMPILED := bot/locale
PO     := $(wildcard $(LOCALES)/*/LC_MESSAGES/messages.po)
MO     := $(patsubst $(LOCALES)/%.po,$(COMPILED)/%.mo,$(PO))

# Settings from .env (see .env.example), if present.
ifneq (,$(wildcard .env))
include .env
export
endif
# The demo finds postcodes when the shared postcode-district data sits beside the clone.
SANCTUARY_OUTCODES ?= $(wildcard ../shared/data/uk_outcode_centroids.csv)
export SANCTUARY_OUTCODES

.PHONY: run test lint typecheck catalogs-check pytest pytest-postgresql test-instances bench bench-scale extract update compile clean buttons-doc

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(COMPILED)/%.mo: $(LOCALES)/%.po $(STAMP)
	@mkdir -p $(@D)
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@ >/dev/null

compile: $(MO)

run: $(STAMP) compile
	$(BIN)/sanctuary-bot run

test: $(STAMP) compile lint typecheck catalogs-check pytest pytest-postgresql

lint: $(STAMP)
	$(BIN)/ruff check bot handlers storage tests bench setup.py
	$(BIN)/ruff format --check bot handlers storage tests bench setup.py

typecheck: $(STAMP)
	$(BIN)/mypy

catalogs-check: $(STAMP)
	$(BIN)/python -m bot.catalogs check $(LOCALES)

# docs/buttons.md lists every button code, written from bot/callbacks.py.
buttons-doc: $(STAMP)
	$(BIN)/python -c "from bot import callbacks; print(callbacks.document(), end='')" > docs/buttons.md

pytest: $(STAMP) compile
	$(BIN)/python -m pytest -q

# The same tests again on PostgreSQL (tests/engines.py), but the wheel's: on the throwaway server
# .ci/postgresql starts (Debian's postgresql package), or at SANCTUARY_TEST_POSTGRESQL. Without
# a server one line says this half did not run; under CI that fails the run.
pytest-postgresql: $(STAMP) compile
	$(BIN)/python -m tests.engines -q -m "not wheel"

# Only the three `sanctuary-bot run` processes on one PostgreSQL, one killed half way through a
# call (tests/test_instances_postgresql.py, about two minutes; also part of pytest-postgresql).
test-instances: $(STAMP) compile
	$(BIN)/python -m tests.engines -q -m instances

bench: $(STAMP) compile
	$(BIN)/python -m bench

# The bot at national scale (1M people, 100k activities): the data set is built once per seed
# (a few minutes) and cached under data/bench/.
bench-scale: $(STAMP) compile
	$(BIN)/python -m bench scale

# Translators: extract new strings, merge them into every catalog, then translate and compile.
extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k N_ --no-location --sort-output \
	  --project=sanctuary-bot --msgid-bugs-address=translations@example.org \
	  -o $(LOCALES)/messages.pot bot handlers storage

update: extract
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i $(LOCALES)/messages.pot -d $(LOCALES) -D messages

clean:
	rm -rf $(VENV) $(COMPILED) build dist $(LOCALES)/*/LC_MESSAGES/*.mo
