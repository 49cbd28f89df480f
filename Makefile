# cassandra_frames — two commands matter: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST := $(BIN)/pytest
STAMP := $(VENV)/.installed
# async-cassandra needs Python >= 3.12: its test runs in a second, small environment
PY312 ?= $(shell for p in python3.12 $${PYENV_ROOT:-$(HOME)/.pyenv}/versions/3.12*/bin/python3.12; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && { echo "$$p"; break; }; done)
VENV312 := .venv-3.12
STAMP312 := $(VENV312)/.installed
# cargo from rustup, when it is there, builds the compiled page decoder (rust/) at install time
export PATH := $(HOME)/.cargo/bin:$(PATH)
RUST_SRC := rust/Cargo.toml rust/Cargo.lock $(wildcard rust/src/*.rs)
# one local node for every step (the notebooks run from notebooks/, the launcher defaults to ./.cassandra)
export CASSANDRA_FRAMES_DIR ?= $(CURDIR)/.cassandra

.PHONY: demo test install lint typecheck unit cassandra integration bench bench-quick async312 notebooks docs stop status clean

# ---------------------------------------------------------------- set-up
# uv (from PyPI, into the venv) installs when it can — several times faster than pip —, pip otherwise.
# `make demo` installs only what the demo needs (the `demo` extra); `make test` everything (`dev`).
UV := $(BIN)/uv
UV_ENV := $(if $(PIP_CERT),SSL_CERT_FILE=$(PIP_CERT))
UV_FLAGS := $(if $(PIP_FIND_LINKS),--find-links $(PIP_FIND_LINKS))
DEMO_STAMP := $(VENV)/.installed-demo
# $(call pip_install,<python>,<requirements>)
define pip_install
	@if [ -z "$$CF_NO_UV" ] && { [ -x $(UV) ] || $(BIN)/python -m pip install -q uv >/dev/null 2>&1; }; then \
		echo "installing $(2) with uv"; $(UV_ENV) $(UV) pip install -q --python $(1) $(UV_FLAGS) $(2); \
	else echo "installing $(2) with pip"; $(1) -m pip install -q $(2); fi
endef

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed: set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)

$(DEMO_STAMP): pyproject.toml .ci/system-deps $(RUST_SRC) | $(BIN)/python
	@bash .ci/system-deps demo
	$(call pip_install,$(BIN)/python,-e '.[demo]')
	@touch $(DEMO_STAMP)

$(STAMP): pyproject.toml .ci/system-deps $(RUST_SRC) | $(BIN)/python
	@bash .ci/system-deps
	$(call pip_install,$(BIN)/python,-e '.[dev]')
	@touch $(STAMP) $(DEMO_STAMP)

install: $(STAMP)

# ---------------------------------------------------------------- the two commands
demo: $(DEMO_STAMP)
	$(BIN)/python -m cassandra_frames.demo

test: install lint typecheck unit cassandra integration bench-quick async312 notebooks docs
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

# benchmarks (benchmarks/run.py): figures, never timed assertions. `make bench`: every contender, 3 rounds,
# results in benchmarks/results/<date>.json and the tables of docs/performance.md (about an hour on 2 cores;
# BENCH_ARGS="--reps 1" for a shorter one). `make bench-quick`: 100,000 rows, one round, fails only when a
# contender moved a wrong number of rows or failed.
bench: cassandra
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

bench-quick: cassandra
	$(BIN)/python benchmarks/run.py --quick

$(STAMP312): pyproject.toml | $(STAMP)
	@if [ -z "$(PY312)" ]; then echo "Python 3.12 is needed for the async-cassandra test: set PY312=/path/to/python3.12"; exit 1; fi
	@test -x $(VENV312)/bin/python || $(PY312) -m venv $(VENV312)
	$(call pip_install,$(VENV312)/bin/python,-e '.[async-cassandra]' 'pytest>=8' 'pytest-timeout>=2.3')
	@touch $(STAMP312)

async312: cassandra $(STAMP312)
	$(VENV312)/bin/pytest tests/integration/test_async_cassandra.py -q -p no:cacheprovider

# every output of the four notebooks is compared; what varies (times, ids, rates) is sanitized
notebooks: cassandra
	$(PYTEST) --nbval notebooks --nbval-sanitize-with notebooks/sanitize.cfg -q -p no:cacheprovider

# the docs site, strict: a broken reference or a public name without a docstring fails it
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

stop:
	$(BIN)/cassandra-frames local stop

status:
	$(BIN)/cassandra-frames local status

clean: stop
	rm -rf $(VENV) $(VENV312) .cassandra .mypy_cache .ruff_cache .pytest_cache site
