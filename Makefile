# Two commands: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint bench clean docs docs-quick reference mutation

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

# NumPy reference vs compiled kernels at the default resolution, 20k and 100k agents
# (BENCH_FLAGS=--million adds 1 M; BENCH_FLAGS="--before /work/main/src" runs another checkout
# side by side), ms per simulated year by mechanism, JIT compile/start-up; the bandwidth
# floor (engine); ensemble runs/s serial and with 2 workers at the default resolution and at
# 3 000 agents; the Mesa ratio at 100k when mesa is installed (the `bench` extra).
bench: $(VENV)/.installed
	$(BIN)/python benchmarks/kernels.py --default --sizes 20000 100000 --two-threads $(BENCH_FLAGS)
	$(BIN)/python benchmarks/ensemble.py --runs 16 --runners serial processes --workers 2
	$(BIN)/python benchmarks/ensemble.py --runs 40 --firms 3000 --runners serial processes --workers 2
	$(BIN)/python benchmarks/engine.py
	$(BIN)/python benchmarks/scale.py --sizes 10k,100k
	$(BIN)/python -c "import mesa" 2>/dev/null \
		&& $(BIN)/python benchmarks/docking.py --seeds 2 --firms 100000 --years 2024-2027 --no-lockstep \
		|| echo "Mesa ratio skipped: pip install -e '.[bench]' for benchmarks/docking.py"

clean:
	rm -rf $(VENV) nswn-results .pytest_cache .mypy_cache .ruff_cache

# Regenerate docs/claims.md (the full claims run, sensitivity screen and calibration; about
# half an hour on 2 cores; interrupted runs resume). `make docs-quick` for an indicative version.
docs: $(VENV)/.installed
	$(BIN)/python -m nswn.experiments.claims_doc docs/claims.md

docs-quick: $(VENV)/.installed
	$(BIN)/python -m nswn.experiments.claims_doc docs/claims.md --quick

# Regenerate the frozen reference baseline (tests/reference/*.csv) after a deliberate model
# change; commit the CSV diff with the change (it is the review of the new numbers).
reference: $(VENV)/.installed
	$(BIN)/python tests/reference/regenerate.py

# Mutation score of the test suite (slow: about an hour on 2 cores; not part of make test).
mutation: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/mutation.py
