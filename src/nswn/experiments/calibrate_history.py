"""Simulation-based calibration of judged assumptions against history (``nswn calibrate --history``).

What it does
------------
The ``history`` scenario (2006 → 2024) is run with assumptions drawn from their judged
ranges (uniform priors, :data:`PRIOR`); each run is scored against the hindcast targets of
the **training window** (2006–2018, ``catalog/history/targets.csv``) and ABC-SMC (Sequential
Monte Carlo Approximate Bayesian Computation; Toni et al. 2009, Beaumont et al. 2009) keeps
the assumptions whose runs come closest, tightening the acceptance threshold generation by
generation until the simulation budget is spent. The result is a weighted sample of
assumptions — the posterior (:class:`nswn.experiments.posterior.Posterior`).

The **test window** (2019–2024) is held out: the posterior predictive (runs at particles
drawn by weight) and the prior predictive (runs at draws from the judged ranges) are both
compared with the held-out observations, and the share of targets inside each 90 % band
(coverage) is reported whatever it shows.

Library: pyabc (Klinger, Rickert and Hasenauer 2018; Schälte et al. 2022), not our own
sampler. Why pyabc rather than sbi: the model is a stochastic ABM of a few seconds a run on
2 cores, so a budget is hundreds to a few thousand runs — too few to train a neural
posterior estimator over ~20 summary statistics reliably, while ABC-SMC's rejection with
an explicit, interpretable distance ((sim − obs)/tolerance, the tolerances written before
any run) needs no training; pyabc is pure Python, stores every generation in SQLite (a run
that is stopped resumes from its last completed generation) and stops at a total number of
simulations (``max_total_nr_simulations``).

Distance
--------
``d = sqrt(mean_k z_k²)`` with ``z_k = (sim_k − obs_k) / tolerance_k`` over the modelled
training targets; a target the run cannot produce (e.g. a parity year never reached) counts
``z = MISSING_Z`` (judged: a miss well beyond any tolerance). ``d ≤ 1`` means the run is, on
root-mean-square, within the data's own uncertainty.

Determinism
-----------
Runs execute on local worker processes (the *spawn* pool of the ensemble runners, or in this
process with one worker) through pyabc's ``MappingSampler``: for each generation the parent
draws one seed per particle slot and each slot proposes until it accepts, so a generation's
particles do not depend on the number of workers or on the order runs finish. pyabc draws
its proposals from NumPy's legacy global generator; we seed it from ``--seed`` and the
generation number at the start of every generation, so a resumed calibration continues
exactly as an uninterrupted one. The model never reads that generator: each simulation's
seed is a hash of its parameter values.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nswn.analysis import hindcast
from nswn.experiments.posterior import Posterior, weighted_quantile

# Judged ranges of the assumptions history can inform: the prior of the calibration (uniform).
# Those marked "claims" are the claims' judged uncertainty ranges (experiments/claims/orchestration.py);
# the rest are judged here around the model's defaults, each with its reason.
PRIOR: dict[str, tuple[float, float, str]] = {
    "assumptions.innovation.emulation_rate": (0.05, 0.3, "judged range of the claims' robustness sample"),
    "assumptions.innovation.innovation_rate": (0.5, 2.0, "judged range of the claims' robustness sample"),
    "assumptions.markets.labour_cost_growth": (0.0, 0.04, "judged range of the claims' robustness sample"),
    "assumptions.markets.capability_weight": (1.5, 4.5, "judged range of the claims' robustness sample"),
    "assumptions.markets.cost_weight": (1.0, 3.0, "judged: default 2.0 ± 50 %, like capability_weight"),
    "assumptions.markets.learning_rate": (
        0.15,
        0.5,
        "judged: Wright's-law progress ratios of 70-90 % (ℓ = −log2 PR), the span usually quoted for "
        "manufactured goods (recalled, not verified)",
    ),
    "assumptions.environment.decoupling_rate": (0.0, 0.03, "judged range of the claims' robustness sample"),
    # credit_growth is not here: `history` takes each year's credit from the sourced TSF series
    # (its schedule), so the parameter acts only after 2024 and history cannot inform it.
    "assumptions.macro.income_elasticity": (
        0.6,
        1.4,
        "judged: around the homothetic 1; structural-change estimates put manufacturing between "
        "agriculture (<1) and services (>1) (Comin, Lashkari and Mestieri 2021; docs/model.md §12.1)",
    ),
    "assumptions.macro.labour_cost_elasticity": (
        0.0,
        2.0,
        "judged: no relocation of the labour-intensive segments (0) to twice the default 1",
    ),
    "assumptions.macro.rd_income_elasticity": (
        0.3,
        1.2,
        "judged: around the default 0.7 from the cross-country shape of R&D intensity against income",
    ),
    "assumptions.markets.home_market_effect": (
        0.0,
        2.0,
        "judged: fixed Armington weights (0) to twice the free-entry value 1 (docs/model.md §12.2)",
    ),
    "assumptions.environment.controls_block_sales": (0.0, 1.0, "the whole allowed range (judged)"),
    "assumptions.environment.preemptive_buying": (
        0.0,
        2.0,
        "judged: 0 (no surge) to twice the coming sales block; the announcement rule",
    ),
}

PLACEBO = "placebo"  # an inert U(0, 1) parameter the model never reads: the sampler's noise floor
MISSING_Z = 10.0  # z-score of a target a run cannot produce (judged: far beyond any tolerance)
NOT_MODELLED = ("first_rank_year",)  # hindcast.simulated_value returns None for these
TRAIN, TEST = "train", "test"
SCENARIO = hindcast.HISTORY_SCENARIO
ABC_DB = "abc.sqlite"
SETTINGS_FILE = "calibration.json"


class CalibrationError(ValueError):
    """Bad calibration input (unknown parameter, budget ≤ 0, inconsistent resume)."""


@dataclass(frozen=True)
class HistorySettings:
    """How much to run.

    Attributes
    ----------
    budget
        Total simulations for the inference (pyabc's ``max_total_nr_simulations``; the last
        generation may overshoot it by up to one generation's simulations).
    population
        Particles per generation (0: ``budget // 10`` between 10 and 100, so that the budget
        buys several generations; pyabc's first generation costs about two populations).
    generations
        At most this many generations.
    min_epsilon
        Stop early when the acceptance threshold reaches this distance (1: within tolerance).
    predictive
        Runs for each of the posterior and the prior predictive.
    firms
        Agents per run (``None``: the whole real firm population; fewer: a coarser
        resolution, stated in every output).
    seed
        Root seed of pyabc's proposals and of the predictive draws.
    parameters
        The calibrated assumptions (paths of :data:`PRIOR` or of the schema, with ``ranges``).
    ranges
        Prior range per parameter (default: :data:`PRIOR`).
    end_year
        Last simulated year (default: the scenario's, 2024); the recovery test runs shorter.
    targets
        Optional ``(target_id, observed, tolerance)`` replacements (synthetic history for tests).
    placebo
        Also infer an inert parameter (:data:`PLACEBO`, uniform on [0, 1], never passed to the
        model): how far its 90 % interval narrows measures how much the sampler narrows a
        parameter history says nothing about at this budget (a negative control).
    """

    budget: int = 3000
    population: int = 0
    generations: int = 30
    min_epsilon: float = 1.0
    predictive: int = 60
    firms: int | None = None
    seed: int = 2024
    parameters: tuple[str, ...] = tuple(PRIOR)
    ranges: tuple[tuple[str, float, float], ...] = ()
    end_year: int | None = None
    targets: tuple[tuple[str, float, float], ...] = ()
    placebo: bool = True

    @classmethod
    def quick(cls, **changes: Any) -> HistorySettings:
        """A few minutes on 2 busy cores: 2 000 agents, 300 simulations, 30 particles, 20 + 20
        predictive runs. Indicative only: it says so wherever it is reported."""
        return replace(cls(budget=300, predictive=20, firms=2000), **changes)

    def particles(self) -> int:
        """Particles per generation (see ``population``)."""
        return self.population or min(100, max(10, self.budget // 10))

    def prior(self) -> dict[str, tuple[float, float]]:
        given = {p: (lo, hi) for p, lo, hi in self.ranges}
        return {p: given.get(p, PRIOR[p][:2] if p in PRIOR else (math.nan, math.nan)) for p in self.parameters}

    def check(self) -> None:
        """Raise :class:`CalibrationError` naming the field, the value and what is allowed."""
        from nswn.experiments.sampling import parameter

        if self.budget <= 0:
            raise CalibrationError(f"--budget: {self.budget} is not allowed; give a number of simulations ≥ 1")
        if self.population != 0 and self.population < 2:
            raise CalibrationError(f"population: {self.population} is not allowed; at least 2 particles (0: auto)")
        if self.predictive < 2:
            raise CalibrationError(f"--predictive: {self.predictive} is not allowed; at least 2 runs")
        if not self.parameters:
            raise CalibrationError("--parameters: name at least one assumption to calibrate")
        for path, (lo, hi) in self.prior().items():
            declared = parameter(path)
            if declared is None or not path.startswith("assumptions.") or declared.kind != "float":
                raise CalibrationError(
                    f"--parameters: {path!r} is not a numeric assumption of the scenario schema "
                    f"(`nswn params` lists them); calibrated by default: {', '.join(PRIOR)}"
                )
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise CalibrationError(f"--parameters: {path!r} has no judged range; give one (low < high)")
            if (declared.low is not None and lo < declared.low) or (declared.high is not None and hi > declared.high):
                raise CalibrationError(
                    f"--parameters: range [{lo}, {hi}] of {path!r} is outside its allowed {declared.allowed()}"
                )

    def short_names(self) -> dict[str, str]:
        """pyabc parameter names (the last path part; unique by construction of the check)."""
        names = {p: p.rsplit(".", 1)[-1] for p in self.parameters}
        if len(set(names.values())) != len(names):
            names = {p: p.replace(".", "__") for p in self.parameters}
        return names


# ---------------------------------------------------------------------------------------
# targets and one simulation


@dataclass(frozen=True)
class ScoredTarget:
    target_id: str
    observed: float
    tolerance: float
    window: str
    target: hindcast.Target = field(repr=False)


def scored_targets(settings: HistorySettings, window: str | None = None) -> list[ScoredTarget]:
    """The modelled hindcast targets (deduplicated by id) within the simulated years, with
    ``settings.targets``' synthetic observations applied."""
    replace_obs = {t: (o, tol) for t, o, tol in settings.targets}
    end = settings.end_year or 2024
    out: dict[str, ScoredTarget] = {}
    for t in hindcast.targets():
        if t.indicator in NOT_MODELLED or t.year > end or t.target_id in out:
            continue
        if window is not None and t.window != window:
            continue
        obs, tol = replace_obs.get(t.target_id, (t.observed, t.tolerance))
        out[t.target_id] = ScoredTarget(t.target_id, float(obs), float(tol), t.window, t)
    if settings.targets:
        keep = set(replace_obs)
        out = {k: v for k, v in out.items() if k in keep}
    return list(out.values())


def param_seed(values: dict[str, float]) -> int:
    """The model seed of one simulation: a hash of its parameter values (no global RNG)."""
    text = json.dumps({k: float(v) for k, v in sorted(values.items())}, sort_keys=True)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


@dataclass(frozen=True)
class HistoryModel:
    """One simulation of ``history`` at given assumptions → the targets' simulated values.

    Picklable (sent to worker processes). ``names`` maps pyabc's names to paths.
    """

    names: tuple[tuple[str, str], ...]  # (short name, path)
    target_ids: tuple[str, ...]
    firms: int | None
    end_year: int | None

    def overrides(self, params: Any) -> dict[str, float]:
        return {path: float(params[short]) for short, path in self.names}

    def __call__(self, params: Any) -> dict[str, float]:
        return simulate_targets(self.overrides(params), self.target_ids, self.firms, self.end_year)


def simulate_targets(
    overrides: dict[str, float],
    target_ids: tuple[str, ...],
    firms: int | None,
    end_year: int | None,
    seed: int | None = None,
) -> dict[str, float]:
    """Run ``history`` with ``overrides`` and return ``{target_id: simulated value}`` (NaN where
    the run cannot produce it, e.g. parity never reached)."""
    from nswn import api
    from nswn.core.model import SimulationError
    from nswn.experiments.design import apply_overrides

    scenario = apply_overrides(_base_scenario(firms, end_year), overrides, "nswn calibrate --history")
    try:
        result = api.simulate(scenario, seed=param_seed(overrides) if seed is None else seed)
    except SimulationError as exc:
        # a world the model cannot run within its limits (the firm population explodes) produces
        # none of the targets: every one counts as missing (MISSING_Z), so ABC rejects it
        print(f"nswn calibrate --history: run stopped ({exc}) at {overrides}", file=sys.stderr, flush=True)
        return {tid: float("nan") for tid in target_ids}
    by_id = _targets_by_id()
    tech = dict(tuple(result.technology_year.groupby("technology_id")))
    empty = result.technology_year.iloc[:0]
    out = {}
    for tid in target_ids:
        target = by_id[tid]
        frame = tech.get(target.technology, empty) if target.technology else empty
        value = hindcast.simulated_value(target, frame, result.macro_year)
        out[tid] = float("nan") if value is None else float(value)
    return out


@cache
def _base_scenario(firms: int | None, end_year: int | None) -> Any:
    """``history`` at the run size (loaded once per process)."""
    from nswn import api

    scenario = api.with_overrides(api.load_scenario(SCENARIO), firms=firms, end_year=end_year)
    return scenario


@cache
def _targets_by_id() -> dict[str, hindcast.Target]:
    return {t.target_id: t for t in hindcast.targets()}


@dataclass(frozen=True)
class TargetDistance:
    """``sqrt(mean z²)``, ``z = (sim − obs)/tolerance``; a missing value counts :data:`MISSING_Z`."""

    tolerances: tuple[tuple[str, float], ...]

    def __call__(self, x: dict[str, float], x0: dict[str, float], *args: Any, **kwargs: Any) -> float:
        z = []
        for tid, tol in self.tolerances:
            sim, obs = x[tid], x0[tid]
            z.append(MISSING_Z if not np.isfinite(sim) else (sim - obs) / tol)
        return float(np.sqrt(np.mean(np.square(z))))


# ---------------------------------------------------------------------------------------
# the inference


@dataclass
class CalibrationResult:
    """What ``nswn calibrate --history`` produces."""

    settings: HistorySettings
    posterior: Posterior
    epsilons: list[float]
    simulations: int
    seconds: float
    predictive: pd.DataFrame  # one row per (kind, draw, target): kind posterior|prior, value
    coverage: pd.DataFrame  # one row per held-out (and training) target: observed, bands, inside
    out: Path
    resumed_from: int = 0  # simulations already stored in ``out`` when this run began (a resume)

    def coverage_summary(self) -> dict[str, dict[str, float]]:
        """Share of targets inside the 90 % band by window and kind (posterior, prior)."""
        out: dict[str, dict[str, float]] = {}
        for window, rows in self.coverage.groupby("window"):
            out[str(window)] = {
                "targets": float(len(rows)),
                "posterior": float(rows["posterior_inside"].mean()),
                "prior": float(rows["prior_inside"].mean()),
                "posterior_within_tolerance": float(rows["posterior_overlaps"].mean()),
                "prior_within_tolerance": float(rows["prior_overlaps"].mean()),
            }
        return out


class _Map:
    """A ``map`` for pyabc's MappingSampler: the ensemble runners' spawn process pool (or this
    process), results in submission order, with a progress callback per finished slot."""

    def __init__(self, workers: int, progress: Callable[[int], None] | None) -> None:
        self.workers = workers
        self.progress = progress
        self.pool: Any = None
        if workers > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            from nswn.experiments.runners import _init_worker

            self.pool = ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker
            )

    def __call__(self, fn: Callable[[Any], Any], items: Any) -> Any:
        results = self.pool.map(fn, list(items)) if self.pool is not None else map(fn, items)
        for result in results:
            if self.progress is not None:
                # a pyabc slot returns (sample, simulations it took); a predictive run is one simulation
                counted = isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], int)
                self.progress(result[1] if counted else 1)
            yield result

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def beaumont_bandwidth(particles: float, dimensions: int) -> float:
    """Bandwidth factor of the perturbation kernel: √2, so that pyabc's multivariate normal kernel
    has twice the weighted covariance of the previous population (Beaumont, Cornuet, Marin and
    Robert 2009, Adaptive approximate Bayesian computation, Biometrika 96, 983–990; recalled, not
    re-verified here). pyabc's default (Silverman's rule, about 0.54 × the covariance in 11
    dimensions with 30 particles) collapsed the quick run's weights to an effective sample of ~1
    and narrowed an inert placebo parameter to 8 % of its prior; with 2 × the covariance the same
    run kept an effective sample of ~7 of 30 and the placebo at 80 %."""
    return float(np.sqrt(2.0))


