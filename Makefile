# Foureyes: every target sets up what it needs (a .venv with the project and its dev tools).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export SAM_CLI_TELEMETRY := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install lint test unit integration e2e local demo soak build deploy validate browsers bench clean catalogs axe

$(STAMP): pyproject.toml layers/deps/requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy layers/foureyes/python/foureyes foureyes_local foureyes_cli foureyes_eval functions
	$(BIN)/cfn-lint template.yaml
	$(BIN)/sam validate --lint
	@# What CloudFormation really deploys: packaged, through the SAM transform, then linted (loops show only here).
	$(BIN)/python -m foureyes_local.sam --out .build/template.cfn.json template.yaml
	$(BIN)/cfn-lint .build/template.cfn.json

test: lint axe browsers
	$(BIN)/python -m pytest -q

unit: install
	$(BIN)/python -m pytest -q tests/unit

integration: install
	$(BIN)/python -m pytest -q tests/integration

e2e: install axe browsers
	$(BIN)/python -m pytest -q tests/e2e

# axe-core for the browser tests' accessibility checks: the pinned release from the npm registry, its sha512
# checked, into .cache/ (no npm needed). The e2e fixtures fetch it too when it is missing.
axe: install
	$(BIN)/python -m tests.e2e.harness

# The Dutch and English catalogs of pages and e-mails: extract the messages (babel.cfg), merge them into each .po,
# compile the .mo files the layer ships. Translate the new Dutch msgids in the .po, then run this again.
CATALOGS := layers/foureyes/python/foureyes/web/locale
catalogs: install
	@mkdir -p .build
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --project=foureyes \
		-o .build/messages.pot layers/foureyes/python/foureyes
	for lang in nl en; do \
		if [ -f $(CATALOGS)/$$lang/LC_MESSAGES/messages.po ]; then \
			$(BIN)/pybabel update --no-fuzzy-matching -i .build/messages.pot -d $(CATALOGS) -l $$lang; \
		else $(BIN)/pybabel init -i .build/messages.pot -d $(CATALOGS) -l $$lang; fi; done
	$(BIN)/pybabel compile -d $(CATALOGS) --statistics

# The whole system on this machine: moto as AWS, the functions as warm local processes.
local: install
	$(BIN)/foureyes local serve $(LOCAL_ARGS)

# A scripted end-to-end story against a fresh local cloud; ends with DEMO SUMMARY {json}.
demo: install
	$(BIN)/foureyes demo

# The fault-injecting lifecycle state machine for SOAK_STEPS steps (default 10,000): one line SOAK steps=N ...
soak: install
	$(BIN)/python -m tests.soak.run

bench: install
	$(BIN)/python tests/bench/bench_reconcile.py

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
# Debian's Chromium for the browser tests (a fresh machine has none): as root, or through sudo when there is one.
browsers:
	@command -v chromium >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

build: install
	$(BIN)/sam build

deploy: build
	$(BIN)/sam deploy

invoke-%: build
	$(BIN)/sam local invoke $* -e events/$*.json

clean:
	rm -rf .aws-sam .build .local .mypy_cache .ruff_cache .pytest_cache
