# schoolwatch: two commands do all set-up on a fresh machine.
#   make demo   - set up, then run the demo (a made-up school, no accounts needed)
#   make test   - set up, then run the linters, the type checker and the tests
#
# Set-up creates .venv, installs the CPU build of PyTorch first (torch==2.13.0;
# installing it after other packages would pull several GB of CUDA packages),
# then this project, then the system packages the tests need (Chromium and
# the PostgreSQL server) if they are missing.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.schoolwatch-installed

.PHONY: setup system-deps demo test lint typecheck pytest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

system-deps:
	@bash scripts/system-deps.sh

setup: $(STAMP) system-deps

demo: setup
	$(BIN)/schoolwatch demo

lint: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest

test: lint typecheck pytest

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
