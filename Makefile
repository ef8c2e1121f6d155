# The quickstart is two commands: `make run` and `make test`. Each creates .venv and installs
# what it needs; the stamp file re-installs only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint messages clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/coalition-bot run --or-sandbox

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The suite twice: on SQLite files, then on databases of its own on the PostgreSQL server at
# TEST_POSTGRES_URL (default postgres@127.0.0.1:5432). Where no server answers, the second half
# says so in one line and passes, unless REQUIRE_POSTGRES=1 (as .ci/run sets).
test: lint
	$(BIN)/pytest
	TEST_DATABASE=postgresql $(BIN)/pytest

# After changing texts in the code: refresh the template and merge it into each catalog.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k t -k tn:1,2 -k plain -k plain_n:1,2 -k N_ --no-location \
		--omit-header -o bot/locale/messages.pot bot handlers services
	$(BIN)/pybabel update -i bot/locale/messages.pot -d bot/locale -D messages --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
