# Two commands matter: `make run` (serve with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The web app's toolchain (Vite, TypeScript, ESLint, Vitest) and Scalar and Swagger UI for
# /schema (server/apidocs.py), pinned in package-lock.json.
NODE_STAMP := node_modules/.installed-stamp
# The built web app (frontend/dist), rebuilt when its sources change.
FRONTEND_STAMP := frontend/dist/.vite/manifest.json
FRONTEND_SOURCES := $(shell find frontend/src -type f) frontend/index.html \
	frontend/vite.config.ts frontend/tsconfig.json

.PHONY: run test test-embedded test-scaled lint lint-python lint-frontend frontend api-types bench clean

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

$(FRONTEND_STAMP): $(NODE_STAMP) $(FRONTEND_SOURCES)
	npm run --silent build -- --logLevel warn

frontend: $(FRONTEND_STAMP)

# Regenerates frontend/src/api/schema.d.ts from the OpenAPI document after an API change
# (tests/unit/test_api_types.py fails while it is stale).
api-types: $(STAMP) $(NODE_STAMP)
	$(BIN)/hearth openapi var/openapi.json
	npm run --silent api-types

run: $(STAMP) $(FRONTEND_STAMP)
	$(BIN)/hearth migrate
	$(BIN)/hearth seed-demo
	@if [ -n "$$HEARTH_DEMO_PASSWORD" ]; then $(BIN)/hearth demo-logins; fi
	$(BIN)/hearth serve

# The two linters at once (each is mostly one process); each one's output stays in one piece.
lint: $(STAMP) $(NODE_STAMP)
	@$(MAKE) --no-print-directory -j2 --output-sync=target lint-python lint-frontend

lint-python: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# The web app: ESLint, the TypeScript type check, and its unit tests (Vitest).
lint-frontend: $(NODE_STAMP)
	npm run --silent lint
	npm run --silent typecheck
	npm run --silent unit -- --reporter=dot

test-embedded: $(STAMP) $(FRONTEND_STAMP)
	HEARTH_TEST_MODE=embedded $(BIN)/pytest -q

test-scaled: $(STAMP) $(FRONTEND_STAMP)
	HEARTH_TEST_MODE=scaled $(BIN)/pytest -q

# The same suite twice, both at once: SQLite + in-memory backends, and PostgreSQL + Redis +
# Celery (tests/both_modes.sh: why the halves cannot collide, where their logs go).
test: lint $(STAMP) $(FRONTEND_STAMP)
	tests/both_modes.sh

bench: $(STAMP)
	$(BIN)/python bench/thread_page.py
	$(BIN)/python bench/signed_in.py
	$(BIN)/python bench/ws_fanout.py
	$(BIN)/python bench/events_throughput.py
	$(BIN)/python bench/leaderboard_latency.py
	$(BIN)/python bench/leaderboard_heal.py
	$(BIN)/python bench/member_lookup.py
	$(BIN)/python bench/recovery.py
	$(BIN)/python bench/page_interactive.py
	$(BIN)/python bench/review_queue.py
	$(BIN)/python bench/flag_to_hidden.py
	$(BIN)/python bench/inbound.py

clean:
	rm -rf $(VENV) var node_modules frontend/dist
