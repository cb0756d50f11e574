# Two entry points: `make run` (the whole system on the embedded default) and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test system venv node lint typecheck pytest bench clean

run: system venv node
	$(BIN)/archive-analyzer run

test: system venv node lint typecheck pytest

system:
	@bash scripts/install-system.sh

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

node:
	@bash scripts/install-node.sh

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: venv
	$(BIN)/mypy

pytest: venv
	$(BIN)/pytest $(PYTEST_ARGS)

bench: venv
	@echo "see docs/benchmarks.md for the benchmark commands"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
