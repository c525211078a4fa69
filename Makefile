# ecr-sweeper: `make demo` runs the real workflow on the local emulator; `make test` runs every check.
# Both create .venv and install what they need (pinned in requirements-dev.txt); `make test`
# also installs the ASL validators into node_modules (npm ci, pinned in package-lock.json).

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
NPM_STAMP := node_modules/.installed
CONFIG ?= config/ecrm.yaml
INVENTORY ?= examples/blog-account.json

.PHONY: help install demo test unit workflow lint validate schema sam-validate sam-build bench build clean \
	artifact \
	node-modules

help:
	@echo "make demo      run the sweep on the bundled example account (dry run, then delete)"
	@echo "make test      lint, unit, property and emulator tests, template and ASL checks"
	@echo "make validate  check a config (CONFIG=path, s3://BUCKET/KEY or ssm:/NAME; default config/ecrm.yaml)"
	@echo "make schema    write schema/ecrm.schema.json (the JSON Schema of ecrm.yaml) from the config models"
	@echo "make bench     run the benchmarks and write docs/benchmarks.md"
	@echo "make build     sam build (needs python3.13 and PyPI)"
	@echo "make artifact  sam build for this machine (what make demo and the tests run)"
	@echo "make checkov   checkov on both templates; make audit: pip-audit on the locked dependencies"

$(STAMP): requirements-dev.txt functions/requirements.txt pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# The ASL validators that tests/unit/test_asl_validators.py runs (tools/validate_asl.js):
# exact versions in package.json, everything else locked in package-lock.json.
$(NPM_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $(NPM_STAMP)

node-modules: $(NPM_STAMP)

install: $(STAMP) $(NPM_STAMP)

# The demo runs what `sam build` ships: each function from its artifact (built for this
# machine, into $(ARTIFACT)), in a process of its own (the emulator's artifact mode).
ARTIFACT := .aws-sam/build-host

artifact: $(STAMP)
	$(BIN)/python -m sweeper_emulator build --build-dir $(ARTIFACT)

demo: artifact
	@echo "== Dry run (the default): what would be deleted =="
	$(BIN)/python -m sweeper_emulator run --inventory $(INVENTORY) --config $(CONFIG) \
		--from-build $(ARTIFACT)
	@echo
	@echo "== Deleting run: {\"dry_run\": false} =="
	$(BIN)/python -m sweeper_emulator run --inventory $(INVENTORY) --config $(CONFIG) \
		--from-build $(ARTIFACT) --input '{"dry_run": false}'

# ecr-sweeper exits 1 on an invalid config; make then exits 2 (README, "Try your config").
validate: $(STAMP)
	$(BIN)/python -m ecr_sweeper.cli validate $(CONFIG)

# The JSON Schema editors use for ecrm.yaml, from the config models (commit the result).
schema: $(STAMP)
	$(BIN)/python tools/ecrm_schema.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

sam-validate: $(STAMP)
	$(BIN)/sam validate --lint --template template.yaml
	$(BIN)/cfn-lint -- scanner-role.yaml

unit: $(STAMP) $(NPM_STAMP)
	$(BIN)/python -m pytest tests/unit -q

workflow: $(STAMP)
	$(BIN)/python -m pytest tests/workflow -q

# Two workers (pytest-xdist): the emulator runs are CPU-bound and independent.
test: $(STAMP) $(NPM_STAMP) lint sam-validate sam-build checkov audit
	$(BIN)/python -m pytest tests -q -n 2

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
	rm -rf $(VENV) .venv-tools .aws-sam .pytest_cache .ruff_cache .hypothesis node_modules

# ---------------------------------------------------------------- security checks
# See docs/security.md. checkov and pip-audit run from their own virtualenv: checkov pins
# boto3 and other packages at versions that conflict with aws-sam-cli and the functions.
TOOLS_VENV := .venv-tools
TOOLS_BIN := $(TOOLS_VENV)/bin
TOOLS_STAMP := $(TOOLS_VENV)/.installed
AUDIT_REPORT := $(TOOLS_VENV)/pip-audit.json
AUDIT_LOG := $(TOOLS_VENV)/pip-audit.log
# Vulnerabilities accepted after review: one "--ignore-vuln ID" each, with its reason in
# docs/security.md. None today.
AUDIT_IGNORE :=

.PHONY: security-tools checkov audit constraints

$(TOOLS_STAMP): requirements-tools.txt constraints-tools.txt
	test -x $(TOOLS_BIN)/python || $(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_BIN)/python -m pip install --quiet -r requirements-tools.txt -c constraints-tools.txt
	touch $(TOOLS_STAMP)

security-tools: $(TOOLS_STAMP)

# Any finding fails, except those skipped on their resource in template.yaml, each with
# its reason (Metadata: checkov: skip).
checkov: $(TOOLS_STAMP)
	$(TOOLS_BIN)/checkov --file template.yaml --file scanner-role.yaml --framework cloudformation \
		--skip-download --compact --quiet

# pip-audit on the locked dependencies (constraints.txt: what the Lambdas ship and what
# the tests use). A known vulnerability fails. A package the vulnerability service cannot
# look up, or a service that cannot be reached, is reported as NOT AUDITED and does not
# fail, so that `make test` does not depend on it; AUDIT_STRICT=1 makes it fail.
audit: $(TOOLS_STAMP)
	@rm -f $(AUDIT_REPORT)
	@$(TOOLS_BIN)/pip-audit --disable-pip --no-deps --progress-spinner off \
		--requirement constraints.txt --format json --output $(AUDIT_REPORT) \
		$(AUDIT_IGNORE) 2>$(AUDIT_LOG); \
	$(TOOLS_BIN)/python -c "$$AUDIT_SUMMARY" $(AUDIT_REPORT) $(AUDIT_LOG) "$(AUDIT_STRICT)"

define AUDIT_SUMMARY
import json, pathlib, sys
report, log, strict = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), bool(sys.argv[3])
errors = log.read_text() if log.exists() else ""
if not report.exists():
    unreachable = any(m in errors for m in ("ConnectionError", "ServiceError", "Timeout"))
    print(errors[-2000:], file=sys.stderr)
    if not unreachable:
        sys.exit("pip-audit failed (see above)")
    print("pip-audit: the vulnerability service cannot be reached: NOT AUDITED")
    sys.exit(1 if strict else 0)
