# Onefold: `make demo` and `make test` set everything up themselves on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DEMO_PERSONS ?= 10000
DEMO_SEED ?= 42

export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DBT_PROFILES_DIR := $(CURDIR)
export ONEFOLD_DUCKDB_PATH ?= $(CURDIR)/warehouse/onefold.duckdb
# The demo project (demo/) installs the package at the repository root.
DEMO_DIR := $(CURDIR)/demo
# The integration tests' host project (integration_tests/) installs it too.
INTEGRATION_DIR := $(CURDIR)/integration_tests

.PHONY: help install deps browser demo test extended lint unit e2e clean

help:  ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e ".[dev,spark]"
	touch $@

install: $(VENV)/.installed  ## Create .venv with the pinned stack

demo: install  ## Generate demo data into DuckDB, build it, print a summary, train and score
	rm -f $(ONEFOLD_DUCKDB_PATH) $(ONEFOLD_DUCKDB_PATH).demo-erasure-salt
	@# A labelled demo erasure salt beside the warehouse (git-ignored), which dbt and
	@# `onefold erase` use when DBT_ENV_SECRET_ONEFOLD_ERASURE_SALT is not set.
	$(BIN)/python -m onefold.erasure.demo_salt $(ONEFOLD_DUCKDB_PATH)
	$(BIN)/onefold generate --target duckdb --persons $(DEMO_PERSONS) --seed $(DEMO_SEED)
	$(BIN)/dbt deps --project-dir $(DEMO_DIR) --quiet
	$(BIN)/dbt build --project-dir $(DEMO_DIR) --target duckdb --quiet
	cd $(DEMO_DIR) && ../$(BIN)/onefold summary --target duckdb
	cd $(DEMO_DIR) && ../$(BIN)/onefold evaluate --target duckdb
	@# Predictive traits: fit on the snapshots, then score every customer in SQL.
	cd $(DEMO_DIR) && ../$(BIN)/onefold train --target duckdb
	$(BIN)/dbt build --project-dir $(DEMO_DIR) --target duckdb --quiet --select customer_product_suggestions+

lint: install deps  ## sqlfluff (dbt templater), ruff, mypy (python/tests/test_lint.py)
	$(BIN)/pytest -m lint

unit: install  ## pytest without the end-to-end builds and lint
	$(BIN)/pytest -m "not e2e and not lint" -n 2

e2e: install deps  ## generate + dbt build (demo/, integration_tests/) on DuckDB and a throwaway PostgreSQL
	$(BIN)/pytest -m e2e -n 2 --dist loadscope --no-loadscope-reorder

# One pytest session for lint, unit and end-to-end tests: xdist keeps both cores busy
# while the builds wait on dbt start-up and PostgreSQL, and pytest's summary ends it.
# A worker takes one module at a time in collection order, which python/tests/conftest.py
# sets to longest first (xdist's own reorder would put the long few-test modules last).
test: install deps browser  ## Everything CI checks: lint, unit, end-to-end and browser tests
	$(BIN)/pytest -n 2 --dist loadscope --no-loadscope-reorder --durations=25

extended: install deps  ## The checks left out of `make test` for CI's time budget
	$(BIN)/pytest --extended -m extended -n 2 --dist loadscope --no-loadscope-reorder

# The console's browser tests drive Debian's Chromium through Playwright (Playwright's own
# browser download does not work here). Installed as root with apt-get when missing;
# elsewhere the browser tests skip and say why.
CHROMIUM ?= /usr/bin/chromium
browser:  ## Debian's Chromium for the console's browser tests (apt-get, when root)
	@if [ -x "$(CHROMIUM)" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	else \
		echo "Chromium is missing and this is not root: the browser tests will skip" \
			"(sudo apt-get install chromium)"; \
	fi

deps: install  ## Install the package into the demo and integration projects (local: ..)
	$(BIN)/dbt deps --project-dir $(DEMO_DIR) --quiet
	$(BIN)/dbt deps --project-dir $(INTEGRATION_DIR) --quiet

clean:  ## Remove build output and the demo warehouse (keeps .venv)
	rm -rf target logs warehouse .pytest_cache .mypy_cache .ruff_cache \
		demo/target demo/logs demo/dbt_packages \
		integration_tests/target integration_tests/logs integration_tests/dbt_packages
