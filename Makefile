# The quickstart is two commands: `make run` and `make test`. Each creates .venv and installs
# exactly what requirements.lock names, each file checked against its hash; the stamp file
# re-installs only when the lock or pyproject.toml changes. `make lock` refreshes the lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint lock messages clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/coalition-bot run --or-sandbox

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# The suite twice, both halves at once (much of it waits on sockets and subprocesses, so two
# cores serve both): on SQLite files, and on databases of its own on the PostgreSQL server at
# TEST_POSTGRES_URL (default postgres@127.0.0.1:5432), whose report is printed after the
# first's. Where no server answers, the PostgreSQL half says so in one line and fails, unless
# SKIP_POSTGRES=1 (it then passes, having run nothing). Either half failing, or finding no
# tests, fails.
test: lint
	@mkdir -p test-artifacts
	TEST_DATABASE=postgresql $(BIN)/pytest --basetemp=test-artifacts/tmp-postgresql \
		> test-artifacts/pytest-postgresql.log 2>&1 & postgresql=$$!; \
	$(BIN)/pytest --basetemp=test-artifacts/tmp-sqlite; sqlite=$$?; \
	wait $$postgresql; postgresql=$$?; \
	echo "--- the PostgreSQL half (test-artifacts/pytest-postgresql.log) ---"; \
	cat test-artifacts/pytest-postgresql.log; \
	test $$sqlite -eq 0 && test $$postgresql -eq 0

# After changing the dependencies in pyproject.toml, or to take newer releases within them: the
# newest versions they allow, for every platform and Python from 3.11, with their hashes.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --universal \
		--python-version 3.11 --upgrade --quiet -o requirements.lock

# After changing texts in the code: refresh the template and merge it into each catalog.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k t -k tn:1,2 -k plain -k plain_n:1,2 -k N_ --no-location \
		--omit-header -o foundation/locale/messages.pot bot foundation handlers models rendering services stand
	$(BIN)/pybabel update -i foundation/locale/messages.pot -d foundation/locale -D messages -l en --no-fuzzy-matching
	for language in fr uk ru; do \
		$(BIN)/pybabel update -i foundation/locale/messages.pot -d foundation/locale -D messages -l $$language \
			--no-fuzzy-matching --ignore-obsolete -w 100; \
	done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
