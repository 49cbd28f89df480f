# cassandra_frames — two commands matter: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST := $(BIN)/pytest
STAMP := $(VENV)/.installed
# async-cassandra needs Python >= 3.12: its test runs in a second, small environment
PY312 ?= $(shell for p in python3.12 $(HOME)/.pyenv/versions/3.12*/bin/python3.12; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && { echo "$$p"; break; }; done)
VENV312 := .venv-3.12
STAMP312 := $(VENV312)/.installed
# one local node for every step (the notebooks run from notebooks/, the launcher defaults to ./.cassandra)
export CASSANDRA_FRAMES_DIR ?= $(CURDIR)/.cassandra

.PHONY: demo test install lint typecheck unit cassandra integration async312 notebooks stop status clean

# ---------------------------------------------------------------- set-up
$(STAMP): pyproject.toml .ci/system-deps
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed: set PYTHON=python3.11")'
	@bash .ci/system-deps
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# ---------------------------------------------------------------- the two commands
demo: install
	$(BIN)/python -m cassandra_frames.demo

test: install lint typecheck unit cassandra integration async312 notebooks
	@echo "make test: all steps passed"

# ---------------------------------------------------------------- steps
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

unit: install
	$(PYTEST) tests/unit -q

cassandra: install
	@if [ -n "$$CASSANDRA_CONTACT_POINTS" ]; then echo "using CASSANDRA_CONTACT_POINTS=$$CASSANDRA_CONTACT_POINTS"; \
	else $(BIN)/cassandra-frames local start; fi

integration: cassandra
	$(PYTEST) tests/integration -q

$(STAMP312): pyproject.toml
	@if [ -z "$(PY312)" ]; then echo "Python 3.12 is needed for the async-cassandra test: set PY312=/path/to/python3.12"; exit 1; fi
	@test -x $(VENV312)/bin/python || $(PY312) -m venv $(VENV312)
	$(VENV312)/bin/python -m pip install -q --upgrade pip
	$(VENV312)/bin/python -m pip install -q -e '.[async-cassandra]' 'pytest>=8' 'pytest-timeout>=2.3'
	@touch $(STAMP312)

async312: cassandra $(STAMP312)
	$(VENV312)/bin/pytest tests/integration/test_async_cassandra.py -q -p no:cacheprovider

notebooks: install
	@if ls notebooks/*.ipynb >/dev/null 2>&1; then $(PYTEST) --nbval-lax notebooks -q; \
	else echo "no notebooks yet"; fi

stop:
	$(BIN)/cassandra-frames local stop

status:
	$(BIN)/cassandra-frames local status

clean: stop
	rm -rf $(VENV) $(VENV312) .cassandra .mypy_cache .ruff_cache .pytest_cache
