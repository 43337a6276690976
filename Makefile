# Palimpsest: `make run` to use it, `make test` to check it, `make bench` to measure it. Both install what is missing
# (apt packages, .venv) and start Postgres and Redis when they are stopped.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast check lint setup system venv services migrate clean bench

run: setup services migrate
	scripts/run.sh

test: setup services lint
	$(BIN)/pytest

# The unit tests alone (no database, Redis or served process): under a minute.
test-fast: venv
	$(BIN)/pytest -m unit -q

# Every benchmark of bench/ against a scratch database and Redis database 13 (about 11 min
# on 2 cores); tables in bench/results/latest.md, plots beside it.
bench: setup services
	$(BIN)/python -m bench

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

setup: system venv

system:
	scripts/setup.sh system

venv:
	scripts/setup.sh venv

services:
	scripts/setup.sh services

migrate: venv services
	$(BIN)/palimpsest migrate

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
