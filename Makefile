# Two commands: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint bench clean docs docs-quick calibration calibration-quick reference mutation

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files record which install a venv has, so `make` re-installs when pyproject changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[report]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/nswn run baseline --out nswn-results
	$(BIN)/nswn report nswn-results

test: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

# NumPy reference vs compiled kernels (20k, 100k; BENCH_FLAGS=--million adds 1 M), profile by
# mechanism, JIT compile/start-up; ensemble runs/s serial and with 2 workers; engine and scale.
bench: $(VENV)/.installed
	$(BIN)/python benchmarks/kernels.py --two-threads $(BENCH_FLAGS)
	$(BIN)/python benchmarks/ensemble.py --runs 40 --firms 5000 --runners serial processes --workers 2
	$(BIN)/python benchmarks/engine.py
	$(BIN)/python benchmarks/scale.py --sizes 10k,100k

clean:
	rm -rf $(VENV) nswn-results .pytest_cache .mypy_cache .ruff_cache

# Regenerate docs/claims.md (the full claims run, sensitivity screen and calibration; about
# half an hour on 2 cores; interrupted runs resume). `make docs-quick` for an indicative version.
docs: calibration
	$(BIN)/python -m nswn.experiments.claims_doc docs/claims.md

docs-quick: calibration-quick
	$(BIN)/python -m nswn.experiments.claims_doc docs/claims.md --quick

# Calibrate the judged assumptions against history (nswn calibrate --history, ABC-SMC) and
# regenerate docs/calibration.md, its plot, the shipped posterior and docs/scenarios.md. Full:
# 3000 simulations at the whole real firm population (about an hour on 2 cores; resumes in
# nswn-calibration/). Quick: 300 simulations at 2 000 agents, a few minutes; it does not replace
# the shipped posterior.
calibration: $(VENV)/.installed
	nice $(BIN)/python -m nswn.experiments.calibration_doc docs/calibration.md

calibration-quick: $(VENV)/.installed
	nice $(BIN)/python -m nswn.experiments.calibration_doc docs/calibration.md --quick --no-ship

# Regenerate the frozen reference baseline (tests/reference/*.csv) after a deliberate model
# change; commit the CSV diff with the change (it is the review of the new numbers).
reference: $(VENV)/.installed
	$(BIN)/python tests/reference/regenerate.py

# Mutation score of the test suite (slow: about an hour on 2 cores; not part of make test).
mutation: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/mutation.py
