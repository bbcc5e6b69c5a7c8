# Entry points of the project (CONTRACT.md section 1). Every target installs and starts
# what it needs: on a fresh machine `make demo` and `make test` are all it takes.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DBT := $(BIN)/dbt --no-use-colors
DBT_DIRS := --project-dir dbt_project --profiles-dir dbt_project
PYTEST_ARGS ?=
# Test workers: one per core (pytest-xdist; tests/conftest.py says what they share).
PYTEST_WORKERS ?= auto
BENCH_ARGS ?=
EXTRACT_BENCH_ARGS ?=
# pip's notes about optional local package folders are noise here.
PIP_FILTER := grep -v "^WARNING: Location 'file:" || true

export DAGSTER_HOME ?= $(CURDIR)

.PHONY: help install services manifest demo test lint format dev docs bench down clean

help:
	@echo "make demo      set up, generate a week of events, run the pipeline, print a summary"
	@echo "make test      set up, then run the whole test suite against real PostgreSQL and Redis"
	@echo "make lint      ruff and sqlfluff"
	@echo "make dev       Dagster webserver and daemon on http://127.0.0.1:3000"
	@echo "make docs      dbt docs on http://127.0.0.1:8080"
	@echo "make bench     benchmarks: refresh at scale (BENCH_ARGS='--days 30 --scale 20', about"
	@echo "               10 M events), extract (EXTRACT_BENCH_ARGS='--events 1000000 --consumers 2')"
	@echo "make down      stop the local servers the project started"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing the project into $(VENV) (about 1-2 minutes the first time)"
	@$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]' 2>&1 | $(PIP_FILTER)
	@touch $(STAMP)

install: $(STAMP)

services: install
	$(BIN)/analytics services up

manifest: install
	$(DBT) parse --quiet $(DBT_DIRS)

demo: services manifest
	$(BIN)/analytics generate --days 7 --seed 42
	$(BIN)/analytics refresh
	$(BIN)/analytics summary

test: services manifest
	$(BIN)/pytest -n $(PYTEST_WORKERS) --durations 15 $(PYTEST_ARGS)

lint: services manifest
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/analytics exec -- sqlfluff lint dbt_project

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

dev: services manifest
	$(BIN)/analytics dev

docs: services manifest
	$(BIN)/analytics docs

bench: services manifest
	$(BIN)/python bench/extract.py $(EXTRACT_BENCH_ARGS)
	$(BIN)/python bench/refresh.py $(BENCH_ARGS)

down: install
	$(BIN)/analytics services down

clean: down
	rm -rf .local dbt_project/target dbt_project/logs
