# ecr-sweeper: `make demo` runs the real workflow on the local emulator; `make test` runs every check.
# Both create .venv and install what they need (pinned in requirements-dev.txt).

SHELL := /bin/bash
# The Lambda runtime is python3.13: use it where the machine has it (pyenv: select a 3.13).
PY13 := $(shell pyenv versions --bare 2>/dev/null | grep -E '^3\.13' | tail -1)
ifneq ($(PY13),)
export PYENV_VERSION := $(PY13)
endif
PYTHON ?= $(shell for p in python3.13 python3.12 python3; do \
	PYENV_VERSION=$(PY13) $$p -c 'import sys; assert sys.version_info >= (3, 12)' >/dev/null 2>&1 \
	&& { echo $$p; break; }; done)
export SAM_CLI_TELEMETRY := 0
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= config/ecrm.yaml
INVENTORY ?= examples/blog-account.json

.PHONY: help install demo test unit workflow lint validate sam-validate sam-build bench build clean

help:
	@echo "make demo      run the sweep on the bundled example account (dry run, then delete)"
	@echo "make test      lint, unit, property and emulator tests, template checks"
	@echo "make validate  check a config file (CONFIG=path, default config/ecrm.yaml)"
	@echo "make bench     run the benchmarks and write docs/benchmarks.md"
	@echo "make build     sam build (needs python3.13 and PyPI)"

$(STAMP): requirements-dev.txt functions/requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	@echo "== Dry run (the default): what would be deleted =="
	$(BIN)/python -m sweeper_emulator run --inventory $(INVENTORY) --config $(CONFIG)
	@echo
	@echo "== Deleting run: {\"dry_run\": false} =="
	$(BIN)/python -m sweeper_emulator run --inventory $(INVENTORY) --config $(CONFIG) \
		--input '{"dry_run": false}'

validate: $(STAMP)
	$(BIN)/python -m ecr_sweeper.cli validate $(CONFIG)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

sam-validate: $(STAMP)
	$(BIN)/sam validate --lint --template template.yaml

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

workflow: $(STAMP)
	$(BIN)/python -m pytest tests/workflow -q

test: $(STAMP) lint sam-validate sam-build
	$(BIN)/python -m pytest tests -q

# sam build must work from a clean tree: the venv's python3.13 is on PATH for it.
sam-build: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/sam build --template template.yaml \
		--build-dir .aws-sam/build-check --no-cached

# Benchmarks print figures and write docs/benchmarks.md; they are not part of `make test`.
bench: $(STAMP)
	$(BIN)/python -m benchmarks

build: $(STAMP)
	$(BIN)/sam build --template template.yaml

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .ruff_cache .hypothesis
