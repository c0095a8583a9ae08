# Pathways: `make run` opens the app, `make test` runs the whole suite. Both set everything up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench soak clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium) \
		|| echo "chromium could not be installed: the tests that render HTML in a browser will be skipped"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/pathways

test: $(STAMP)
	$(BIN)/ruff check engine tui rules cases tests
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check engine tui rules cases tests
	$(BIN)/pathways rules lint

bench: $(STAMP)
	$(BIN)/pathways bench

# Fault, load and attack measurements at full size (issue #6); rewrites the figures in SECURITY.md.
soak: $(STAMP)
	$(BIN)/python -m tests.soak --full --write-security

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis
