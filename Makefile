# alch: every target that needs the environment depends on `install`, so on a fresh
# clone `make demo` or `make test` is the only command needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install uv-bootstrap demo test test-stress test-newest test-slow lint format bench clean record-cassettes schemas

install: $(STAMP)

# uv installs the lock: a bootstrap step puts the pinned uv (requirements-bootstrap.lock, with
# its hashes) into $(VENV)/uv through the system pip, then `uv pip install --require-hashes`
# installs requirements.lock into $(VENV). Where uv cannot be had (no pip beside $(PYTHON), no
# network for it, no uv wheel for the platform, or ALCH_INSTALL_WITH_PIP=1) the same lock goes
# through plain pip, as before. Re-runs only when a lock or the project metadata changed.
UV         := $(VENV)/uv/bin/uv
UV_VERSION := $(shell sed -n 's/^uv==\([^ ]*\).*/\1/p' requirements-bootstrap.lock)
PIP        := $(BIN)/python -m pip --quiet --disable-pip-version-check

$(STAMP): requirements.lock requirements-bootstrap.lock pyproject.toml
	$(PYTHON) -m venv --without-pip $(VENV)
	@if [ -z "$(ALCH_INSTALL_WITH_PIP)" ] && $(MAKE) --no-print-directory uv-bootstrap; then \
		echo "installing requirements.lock with uv $(UV_VERSION)"; \
		set -ex; \
		$(UV) pip install --quiet --python $(BIN)/python --require-hashes -r requirements.lock; \
		$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .; \
	else \
		echo "uv is unavailable: installing requirements.lock with pip"; \
		set -ex; \
		$(BIN)/python -m ensurepip --upgrade --default-pip >/dev/null; \
		$(PIP) install --upgrade "pip>=23.2"; \
		$(PIP) install --require-hashes -r requirements.lock; \
		$(PIP) install --no-deps -e .; \
	fi
	touch $(STAMP)

# The pinned uv in $(VENV)/uv (kept while its version matches the pin); fails without harm.
uv-bootstrap:
	@[ "$$($(UV) --version 2>/dev/null)" = "uv $(UV_VERSION)" ] || { \
		rm -rf $(VENV)/uv && \
		PIP_ROOT_USER_ACTION=ignore $(PYTHON) -m pip install -qq --disable-pip-version-check \
			--require-hashes --target $(VENV)/uv -r requirements-bootstrap.lock; }

# The main job on the embedded simulator: a real plan for the demo account.
demo: install
	$(BIN)/alch plan

test: install
	$(BIN)/python -m pytest --cov=alchemiser_cli --cov-report=term --cov-fail-under=90 -q

# The suite twice at once, five times over (10 runs, each with its own basetemp, no
# coverage): a test that depends on speed, scheduling luck or a free port fails here.
test-stress: install
	$(BIN)/python -m tests.stress --rounds 5 --parallel 2

# The suite (no coverage) against the newest alpaca-py on the package index, everything
# else from the lock (upgraded only where that release needs it), in its own .venv-newest:
# an alpaca-py upgrade is a measured decision. Needs uv (`make install` brings it).
NEWEST := .venv-newest
# The libraries whose API alch calls directly (alpaca-py's public pieces, its own websocket
# and HTTP clients), upgraded together to their newest releases.
NEWEST_PKGS := alpaca-py websockets requests urllib3
space := $(subst ,, )
test-newest: install
	@[ -x $(UV) ] || { echo "test-newest needs uv: run make install without ALCH_INSTALL_WITH_PIP"; exit 2; }
	$(PYTHON) -m venv --without-pip $(NEWEST)
	$(UV) pip install --quiet --python $(NEWEST)/bin/python --require-hashes -r requirements.lock
	$(UV) pip install --python $(NEWEST)/bin/python $(foreach p,$(NEWEST_PKGS),--upgrade-package $(p)) $(NEWEST_PKGS)
	$(UV) pip install --quiet --python $(NEWEST)/bin/python --no-deps -e .
	@$(NEWEST)/bin/python -c 'from importlib.metadata import version; print(*(f"{p} {version(p)}" for p in "$(NEWEST_PKGS)".split()), "(the lock pins: $(shell grep -E "^($(subst $(space),|,$(NEWEST_PKGS)))==" requirements.lock | sed "s/ .*//" | tr "\n" " "))")'
	$(NEWEST)/bin/python -m pytest -q -p no:cacheprovider

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
	rm -rf $(VENV) $(NEWEST) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
