# Two commands matter: `make run` (serve with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Scalar and Swagger UI for /schema (server/apidocs.py), pinned in package-lock.json.
NODE_STAMP := node_modules/.installed-stamp

.PHONY: run test test-embedded test-scaled lint bench clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Errors only: some Scalar packages ask for Node 22 in "engines", which matters to nobody here
# (only their prebuilt browser bundle is used).
$(NODE_STAMP): package.json package-lock.json .npmrc
	npm ci --loglevel=error
	touch $(NODE_STAMP)

run: $(STAMP) $(NODE_STAMP)
	$(BIN)/hearth migrate
	$(BIN)/hearth seed-demo
	@if [ -n "$$HEARTH_DEMO_PASSWORD" ]; then $(BIN)/hearth demo-logins; fi
	$(BIN)/hearth serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test-embedded: $(STAMP) $(NODE_STAMP)
	HEARTH_TEST_MODE=embedded $(BIN)/pytest -q

test-scaled: $(STAMP) $(NODE_STAMP)
	HEARTH_TEST_MODE=scaled $(BIN)/pytest -q

# The same suite twice: SQLite + in-memory backends, then PostgreSQL + Redis + Celery.
test: lint test-embedded test-scaled

bench: $(STAMP)
	$(BIN)/python bench/thread_page.py
	$(BIN)/python bench/signed_in.py
	$(BIN)/python bench/ws_fanout.py
	$(BIN)/python bench/events_throughput.py
	$(BIN)/python bench/leaderboard_latency.py
	$(BIN)/python bench/leaderboard_heal.py
	$(BIN)/python bench/member_lookup.py
	$(BIN)/python bench/recovery.py

clean:
	rm -rf $(VENV) var node_modules
