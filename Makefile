# Two commands on a fresh machine:  `make run` (Kefu on SQLite) and `make test` (everything CI runs).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test check lint types imports pytest services browser worker clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip 2>/dev/null
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev]" 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -c "import kefu, fastapi, playwright"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/kefu run

worker: $(STAMP)
	$(BIN)/kefu worker

test: check

check: lint types imports pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests

types: $(STAMP)
	$(BIN)/mypy

# The layer contracts in pyproject.toml ([tool.importlinter]): run from the repository root,
# so the editable install's src/kefu is the tree analysed.
imports: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP) services browser
	$(BIN)/pytest

services:
	bash scripts/services.sh

browser:
	bash scripts/browser.sh

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .grimp_cache