def _sampler(root_seed: int, mapper: _Map) -> Any:
    from nswn.experiments.abc_sampler import SeededMappingSampler

    return SeededMappingSampler(mapper, root_seed)


def run(
    settings: HistorySettings,
    out: str | Path,
    workers: int = 1,
    resume: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
    command: str = "nswn calibrate --history",
    log: Callable[[str], None] | None = None,
) -> CalibrationResult:
    """Calibrate (or resume), store the posterior in ``out``, run the predictive checks.

    Parameters
    ----------
    progress
        Called as ``progress(stage, done, total)`` with stage ``inference`` (simulations) or
        ``predictive`` (runs).

    Raises
    ------
    CalibrationError
        Bad settings, or ``out`` holds a calibration and ``resume`` is false (or holds a
        different one).
    """
    import logging

    import pyabc

    settings.check()
    logging.getLogger("ABC").setLevel(logging.WARNING)
    logging.getLogger("pyabc").setLevel(logging.WARNING)
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / ABC_DB
    settings_path = directory / SETTINGS_FILE
    fingerprint = _fingerprint(settings)
    if db.exists():
        if not resume:
            raise CalibrationError(
                f"{directory}: a calibration is stored here already; add --resume to continue it or choose "
                "another --out"
            )
        stored = json.loads(settings_path.read_text(encoding="utf-8")) if settings_path.is_file() else {}
        if stored.get("fingerprint") != fingerprint["fingerprint"]:
            raise CalibrationError(
                f"{directory}: the stored calibration used other settings ({stored.get('settings')}); "
                "resume with the same options, or choose another --out"
            )
    elif resume and log is not None:
        log(f"nothing to resume in {directory}: starting a new calibration")

    names = settings.short_names()
    train = scored_targets(settings, TRAIN)
    if not train:
        raise CalibrationError("no training target falls within the simulated years")
    model = HistoryModel(
        tuple((names[p], p) for p in settings.parameters),
        tuple(t.target_id for t in train),
        settings.firms,
        settings.end_year,
    )
    prior_ranges = settings.prior()
    rvs = {names[p]: pyabc.RV("uniform", lo, hi - lo) for p, (lo, hi) in prior_ranges.items()}
    if settings.placebo:
        rvs[PLACEBO] = pyabc.RV("uniform", 0.0, 1.0)
    prior = pyabc.Distribution(**rvs)
    distance = TargetDistance(tuple((t.target_id, t.tolerance) for t in train))
    observed = {t.target_id: t.observed for t in train}
    done = {"n": 0}

    def tick(k: int) -> None:
        done["n"] += k
        if progress is not None:
            progress("inference", done["n"], settings.budget)

    mapper = _Map(workers, tick)
    started = time.perf_counter()
    try:
        abc = pyabc.ABCSMC(
            model,
            prior,
            distance,
            population_size=settings.particles(),
            sampler=_sampler(settings.seed, mapper),
            transitions=pyabc.MultivariateNormalTransition(bandwidth_selector=beaumont_bandwidth),
            eps=pyabc.QuantileEpsilon(alpha=0.5),
        )
        url = f"sqlite:///{db.resolve()}"
        resumed_from = 0
        if db.exists():
            abc.load(url, 1)
            done["n"] = resumed_from = int(abc.history.total_nr_simulations)
        else:
            abc.new(url, observed)
            settings_path.write_text(json.dumps(fingerprint, indent=1) + "\n", encoding="utf-8")
        history = abc.history
        left = settings.budget - int(history.total_nr_simulations)
        if left > 0 and history.max_t + 1 < settings.generations:
            history = abc.run(
                minimum_epsilon=settings.min_epsilon,
                max_nr_populations=settings.generations - (history.max_t + 1),
                max_total_nr_simulations=settings.budget,
            )
        frame, weights = history.get_distribution(m=0, t=history.max_t)
        populations = history.get_all_populations()
        epsilons = [float(e) for e in populations[populations["t"] >= 0]["epsilon"]]
        simulations = int(history.total_nr_simulations)
        generations = int(history.max_t) + 1
        placebo = None
        if settings.placebo:
            lo, hi = weighted_quantile(frame[PLACEBO].to_numpy(float), np.asarray(weights, float), [0.05, 0.95])
            placebo = float((hi - lo) / 0.9)
        # predictive checks
        posterior = Posterior(
            parameters=settings.parameters,
            values=np.column_stack([frame[names[p]].to_numpy(float) for p in settings.parameters]),
            weights=np.asarray(weights, float),
            prior=prior_ranges,
            provenance={
                **provenance(settings, simulations, generations, epsilons, command),
                "placebo_width_ratio": placebo,
            },
        )
        predictive = _predictive(settings, posterior, mapper, progress)
    finally:
        mapper.close()
    seconds = time.perf_counter() - started
    coverage = coverage_table(settings, predictive)
    result = CalibrationResult(
        settings, posterior, epsilons, simulations, seconds, predictive, coverage, directory, resumed_from
    )
    store_result(result)
    return result


