# Two commands set everything up on a fresh machine:
#   make run    create .venv, install, index seeds/ (only what changed), then answer an example question
#   make test   install the test tools too and run the whole suite (what CI runs)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of torch lies on these machines; installing it first keeps pip from pulling CUDA.
TORCH := torch==2.13.0
EXAMPLE_QUESTION := Who will represent the U.S. at the NATO meeting?

.PHONY: run test lint clean

run: $(VENV)/.installed
	$(BIN)/assistant ingest seeds/
	$(BIN)/assistant ask "$(EXAMPLE_QUESTION)"

test: $(VENV)/.installed-test
	$(BIN)/ruff check assistant tests
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check assistant tests
	$(BIN)/ruff format --check assistant tests

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) *.egg-info
