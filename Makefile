# alch: every target that needs the environment depends on `install`, so on a fresh
# clone `make demo` or `make test` is the only command needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-slow lint format bench clean record-cassettes schemas

install: $(STAMP)

# Re-runs only when the lock or the project metadata changed.
$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=23.2"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# The main job on the embedded simulator: a real plan for the demo account.
demo: install
	$(BIN)/alch plan

test: install
	$(BIN)/python -m pytest --cov=alchemiser_cli --cov-report=term --cov-fail-under=90 -q

# Tests marked slow: minutes in real time (300 positions under Alpaca's rate limit) and
# the long property runs; excluded from `make test`.
test-slow: install
	$(BIN)/python -m pytest -m slow -q -s

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m bench

# Regenerate schemas/ from the code (a test fails when they drift apart).
schemas: install
	for name in plan check execute status targets backtest replay; do \
		$(BIN)/alch schema $$name > schemas/$$name.schema.json || exit 1; \
	done

# Re-record cassettes/ through alpaca-py: against the fake Alpaca server by default, or
# against Alpaca paper trading with ALCH_RECORD_REAL=1 and paper keys in APCA_API_*.
record-cassettes: install
	$(BIN)/python -m tests.record_cassettes

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