def _fingerprint(settings: HistorySettings) -> dict[str, Any]:
    """What a resume must match (everything but the budget, which a resume may raise)."""
    from nswn.provenance import model_hash

    kept = {k: v for k, v in asdict(settings).items() if k not in ("budget", "predictive")}
    kept["model_hash"] = model_hash()
    text = json.dumps(kept, sort_keys=True, default=list)
    return {"fingerprint": hashlib.sha256(text.encode()).hexdigest()[:16], "settings": kept}


def data_vintage() -> dict[str, str]:
    """The history data the targets come from: start vintage and a hash of the target files."""
    from importlib import resources

    digest = hashlib.sha256()
    root = resources.files("nswn.catalog").joinpath("history")
    for name in ("targets.csv", "macro_series.csv"):
        digest.update(root.joinpath(name).read_bytes())
    return {"start_vintage": "2006", "targets_sha256": digest.hexdigest()[:16]}


def provenance(
    settings: HistorySettings, simulations: int, generations: int, epsilons: list[float], command: str
) -> dict[str, Any]:
    from datetime import UTC, datetime

    from nswn import __version__, api
    from nswn.provenance import model_hash
    from nswn.scenario import io

    scenario = api.with_overrides(api.load_scenario(SCENARIO), firms=settings.firms)
    return {
        "model_hash": model_hash(),
        "package_version": __version__,
        "data_vintage": data_vintage(),
        "scenario": SCENARIO,
        "scenario_hash": io.scenario_hash(scenario),
        "firms": settings.firms,
        "budget": settings.budget,
        "population": settings.particles(),
        "simulations": simulations,
        "generations": generations,
        "epsilon": epsilons[-1] if epsilons else None,
        "seed": settings.seed,
        "train_targets": [t.target_id for t in scored_targets(settings, TRAIN)],
        "method": "ABC-SMC (pyabc), uniform priors on judged ranges, distance sqrt(mean((sim-obs)/tol)^2)",
        "command": command,
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _predictive(
    settings: HistorySettings, posterior: Posterior, mapper: _Map, progress: Callable[[str, int, int], None] | None
) -> pd.DataFrame:
    """Runs at particles drawn by weight (posterior) and at draws from the uniform prior."""
    n = settings.predictive
    root = np.random.SeedSequence([settings.seed, 2])
    post_seed, prior_seed = root.spawn(2)
    draws: list[tuple[str, int, dict[str, float]]] = [
        ("posterior", i, d) for i, d in enumerate(posterior.sample(n, post_seed))
    ]
    rng = np.random.default_rng(prior_seed)
    ranges = settings.prior()
    for i in range(n):
        draws.append(("prior", i, {p: float(rng.uniform(lo, hi)) for p, (lo, hi) in ranges.items()}))
    targets = tuple(t.target_id for t in scored_targets(settings))
    jobs = [(d, targets, settings.firms, settings.end_year, param_seed({**d, "draw": i})) for _, i, d in draws]
    mapper.progress = None
    rows = []
    for k, ((kind, i, d), values) in enumerate(zip(draws, mapper(_predictive_one, jobs), strict=True), start=1):
        if progress is not None:
            progress("predictive", k, len(draws))
        for tid, value in values.items():
            rows.append({"kind": kind, "draw": i, "target_id": tid, "value": value, **{"params": json.dumps(d)}})
    return pd.DataFrame(rows)


def _predictive_one(job: tuple[dict[str, float], tuple[str, ...], int | None, int | None, int]) -> dict[str, float]:
    overrides, targets, firms, end_year, seed = job
    return simulate_targets(overrides, targets, firms, end_year, seed=seed)


def coverage_table(settings: HistorySettings, predictive: pd.DataFrame) -> pd.DataFrame:
    """Per target: observed ± tolerance, the 90 % predictive band of posterior and prior, and
    whether the observation lies inside (``*_inside``) or its tolerance interval overlaps the band
    (``*_overlaps``). A draw that cannot produce a target (NaN) is left out of the band; a target
    no draw produces counts as outside. A parity year a draw does not reach by the end year is
    censored there instead (+inf, as in ``hindcast.compare``): the band is order statistics and
    its upper end may be +inf."""
    rows = []
    for t in scored_targets(settings):
        row: dict[str, Any] = {
            "target_id": t.target_id,
            "indicator": t.target.indicator,
            "window": t.window,
            "year": t.target.year,
            "observed": t.observed,
            "tolerance": t.tolerance,
            "source": t.target.source,
        }
        for kind in ("posterior", "prior"):
            values = predictive.loc[(predictive["kind"] == kind) & (predictive["target_id"] == t.target_id), "value"]
            finite = values.to_numpy(float)
            censored = t.target.indicator in hindcast.CENSORED_INDICATORS
            finite = finite if censored else finite[np.isfinite(finite)]  # censored: NaN = not reached
            if finite.size == 0:
                row.update({f"{kind}_p05": np.nan, f"{kind}_median": np.nan, f"{kind}_p95": np.nan})
                row[f"{kind}_inside"] = False
                row[f"{kind}_overlaps"] = False
                continue
            if censored:
                lo, med, hi = hindcast.censored_band(finite)
            else:
                lo, med, hi = np.quantile(finite, [0.05, 0.5, 0.95])
            row.update({f"{kind}_p05": lo, f"{kind}_median": med, f"{kind}_p95": hi})
            row[f"{kind}_inside"] = bool(lo <= t.observed <= hi)
            row[f"{kind}_overlaps"] = bool(lo <= t.observed + t.tolerance and t.observed - t.tolerance <= hi)
        rows.append(row)
    return pd.DataFrame(rows)


def store_result(result: CalibrationResult) -> None:
    """Write the posterior (and the predictive table) into the results store at ``result.out``."""
    from nswn.storage.store import ResultsStore

    store = ResultsStore(result.out)
    store.write_posterior(result.posterior)
    store.write_table("calibration_predictive", result.predictive.assign(posterior_id=result.posterior.posterior_id))
    store.write_table("calibration_coverage", result.coverage.assign(posterior_id=result.posterior.posterior_id))


IDENTIFIED_RATIO = 0.8  # judged: a 90 % interval under 0.8 × the prior's counts as narrowed
MIN_ESS = 10.0  # judged: below this effective sample size no interval says whether history identified anything


def effective_sample_size(posterior: Posterior) -> float:
    """Kish's effective sample size of the weighted particles, ``1 / Σ w²`` (weights summing to 1)."""
    return float(1.0 / np.sum(np.square(posterior.weights)))


def identification_threshold(posterior: Posterior) -> float:
    """Width ratio below which a parameter counts as identified: :data:`IDENTIFIED_RATIO`, or the
    inert placebo's ratio when that is smaller (the sampler narrowed a parameter the model never
    reads that far, so narrowing above it is not evidence)."""
    placebo = posterior.provenance.get("placebo_width_ratio")
    return min(IDENTIFIED_RATIO, float(placebo)) if placebo is not None else IDENTIFIED_RATIO


def parameter_table(posterior: Posterior) -> pd.DataFrame:
    """Per parameter: prior range, posterior median and 90 % interval, identified or not."""
    threshold = identification_threshold(posterior)
    assessable = effective_sample_size(posterior) >= MIN_ESS
    rows = []
    for path in posterior.parameters:
        lo, hi = posterior.prior[path]
        plo, phi = posterior.interval(path)
        rows.append(
            {
                "parameter": path,
                "prior_low": lo,
                "prior_high": hi,
                "posterior_median": posterior.median(path),
                "posterior_p05": plo,
                "posterior_p95": phi,
                "width_ratio": (phi - plo) / (0.9 * (hi - lo)),
                "identified": assessable and posterior.identified(path, threshold=threshold),
                "assessable": assessable,
                "basis": PRIOR.get(path, ("", "", "given"))[2],
            }
        )
    return pd.DataFrame(rows)


def strong_correlations(posterior: Posterior, threshold: float = 0.3) -> list[tuple[str, str, float]]:
    """Pairs of parameters whose weighted posterior correlation is at least ``threshold`` in size."""
    corr = posterior.correlations()
    out = []
    for i, a in enumerate(posterior.parameters):
        for j in range(i + 1, len(posterior.parameters)):
            if abs(corr[i, j]) >= threshold:
                out.append((a, posterior.parameters[j], float(corr[i, j])))
    return sorted(out, key=lambda x: -abs(x[2]))


__all__ = [
    "PRIOR",
    "CalibrationError",
    "CalibrationResult",
    "HistorySettings",
    "coverage_table",
    "parameter_table",
    "run",
    "strong_correlations",
    "weighted_quantile",
]
