# TrialsNest. `make demo` runs the app, `make test` runs every check; `make help` lists targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= $(shell command -v python3.12 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# mypy loads the settings; with DEBUG they need no secret (and no database: importing them
# connects to nothing).
LINT_ENV := DEBUG=true

.PHONY: help demo test lint typecheck pytest browser axe bench lock clean compose-test

BENCH_LEADS ?= 1000000

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# The versions CI tested: requirements/dev.txt (with hashes), made from pyproject.toml's ranges
# by `make lock`; the production image installs requirements/base.txt.
$(BIN)/.installed: requirements/dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "TrialsNest needs Python 3.12 or newer (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

demo: $(BIN)/.installed ## Run the app on http://127.0.0.1:8000/ with a worker and beat (embedded PostgreSQL without DATABASE_URL)
	$(BIN)/python -m trialsnest.ops.demo

test: $(BIN)/.installed browser axe lint typecheck pytest ## Lint, type-check and run the whole test suite

lint: $(BIN)/.installed ## ruff (lint and format check) and the import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(BIN)/.installed ## mypy (strict for our code)
	$(LINT_ENV) $(BIN)/mypy .

# Test processes side by side (pytest-xdist; PYTEST_WORKERS=0 runs in this one process), each with
# its own test database and Redis database; tests go to whichever process is free.
PYTEST_WORKERS ?= 2

pytest: $(BIN)/.installed ## The test suite only (against DATABASE_URL, else the embedded PostgreSQL)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal --durations=30 $(PYTEST_ARGS)  # the slowest thirty, to keep the suite short

bench: $(BIN)/.installed ## Fresh database of BENCH_LEADS leads (default 1,000,000), every scenario, results appended to benchmarks/results.jsonl
	$(BIN)/python -m trialsnest.bench.run --leads $(BENCH_LEADS)

# The production stack for real (tests/compose/harness.py): local stand-ins for the public images
# (no registry is reachable here), the project's image from the Dockerfile, docker-compose.yml
# brought up with podman and exercised. Needs root, podman, runc and debootstrap.
compose-test: $(BIN)/.installed ## Build the images, bring up docker-compose.yml with podman and exercise the live stack
	@command -v podman >/dev/null && command -v runc >/dev/null && command -v debootstrap >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq podman runc debootstrap >/dev/null; \
	  else echo "make compose-test needs podman, runc and debootstrap, as root" >&2; exit 1; fi; }
	$(BIN)/python -m tests.compose.harness

lock: $(BIN)/.installed ## Pin the versions of pyproject.toml's ranges into requirements/*.txt
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.12 --generate-hashes \
	  --quiet -o requirements/base.txt
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra embedded --universal \
	  --python-version 3.12 --generate-hashes --quiet -o requirements/dev.txt

browser: ## Make sure Debian's chromium is there for the browser tests
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "The browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

# axe-core for the accessibility tests (tests/browser/axe.py injects it into the pages): from the
# npm registry, into .cache/axe; the tests install it the same way when it is missing.
AXE := .cache/axe/node_modules/axe-core/axe.min.js
axe: $(AXE) ## Install axe-core (npm) for the accessibility tests
$(AXE):
	@command -v npm >/dev/null || { echo "The accessibility tests need npm (Debian: apt-get install npm)" >&2; exit 1; }
	npm install --prefix .cache/axe --no-audit --no-fund --silent axe-core@4

clean: ## Remove the virtualenv and the embedded data (.data/)
	-$(BIN)/python -c 'from trialsnest.lib.embedded import embedded_stop; embedded_stop()' 2>/dev/null
	rm -rf $(VENV) .data .cache
