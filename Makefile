# Two entry points: `make run` (pipeline on the default config) and `make test` (test suite).
# EVOPROXY_MIRROR=DIR makes the pipeline read the benchmark files from a local mirror instead of downloading them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= all
SNAKEMAKE_ARGS ?=
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: run paper test test-slow test-all lint bench clean-results

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The versions tested here, pinned in the conda env of the rules, constrain the venv too (reproducible installs).
$(VENV)/constraints.txt: envs/evoproxy.yaml envs/snakemake.yaml | $(BIN)/python
	sed -nE 's/^ +- ([A-Za-z0-9_.-]+==[^ ]+)$$/\1/p' envs/evoproxy.yaml envs/snakemake.yaml | sort -u > $@

# torch is pinned and installed first: a bare torch requirement would pull a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml $(VENV)/constraints.txt
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -c $(VENV)/constraints.txt -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install -q -c $(VENV)/constraints.txt -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/snakemake --cores $(CORES) $(SNAKEMAKE_ARGS)

paper: $(VENV)/.installed
	$(BIN)/snakemake paper --cores $(CORES) --configfile config/paper.yaml $(SNAKEMAKE_ARGS)

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -m "not slow" -q

test-slow: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -m slow -q

test-all: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/snakemake --lint

clean-results:
	rm -rf results/* .snakemake && touch results/.gitkeep
