# Two commands matter: `make run` (serve with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-embedded test-scaled lint bench clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/hearth migrate
	$(BIN)/hearth seed-demo
	$(BIN)/hearth serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test-embedded: $(STAMP)
	HEARTH_TEST_MODE=embedded $(BIN)/pytest -q

test-scaled: $(STAMP)
	HEARTH_TEST_MODE=scaled $(BIN)/pytest -q

# The same suite twice: SQLite + in-memory backends, then PostgreSQL + Redis + Celery.
test: lint test-embedded test-scaled

bench: $(STAMP)
	$(BIN)/python bench/thread_page.py
	$(BIN)/python bench/ws_fanout.py
	$(BIN)/python bench/events_throughput.py
	$(BIN)/python bench/leaderboard_latency.py

clean:
	rm -rf $(VENV) var
