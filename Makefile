# Pathways: `make run` opens the app, `make test` runs the whole suite. Both set everything up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench soak clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Headless Chromium (Debian's package) renders the letter and the other HTML outputs in the tests;
# installed when missing and apt is there (a machine without it skips only those tests).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	command -v chromium >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1 || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium could not be installed: the browser tests will be skipped"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/pathways

# The checks `make test` runs first: style, one-way layers (import-linter), types, the rule files.
lint: $(STAMP)
	$(BIN)/ruff check engine tui rules cases tests pathways_cli.py
	$(BIN)/lint-imports
	$(BIN)/mypy engine tui pathways_cli.py
	$(BIN)/pathways rules lint $(if $(wildcard ../shared/seeds),--seeds ../shared/seeds)

# pytest-xdist runs the suite on every core (`-n auto`): the Pilot tests are CPU-bound.
test: lint
	$(BIN)/python -m pytest -n auto

bench: $(STAMP)
	$(BIN)/pathways bench

# Fault, load and attack measurements at full size (issue #6); rewrites the figures in SECURITY.md.
soak: $(STAMP)
	$(BIN)/python -m tests.soak --full --write-security

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache .import_linter_cache .hypothesis