deps = json.loads(report.read_text())["dependencies"]
vulnerable = [d for d in deps if d.get("vulns")]
skipped = [d for d in deps if "skip_reason" in d]
for d in vulnerable:
    for v in d["vulns"]:
        fixed = ", ".join(v.get("fix_versions") or []) or "no fixed release"
        print("VULNERABLE", d["name"], d["version"], v["id"], "(fixed in", fixed + ")")
audited = len(deps) - len(skipped)
print("pip-audit:", audited, "of", len(deps), "locked packages audited,", len(vulnerable), "vulnerable")
if skipped:
    print("pip-audit:", len(skipped), "NOT AUDITED:", skipped[0]["skip_reason"], "...")
    print("pip-audit: (the vulnerability service does not answer for them from here; AUDIT_STRICT=1 fails on this)")
sys.exit(1 if vulnerable or (strict and skipped) else 0)
endef
export AUDIT_SUMMARY

# Regenerates constraints.txt and constraints-tools.txt from the direct pins
# (requirements-dev.txt, requirements-tools.txt), each in a fresh virtualenv.
LOCK_VENV := $(TOOLS_VENV)/lock
constraints:
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet -r requirements-dev.txt
	{ grep '^#' constraints.txt; $(LOCK_VENV)/bin/python -m pip freeze --all --exclude-editable \
		| grep -vi '^pip==' | LC_ALL=C sort -f; } > $(TOOLS_VENV)/constraints.txt
	mv $(TOOLS_VENV)/constraints.txt constraints.txt
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet -r requirements-tools.txt
	{ grep '^#' constraints-tools.txt; $(LOCK_VENV)/bin/python -m pip freeze --all \
		--exclude-editable | grep -vi '^pip==' | LC_ALL=C sort -f; } > $(TOOLS_VENV)/constraints.txt
	mv $(TOOLS_VENV)/constraints.txt constraints-tools.txt
	rm -rf $(LOCK_VENV)
