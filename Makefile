# Two commands set everything up on a fresh machine:
#   make run    create .venv, install, index seeds/ (only what changed), answer an example question,
#               then serve the chat on http://127.0.0.1:7860/
#   make test   install the test tools too and run the whole suite (what CI runs)
#   make check  while working: lint, then the quick tests (no servers, browser or LLM)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of torch lies on these machines; installing it first keeps pip from pulling CUDA.
TORCH := torch==2.13.0
PORT ?= 7860
# The LLM tests serve a small model with llama-cpp-python, compiled at install. A portable build: a
# native one uses every instruction the CPU reports, and on a virtual machine that reports AMX tiles
# it does not enable, it crashes on the first token. Not cached, so a cached native wheel is not reused.
LLAMA_CPP := 'llama-cpp-python[server]>=0.3'
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
EXAMPLE_QUESTION := Who will represent the U.S. at the NATO meeting?
# The browser tests drive Debian's Chromium (Playwright cannot download browsers here); the replica
# tests start Debian's PostgreSQL server, and `assistant cluster` puts Debian's nginx in front.
CHROMIUM := /usr/bin/chromium
POSTGRES := /usr/lib/postgresql
NGINX := /usr/sbin/nginx
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# pip's own notices (a newer pip exists, running as root) are not the project's: keep them out
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_ROOT_USER_ACTION := ignore

.PHONY: run test check lint clean

run: $(VENV)/.installed
	$(BIN)/assistant ingest seeds/
	$(BIN)/assistant ask "$(EXAMPLE_QUESTION)"
	$(BIN)/assistant serve --host 127.0.0.1 --port $(PORT)

test: $(VENV)/.installed-test $(CHROMIUM) $(POSTGRES) $(NGINX)
	$(BIN)/ruff check assistant tests
	$(BIN)/python -m pytest

check: $(VENV)/.installed-test
	$(BIN)/ruff check assistant tests
	$(BIN)/ruff format --check assistant tests
	$(BIN)/python -m pytest -q -m "not slow"

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
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install --quiet --no-cache-dir $(LLAMA_CPP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

$(POSTGRES):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql

$(NGINX):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nginx-light

clean:
	rm -rf $(VENV) *.egg-info
