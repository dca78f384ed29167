# Two entry points: `make run` (pipeline on the default config) and `make test` (test suite).
# EVOPROXY_MIRROR=DIR makes the pipeline read the benchmark files from a local mirror instead of downloading them.
# `make test-workflow` runs the whole workflow on the synthetic data of .test/ (snakemake --directory .test).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= all
SNAKEMAKE_ARGS ?=
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: run paper test test-slow test-all test-workflow lint bench clean-results

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The versions tested here, pinned in the conda env of the rules, constrain the venv too (reproducible installs).
ENVS := workflow/envs/evoproxy.yaml workflow/envs/snakemake.yaml
$(VENV)/constraints.txt: $(ENVS) | $(BIN)/python
	sed -nE 's/^ +- ([A-Za-z0-9_.-]+==[^ ]+)$$/\1/p' $(ENVS) | sort -u > $@

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

# The whole workflow on the shipped synthetic data (.test/config/config.yaml, .test/data); outputs in .test/results.
# The data paths of the .test config are used, whatever EVOPROXY_MIRROR / EVOPROXY_DATA_FILE say.
test-workflow: $(VENV)/.installed
	env -u EVOPROXY_MIRROR -u EVOPROXY_DATA_FILE $(BIN)/snakemake --cores $(CORES) --directory .test $(SNAKEMAKE_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks .test
	$(BIN)/snakemake --lint
	$(BIN)/snakemake --lint --directory .test

clean-results:
	rm -rf results/* .snakemake .test/results .test/resources .test/.snakemake && touch results/.gitkeep
