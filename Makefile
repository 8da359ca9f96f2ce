# Two commands: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint bench bench-quick bench-mesa clean docs docs-quick calibration calibration-quick restamp reference mutation history-doc priorities

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

# Issue 14's benchmark tables in one run (10.5 min measured at load 5-6 on the 2-core box with the
# Mesa docking at 2 seeds, 14 s; at 8 seeds with the lock-step check it takes 83 s at load ~4): NumPy
# reference vs compiled kernels (one thread and two; ratio, bit-identical yes/no) at the default
# resolution, 20k, 100k and 1 M agents (above the real population a scaled synthetic economy),
# CPU ms per simulated year by mechanism and instrument, the time per year against the
# bandwidth and compute floors with peak memory, first-call JIT compile and cached start-up;
# ensemble runs/s serial and with 2 workers at the default resolution and at 3 000 agents; the
# Mesa ratio at 100k (docking; needs mesa, the `bench` extra: a lock-step check on shared draws,
# then MESA_SEEDS seeds compared statistically; one agent per synthetic firm in both).
# BENCH_FLAGS="--before /work/main/src" adds another checkout side by side; BENCH_FLAGS="--repeats 2"
# the fastest of two. `make bench-quick` (about 3-4 min, estimated from the pieces): the same
# tables at the default resolution and 20k, ensembles at 3 000 agents, the Mesa ratio at 20k. benchmarks/engine.py and scale.py (peak memory and
# throughput by size) stay available but are not part of these targets.
bench: $(VENV)/.installed
	$(BIN)/python benchmarks/kernels.py --default --sizes 20000 100000 --million --two-threads --floors $(BENCH_FLAGS)
	$(BIN)/python benchmarks/ensemble.py --runs 16 --runners serial processes --workers 2
	$(BIN)/python benchmarks/ensemble.py --runs 40 --firms 3000 --runners serial processes --workers 2
	$(MAKE) --no-print-directory bench-mesa MESA_FIRMS=100000

bench-quick: $(VENV)/.installed
	$(BIN)/python benchmarks/kernels.py --default --sizes 20000 --floors $(BENCH_FLAGS)
	$(BIN)/python benchmarks/ensemble.py --runs 16 --firms 3000 --runners serial processes --workers 2
	$(MAKE) --no-print-directory bench-mesa MESA_FIRMS=20000

MESA_FIRMS ?= 100000
# 8 seeds: with 2, KS and MW cannot reject (p >= 1/3) and the verdict is the interval overlap
# alone, which fails whenever one side's two values both lie below the other's: one time in
# three by chance, so about 6 of 18 outputs read "different" for identical models
MESA_SEEDS ?= 8
bench-mesa: $(VENV)/.installed
	$(BIN)/python -c "import mesa" 2>/dev/null \
		&& $(BIN)/python benchmarks/docking.py --seeds $(MESA_SEEDS) --firms $(MESA_FIRMS) --years 2024-2027 \
		|| echo "Mesa ratio skipped: pip install -e '.[bench]' for benchmarks/docking.py"

clean:
	rm -rf $(VENV) nswn-results .pytest_cache .mypy_cache .ruff_cache

# Regenerate docs/claims.md (the full claims run, sensitivity screen and calibration; about
# half an hour on 2 cores; interrupted runs resume). `make docs-quick` for an indicative version.
docs: calibration
	$(BIN)/python -m nswn.experiments.claims_doc docs/claims.md

docs-quick: calibration-quick
	$(BIN)/python -m nswn.experiments.claims_doc docs/claims.md --quick

# Regenerate the hindcast table in docs/history.md (10 seeds of `history`, 2006-2024, the whole
# real firm population; a few minutes on 2 cores).
history-doc: $(VENV)/.installed
	$(BIN)/nswn hindcast --seeds 10 --markdown docs/history.md

# Calibrate the judged assumptions against history (nswn calibrate --history, ABC-SMC) and
# regenerate docs/calibration.md, its plot, the shipped posterior and docs/scenarios.md. Full:
# 3000 simulations at the whole real firm population (about an hour on 2 cores; resumes in
# nswn-calibration/). Quick: 300 simulations at 2 000 agents, a few minutes; it does not replace
# the shipped posterior.
calibration: $(VENV)/.installed
	nice $(BIN)/python -m nswn.experiments.calibration_doc docs/calibration.md

# Carry the shipped posterior across a code change that leaves results unchanged (a faster
# kernel): BEFORE is the commit that made it; its runs of the heaviest particles are rerun with
# both codes and compared table by table; the posterior is restamped only if all are identical.
restamp: $(VENV)/.installed
	@test -n "$(BEFORE)" || { echo "usage: make restamp BEFORE=<commit that made the posterior>" >&2; exit 2; }
	rm -rf .restamp && mkdir .restamp && git archive "$(BEFORE)" src scenarios | tar -x -C .restamp
	$(BIN)/python -m nswn.experiments.restamp --before .restamp/src --docs docs/calibration.md
	rm -rf .restamp

calibration-quick: $(VENV)/.installed
	nice $(BIN)/python -m nswn.experiments.calibration_doc docs/calibration.md --quick --no-ship

# Regenerate the frozen reference baseline (tests/reference/*.csv) after a deliberate model
# change; commit the CSV diff with the change (it is the review of the new numbers).
reference: $(VENV)/.installed
	$(BIN)/python tests/reference/regenerate.py

# Mutation score of the test suite (slow: about an hour on 2 cores; not part of make test).
mutation: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/mutation.py

# Priority inference (issue 18; docs/priorities.md): regenerate the synthetic panels, infer the
# priority mode of the synthetic and real panels, run the recovery study, and rewrite the
# generated block of docs/priorities.md. About 11.5 CPU minutes, 7 min wall on 2 idle cores (measured at 2653efa; docs/priorities.md §7).
PRIORITIES_FLAGS ?= --quick --workers 2
PRIORITIES_OUT ?= nswn-results/priorities
priorities: $(VENV)/.installed
	$(BIN)/python examples/panels/make_synthetic.py
	for p in synthetic_shortlist synthetic_broad real_public; do \
	  nice $(BIN)/nswn infer-priorities examples/panels/$$p.csv $(PRIORITIES_FLAGS) --out $(PRIORITIES_OUT)/$$p || exit 1; done
	nice $(BIN)/python -m nswn.analysis.priorities_recovery study --workers 2 --out $(PRIORITIES_OUT)/recovery
	$(BIN)/python -m nswn.analysis.priorities_recovery doc $(PRIORITIES_OUT) docs/priorities.md
