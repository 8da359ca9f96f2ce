"""Which priority mode do public indicators support? Simulation-based model choice (issue 18).

The brief's second key finding is that public figures (research funding, investment,
publications, patents) show no clear prioritisation and that ~50 areas are too many to be a
concentration. This module makes that an inference: each priority mode of
:mod:`nswn.mechanisms.priorities` is a candidate model; the model simulates the panel's
indicators; ABC-SMC with model choice (pyabc; Toni et al. 2009, *J. R. Soc. Interface* 6:187;
Klinger, Rickert & Hasenauer 2018, *Bioinformatics* 34:3591) gives the posterior probability
of each mode, the posterior of its parameters and of which technologies form a shortlist.

Observation model (docs/priorities.md)
    1. The model runs from the 2024 catalog vintage for as many years as the panel spans;
       panel year ``y`` is read as simulated year ``2024 + (y − first panel year) + 1`` (the
       panel's years are years since its priority regime began; the model has no earlier
       start with today's instruments).
    2. Each indicator's simulated counterpart (:data:`COUNTERPARTS`) per technology is summed
       into the panel's areas with the mapping weights (``Panel.weights``).
    3. Multiplicative lognormal noise: ``observed = simulated · exp(σ ε)``, ``ε ~ N(0, 1)``
       iid per cell; ``σ`` is a parameter of every mode (prior uniform on
       :data:`NOISE_PRIOR`).
    4. Cells missing in the panel are dropped from the simulation too.
    5. Summary statistics use each year's shares across areas only (units cancel):
       :func:`summaries`.

Random numbers: pyabc draws proposals from NumPy's legacy global state. The sampler here
(:class:`SeededSampler`) seeds that state from ``(seed, generation call, candidate index)``
before every candidate and keeps candidates in index order, so the same panel, seed and
settings give the same posterior whatever the number of workers. Each simulation's own
seed and noise come from a generator seeded by the candidate.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nswn.analysis.panel import Panel

MODES = ("none", "broad", "shortlist", "lobbying", "adaptive")
CONCENTRATED = ("shortlist", "adaptive")
START_YEAR = 2024
SCENARIO = "baseline"

# simulated counterpart of each panel indicator (technology_year columns)
COUNTERPARTS = {
    "funding": "funding_total",  # all S&T funding booked to the technology (central + local), bn CNY
    "investment": "funding_guidance_funds",  # state guidance (investment) funds, bn CNY
    "publications": "publications",  # knowledge institutions' papers, by field
    "patents": "patents",
    "firm_entries": "entries",
}

NOISE_PRIOR = (0.02, 1.0)
# uniform priors (lo, hi) of each mode's own parameters; k is floored to an integer
PRIORS: dict[str, dict[str, tuple[float, float]]] = {
    "none": {},
    "broad": {},
    "shortlist": {"k": (1.0, 16.0), "jitter": (0.0, 1.0)},
    "lobbying": {"gamma": (0.0, 4.0)},
    "adaptive": {"k": (1.0, 16.0), "jitter": (0.0, 1.0), "eta": (0.0, 1.0)},
}
PARAMETER_DOCS = {
    "noise": "σ, sd of the multiplicative lognormal observation noise",
    "k": "shortlist size (floored to an integer; 1-15)",
    "jitter": "τ, log-sd of the random factor on each technology's strategic weight before the top-k pick "
    "(0 = the model's rule strategic weight × gap; large = any membership)",
    "gamma": "γ_lob, lobbying exponent",
    "eta": "η_adapt, yearly move of weight to the fastest-closing gaps",
}


@dataclass(frozen=True)
class Settings:
    """How hard the inference works.

    Attributes
    ----------
    firms
        Agent budget per simulation (1 000 ⇒ about 1 650 agents: the catalog floor of 20 agents
        per technology; ~6 % of the real firm population simulated one-to-one).
    population
        ABC-SMC particles per generation (all modes together).
    generations
        Maximum generations per ABC run.
    budget
        Simulations per ABC run: pyabc stops after the generation that reaches it (so a run can
        exceed it by part of a generation).
    repeats
        Independent ABC runs (seeds ``seed, seed+1, …``); the spread of the mode probabilities
        across them is the reported Monte Carlo uncertainty.
    checks
        Posterior predictive simulations.
    """

    firms: int = 1000
    population: int = 200
    generations: int = 6
    budget: int = 3000
    repeats: int = 3
    checks: int = 60

    @classmethod
    def quick(cls) -> Settings:
        return cls(firms=1000, population=120, generations=4, budget=1200, repeats=2, checks=40)


# --------------------------------------------------------------------------- area attributes


@dataclass(frozen=True)
class AreaAttributes:
    """Catalog facts aggregated to the panel's areas (each ``(A,)``), used by the rank statistics.

    ``score``: largest ``strategic_weight × gap0`` among the area's technologies (the shortlist
    rule's score, gap0 = −ln rel_capability0); ``size``: Σ weight × demand0 (bn CNY); ``broad``:
    weighted share of stranglehold / bottleneck / competitive-advantage technologies;
    ``lobby``: weighted mean default lobbying power of the issue owners.
    """

    score: np.ndarray
    size: np.ndarray
    broad: np.ndarray
    lobby: np.ndarray


def area_attributes(panel: Panel) -> AreaAttributes:
    from nswn import catalog
    from nswn.mechanisms.priorities import PriorityParams

    by_id = {t.id: t for t in catalog.technologies()}
    techs = [by_id[i] for i in panel.technology_ids]
    default = PriorityParams()
    score = np.array([t.strategic_weight * max(-math.log(t.rel_capability0), 0.0) for t in techs])
    demand = np.array([t.demand0 for t in techs])
    broad = np.array([t.group in ("stranglehold", "bottleneck", "competitive_advantage") for t in techs], float)
    lobby = np.array([getattr(default, f"lobbying_{t.issue_owner_type}") for t in techs])
    w = panel.weights
    member = w > 0
    mass = np.maximum(w.sum(axis=1), 1e-12)
    return AreaAttributes(
        score=np.where(member, score, -np.inf).max(axis=1),
        size=w @ demand,
        broad=(w @ broad) / mass,
        lobby=(w @ lobby) / mass,
    )


# --------------------------------------------------------------------------- summaries


def rankdata(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank (as ``scipy.stats.rankdata``, without its checks)."""
    sorter = np.argsort(x, kind="mergesort")
    inverse = np.empty(len(x), dtype=np.intp)
    inverse[sorter] = np.arange(len(x))
    ordered = x[sorter]
    first = np.r_[True, ordered[1:] != ordered[:-1]]
    dense = first.cumsum()[inverse]
    bounds = np.r_[np.flatnonzero(first), len(x)]
    return 0.5 * (bounds[dense] + bounds[dense - 1] + 1)


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation (average ranks for ties); 0 when either side is constant or < 3 pairs."""
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return 0.0
    rx, ry = rankdata(x[ok]), rankdata(y[ok])
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denominator = math.sqrt(float(rx @ rx) * float(ry @ ry))
    return float(rx @ ry) / denominator if denominator > 0 else 0.0


def gini(shares: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal, → 1 = all in one area)."""
    x = np.sort(shares)
    n = len(x)
    total = x.sum()
    if n < 2 or total <= 0:
        return 0.0
    return float((2.0 * np.arange(1, n + 1) - n - 1) @ x / (n * total))


STATISTICS = ("hhi", "gini", "top", "rho_score", "rho_size", "rho_broad", "rho_lobby")


def summaries(cube: np.ndarray, indicators: Sequence[str], areas: Sequence[str], attrs: AreaAttributes) -> dict:
    """Summary statistics of an ``(I, Y, A)`` panel cube (NaN = missing), by name.

    Per indicator, averaged over years with ≥ 3 observed areas: ``hhi`` (normalised
    Herfindahl of the shares, 0 = equal, 1 = one area), ``gini``, ``top`` (share of the
    largest ⌈A/10⌉ areas), Spearman correlations of the shares with the areas' shortlist
    score (``rho_score``), market size (``rho_size``), broad-group share (``rho_broad``) and
    lobbying power (``rho_lobby``), and ``persistence`` (Spearman of consecutive years'
    shares; only with ≥ 2 years). For the first money indicator (funding, else investment,
    else the first), ``share:<area>`` is each area's mean share (which areas get the money).
    """
    out: dict[str, float] = {}
    n_years = cube.shape[1]
    money = next((i for i, name in enumerate(indicators) if name in ("funding", "investment")), 0)
    for i, name in enumerate(indicators):
        rows: dict[str, list[float]] = {}
        shares_by_year = []
        for y in range(n_years):
            values = cube[i, y]
            seen = np.isfinite(values)
            total = np.nansum(values)
            if seen.sum() < 3 or total <= 0:
                shares_by_year.append(None)
                continue
            shares = np.where(seen, values / total, np.nan)
            shares_by_year.append(shares)
            s = shares[seen]
            n = len(s)
            hhi = float((s**2).sum())
            k = max(1, math.ceil(n / 10))
            for key, value in (
                ("hhi", (hhi - 1 / n) / (1 - 1 / n)),
                ("gini", gini(s)),
                ("top", float(np.sort(s)[::-1][:k].sum())),
                ("rho_score", spearman(shares, attrs.score)),
                ("rho_size", spearman(shares, attrs.size)),
                ("rho_broad", spearman(shares, attrs.broad)),
                ("rho_lobby", spearman(shares, attrs.lobby)),
            ):
                rows.setdefault(key, []).append(value)
        for key in STATISTICS:
            values = rows.get(key, [])
            # a year with no money anywhere (or < 3 areas) has no shares: the statistic is 0
            out[f"{name}:{key}"] = float(np.mean(values)) if values else 0.0
        if n_years >= 2:
            pairs = [
                spearman(a, b)
                for a, b in zip(shares_by_year[:-1], shares_by_year[1:], strict=True)
                if a is not None and b is not None
            ]
            out[f"{name}:persistence"] = float(np.mean(pairs)) if pairs else 0.0
        if i == money:
            stacked = np.array([s for s in shares_by_year if s is not None])
            if len(stacked):
                # an area never observed for this indicator has mean share 0 (in panel and simulations alike)
                seen = np.isfinite(stacked).sum(axis=0)
                mean = np.nansum(stacked, axis=0) / np.maximum(seen, 1)
            else:
                mean = np.zeros(len(areas))
            for a, area in enumerate(areas):
                out[f"share:{area}"] = float(mean[a])
    return out


def summary_keys(observed: dict) -> list[str]:
    return list(observed)


# --------------------------------------------------------------------------- simulator


def mode_overrides(mode: str, params: dict[str, float], rng: np.random.Generator) -> dict[str, Any]:
    """Scenario changes for one particle: the priority lever and, with ``jitter``, strategic weights.

    ``jitter`` τ multiplies each technology's catalog strategic weight by ``exp(τ z)``,
    ``z ~ N(0, 1)``, then rescales so that the largest is 1 (the catalog range); only the
    ranking matters to the shortlist rule, so τ = 0 leaves the run unchanged.
    """
    from nswn import catalog

    levers: dict[str, Any] = {"mode": mode}
    if "k" in params:
        levers["shortlist_size"] = int(min(max(math.floor(params["k"]), 1), 60))
    if "gamma" in params:
        levers["lobbying_exponent"] = float(params["gamma"])
    if "eta" in params:
        levers["adaptation_rate"] = float(params["eta"])
    changes: dict[str, Any] = {"priorities": levers}
    tau = float(params.get("jitter", 0.0))
    if tau > 0:
        techs = [t for t in catalog.technologies() if t.group != "traditional"]
        raw = np.array([t.strategic_weight for t in techs]) * np.exp(tau * rng.standard_normal(len(techs)))
        raw = raw / raw.max()
        changes["catalog"] = {t.id: {"strategic_weight": float(v)} for t, v in zip(techs, raw, strict=True)}
    return changes


@dataclass
class PanelSimulator:
    """Simulates a panel's summary statistics under one priority mode (picklable).

    Attributes
    ----------
    panel
        The validated panel (areas, years, indicators, mapping weights, missing cells).
    firms
        Agent budget per run.
    """

    panel: Panel
    firms: int = 1000
    _mask: np.ndarray = field(init=False, repr=False)
    _attrs: AreaAttributes = field(init=False, repr=False)
    _scenario: dict = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._mask = np.isfinite(self.panel.cube())
        self._attrs = area_attributes(self.panel)
        from nswn import api

        self._scenario = api.load_scenario(SCENARIO).model_dump(mode="json")

    @property
    def span(self) -> int:
        return self.panel.years[-1] - self.panel.years[0] + 1

    def technology_series(
        self, mode: str, params: dict[str, float], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """One model run: ``(I, span, T)`` counterparts and the ``(T,)`` start-year priority weights."""
        from nswn import api
        from nswn.scenario import io
        from nswn.scenario.build import build_model, to_config

        data = json.loads(json.dumps(self._scenario))
        changes = mode_overrides(mode, params, rng)
        data["levers"]["priorities"] = {**data["levers"].get("priorities", {}), **changes["priorities"]}
        if "catalog" in changes:
            data["catalog"] = {**data.get("catalog", {}), **changes["catalog"]}
        seed = int(rng.integers(0, 2**31 - 1))
        # the engine directly (as nswn.api.simulate does), without the tidy tables this does not read
        loaded = api.with_overrides(
            io.validate(data, "priority inference"),
            firms=self.firms,
            start_year=START_YEAR,
            end_year=START_YEAR + self.span,
        )
        columns = build_model(to_config(loaded), seed).run().technology_table()
        years = np.asarray(columns["year"])
        tech_ids = np.asarray(columns["technology_id"])
        order = [int(np.flatnonzero(tech_ids[: len(set(tech_ids))] == t)[0]) for t in self.panel.technology_ids]
        n_tech = len(set(tech_ids))
        series = np.zeros((len(self.panel.indicators), self.span, len(order)))
        for i, name in enumerate(self.panel.indicators):
            values = np.asarray(columns[COUNTERPARTS[name]], dtype=float).reshape(-1, n_tech)[:, order]
            series[i] = np.nan_to_num(values[1:])  # row 0 is the start year (before any step)
        priority = np.asarray(columns["priority_weight"], dtype=float).reshape(-1, n_tech)[:, order]
        assert years[n_tech] == START_YEAR + 1
        return series, np.nan_to_num(priority[1])

    def observe(self, series: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
        """Observation model: technologies → areas, lognormal noise, the panel's missing cells; ``(I, Y, A)``."""
        offsets = [y - self.panel.years[0] for y in self.panel.years]
        areas = np.einsum("iyt,at->iya", series[:, offsets, :], self.panel.weights)
        noisy = areas * np.exp(noise * rng.standard_normal(areas.shape))
        return np.where(self._mask, noisy, np.nan)

    def summarise(self, cube: np.ndarray) -> dict:
        return summaries(cube, self.panel.indicators, self.panel.areas, self._attrs)

    def __call__(self, mode: str, params: dict[str, float], rng: np.random.Generator) -> dict:
        series, priority = self.technology_series(mode, params, rng)
        out = self.summarise(self.observe(series, float(params["noise"]), rng))
        # which technologies / areas carry start-year priority weight (not used by the distance)
        on = priority > 0
        for t, tech in enumerate(self.panel.technology_ids):
            out[f"tech:{tech}"] = float(on[t])
        for a, area in enumerate(self.panel.areas):
            out[f"member:{area}"] = float((self.panel.weights[a] > 0)[on].any())
        return out


class ModeModel:
    """A pyabc model: parameters of one mode → simulated summaries."""

    def __init__(self, simulator: PanelSimulator, mode: str) -> None:
        self.simulator = simulator
        self.mode = mode
        self.__name__ = mode

    def __call__(self, pars: Any) -> dict:
        params = {key: float(pars[key]) for key in pars}
        # the candidate's seeded global state (SeededSampler) gives this run its own generator
        rng = np.random.default_rng(np.random.randint(0, 2**31 - 1))  # noqa: NPY002 - pyabc's global state
        return self.simulator(self.mode, params, rng)


# --------------------------------------------------------------------------- sampler


def _derive(*parts: int) -> int:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def _run_chunk(payload: bytes, seeds: list[int]) -> list[Any]:
    import cloudpickle

    simulate_one = cloudpickle.loads(payload)
    out = []
    for s in seeds:
        np.random.seed(s)  # noqa: NPY002 - pyabc draws from the legacy global state; seeded per candidate
        out.append(simulate_one())
    return out


def _worker_init() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _make_sampler_class() -> type:
    from pyabc.sampler import Sampler

    class SeededSampler(Sampler):
        """Candidates seeded by index and kept in index order: results do not depend on workers."""

        def __init__(self, seed: int, workers: int = 1, chunk: int = 4) -> None:
            super().__init__()
            self.seed = seed
            self.workers = workers
            self.chunk = chunk
            self.calls = 0
            self.pool: ProcessPoolExecutor | None = None
            if workers > 1:
                self.pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_worker_init)

        def sample_until_n_accepted(
            self,
            n: int,
            simulate_one: Callable,
            t: int,
            *,
            max_eval: float = np.inf,
            all_accepted: bool = False,
            ana_vars: Any = None,
        ) -> Any:
            import cloudpickle

            self.calls += 1
            sample = self._create_empty_sample()
            payload = cloudpickle.dumps(simulate_one)
            evaluations = 0
            index = 0
            done = False
            while not done and evaluations < max_eval:
                batch = self.chunk * self.workers
                seeds = [_derive(self.seed, self.calls, index + j) for j in range(batch)]
                index += batch
                chunks = [seeds[w * self.chunk : (w + 1) * self.chunk] for w in range(self.workers)]
                if self.pool is None:
                    results = [p for c in chunks for p in _run_chunk(payload, c)]
                else:
                    results = [p for part in self.pool.map(_run_chunk, [payload] * len(chunks), chunks) for p in part]
                for particle in results:
                    sample.append(particle)
                    evaluations += 1
                    if sample.n_accepted >= n or evaluations >= max_eval:
                        done = True
                        break
            self.nr_evaluations_ = evaluations
            if sample.n_accepted < n:
                sample.ok = False
            return sample

        def stop(self) -> None:
            if self.pool is not None:
                self.pool.shutdown(cancel_futures=True)
                self.pool = None

    return SeededSampler


# --------------------------------------------------------------------------- ABC


def _priors() -> list[Any]:
    import pyabc

    priors = []
    for mode in MODES:
        spec = {"noise": NOISE_PRIOR, **PRIORS[mode]}
        priors.append(pyabc.Distribution(**{k: pyabc.RV("uniform", lo, hi - lo) for k, (lo, hi) in spec.items()}))
    return priors


def _distance(observed: dict) -> Any:
    import pyabc

    shares = [k for k in observed if k.startswith("share:")]
    # the per-area shares count together as much as three summary statistics
    fixed = {k: (3.0 / len(shares) if k.startswith("share:") else 1.0) for k in observed}
    return pyabc.AdaptivePNormDistance(p=2, fixed_weights=fixed, scale_function=pyabc.distance.mad)


@dataclass
class AbcRun:
    """One ABC-SMC run's final population, summarised."""

    seed: int
    probabilities: dict[str, float]
    ess: float
    generations: int
    simulations: int
    epsilon: float
    particles: pd.DataFrame  # mode, weight (sums to 1 over all), parameters, member:/tech: flags


def run_abc(simulator: PanelSimulator, observed: dict, settings: Settings, seed: int, workers: int) -> AbcRun:
    """One ABC-SMC run with model choice over :data:`MODES` (uniform model prior)."""
    import logging

    import pyabc

    for name in ("ABC", "Epsilon", "Distance", "Acceptor", "Sampler", "History", "Data_plot", "Transition"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("ABC").setLevel(logging.ERROR)
    np.random.seed(_derive(seed, 0))  # noqa: NPY002 - pyabc's main-process draws, seeded
    sampler = _make_sampler_class()(seed=seed, workers=workers)
    models = [ModeModel(simulator, mode) for mode in MODES]
    try:
        abc = pyabc.ABCSMC(
            models,
            _priors(),
            _distance(observed),
            population_size=settings.population,
            sampler=sampler,
        )
        with tempfile.TemporaryDirectory(prefix="nswn-abc-") as tmp:
            abc.new(f"sqlite:///{Path(tmp) / 'abc.db'}", observed)
            history = abc.run(
                max_nr_populations=settings.generations,
                max_total_nr_simulations=settings.budget,
                min_acceptance_rate=0.01,
            )
            t = history.max_t
            # for one t pyabc returns a frame indexed by model id with a column p (models with weight only)
            probs = history.get_model_probabilities(t)["p"] if t >= 0 else pd.Series(dtype=float)
            probabilities = {mode: float(probs.get(m, 0.0)) for m, mode in enumerate(MODES)}
            if sum(probabilities.values()) <= 0:
                raise RuntimeError(
                    f"ABC run (seed {seed}) completed no generation within {settings.budget} simulations; "
                    f"allow at least {2 * settings.population} (--budget)"
                )
            frames = []
            for m, mode in enumerate(MODES):
                if probabilities[mode] <= 0:
                    continue
                params, weights = history.get_distribution(m=m, t=t)
                w_ss, stats = history.get_weighted_sum_stats_for_model(m=m, t=t)
                frame = params.reset_index(drop=True).copy()
                frame["weight"] = np.asarray(weights) * probabilities[mode]
                extra = pd.DataFrame(
                    [{k: v for k, v in s.items() if k.startswith(("member:", "tech:"))} for s in stats]
                )
                if len(extra) == len(frame):
                    frame = pd.concat([frame, extra.reset_index(drop=True)], axis=1)
                frame.insert(0, "mode", mode)
                frames.append(frame)
            particles = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
            all_w = particles["weight"].to_numpy() if len(particles) else np.ones(1)
            ess = float(all_w.sum() ** 2 / (all_w**2).sum())
            populations = history.get_all_populations()
            return AbcRun(
                seed=seed,
                probabilities=probabilities,
                ess=ess,
                generations=t + 1,
                simulations=int(history.total_nr_simulations),
                epsilon=float(populations["epsilon"].iloc[-1]),
                particles=particles,
            )
    finally:
        sampler.stop()


# --------------------------------------------------------------------------- results


@dataclass
class Inference:
    """What ``nswn infer-priorities`` reports (see :func:`infer`)."""

    modes: pd.DataFrame  # mode, probability (mean over runs), sd, low, high, per-run columns
    membership: pd.DataFrame  # area, probability on the list | concentrated mode, technologies
    technologies: pd.DataFrame  # technology, probability on the list | concentrated mode
    parameters: pd.DataFrame  # mode, parameter, mean, q05, q50, q95
    checks: pd.DataFrame  # statistic, observed, q05, q50, q95, tail probability
    runs: list[AbcRun]
    info: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "info": self.info,
            "modes": self.modes.to_dict(orient="records"),
            "membership": self.membership.to_dict(orient="records"),
            "technologies": self.technologies.to_dict(orient="records"),
            "parameters": self.parameters.to_dict(orient="records"),
            "checks": self.checks.to_dict(orient="records"),
            "runs": [
                {
                    "seed": r.seed,
                    "probabilities": r.probabilities,
                    "ess": r.ess,
                    "generations": r.generations,
                    "simulations": r.simulations,
                    "epsilon": r.epsilon,
                }
                for r in self.runs
            ],
        }

    def write(self, out: Path) -> list[Path]:
        """Write the tables (CSV) and everything (JSON) to ``out``; returns the files written."""
        out.mkdir(parents=True, exist_ok=True)
        files = []
        for name in ("modes", "membership", "technologies", "parameters", "checks"):
            path = out / f"{name}.csv"
            getattr(self, name).to_csv(path, index=False)
            files.append(path)
        path = out / "inference.json"
        path.write_text(json.dumps(self.to_json(), indent=2, default=float), encoding="utf-8")
        files.append(path)
        return files


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    v, w = values[order], weights[order]
    c = np.cumsum(w) / w.sum()
    return float(v[min(np.searchsorted(c, q), len(v) - 1)])


def _membership(runs: list[AbcRun], names: Sequence[str], prefix: str) -> np.ndarray:
    """P(on the list | a concentrated mode), mean over runs (NaN where no run has such particles)."""
    values = []
    for r in runs:
        p = r.particles
        if not len(p):
            continue
        conc = p[p["mode"].isin(CONCENTRATED)]
        if not len(conc) or conc["weight"].sum() <= 0:
            continue
        w = conc["weight"].to_numpy() / conc["weight"].sum()
        values.append([float(w @ conc[f"{prefix}{n}"].fillna(0).to_numpy()) for n in names])
    return np.mean(values, axis=0) if values else np.full(len(names), np.nan)


def posterior_checks(simulator: PanelSimulator, observed: dict, runs: list[AbcRun], n: int, seed: int) -> pd.DataFrame:
    """Posterior predictive checks: fresh simulations from the pooled posterior vs the panel.

    ``tail`` is the two-sided posterior predictive p-value ``2·min(P(sim ≤ obs), P(sim ≥ obs))``.
    """
    pooled = pd.concat([r.particles.assign(weight=r.particles["weight"] / len(runs)) for r in runs if len(r.particles)])
    rng = np.random.default_rng(_derive(seed, 99))
    w = pooled["weight"].to_numpy()
    picks = rng.choice(len(pooled), size=n, p=w / w.sum())
    sims = []
    for i in picks:
        row = pooled.iloc[i]
        params = {k: float(row[k]) for k in ("noise", *PRIORS[row["mode"]])}
        sims.append(simulator(row["mode"], params, np.random.default_rng(rng.integers(2**31))))
    rows = []
    for key in observed:
        if key.startswith("share:"):
            continue
        values = np.array([s[key] for s in sims])
        obs = observed[key]
        tail = 2 * min(np.mean(values <= obs), np.mean(values >= obs))
        rows.append(
            {
                "statistic": key,
                "observed": obs,
                "q05": float(np.quantile(values, 0.05)),
                "q50": float(np.quantile(values, 0.5)),
                "q95": float(np.quantile(values, 0.95)),
                "tail": float(min(tail, 1.0)),
            }
        )
    return pd.DataFrame(rows)


def infer(
    panel: Panel,
    settings: Settings,
    seed: int = 0,
    workers: int = 1,
    progress: Callable[[str], None] | None = None,
) -> Inference:
    """Posterior over priority modes, their parameters and shortlist membership for ``panel``.

    Runs ``settings.repeats`` independent ABC-SMC runs (seeds derived from ``seed``) and pools
    them; the spread across runs is the reported uncertainty of each mode's probability.
    """
    if settings.budget < 2 * settings.population:
        raise ValueError(
            f"--budget = {settings.budget}: too small for {settings.population} particles per generation; "
            f"allowed: at least {2 * settings.population}"
        )
    started, cpu0 = time.perf_counter(), time.process_time()
    simulator = PanelSimulator(panel, firms=settings.firms)
    observed = simulator.summarise(panel.cube())
    runs = []
    for r in range(settings.repeats):
        if progress:
            progress(f"ABC run {r + 1}/{settings.repeats}")
        runs.append(run_abc(simulator, observed, settings, _derive(seed, r + 1), workers))
    table = pd.DataFrame([r.probabilities for r in runs])
    modes = pd.DataFrame(
        {
            "mode": MODES,
            "probability": [float(table[m].mean()) for m in MODES],
            "sd": [float(table[m].std(ddof=1)) if len(runs) > 1 else float("nan") for m in MODES],
            "low": [float(table[m].min()) for m in MODES],
            "high": [float(table[m].max()) for m in MODES],
        }
    )
    for r, run in enumerate(runs):
        modes[f"run{r + 1}"] = [run.probabilities[m] for m in MODES]
    member = _membership(runs, panel.areas, "member:")
    area_techs = [
        " ".join(t for t, w in zip(panel.technology_ids, panel.weights[a], strict=True) if w > 0)
        for a in range(len(panel.areas))
    ]
    membership = pd.DataFrame({"area": panel.areas, "probability": member, "technologies": area_techs})
    tech_p = _membership(runs, panel.technology_ids, "tech:")
    technologies = pd.DataFrame({"technology": panel.technology_ids, "probability": tech_p}).sort_values(
        "probability", ascending=False, kind="stable"
    )
    param_rows = []
    pooled = pd.concat([r.particles for r in runs if len(r.particles)], ignore_index=True)
    for mode in MODES:
        part = pooled[pooled["mode"] == mode] if len(pooled) else pooled
        if not len(part) or part["weight"].sum() <= 0:
            continue
        w = part["weight"].to_numpy()
        for name in ("noise", *PRIORS[mode]):
            v = part[name].to_numpy(dtype=float)
            if name == "k":
                v = np.floor(v)
            param_rows.append(
                {
                    "mode": mode,
                    "parameter": name,
                    "mean": float(w @ v / w.sum()),
                    "q05": _weighted_quantile(v, w, 0.05),
                    "q50": _weighted_quantile(v, w, 0.5),
                    "q95": _weighted_quantile(v, w, 0.95),
                }
            )
    if progress:
        progress("posterior predictive checks")
    checks = posterior_checks(simulator, observed, runs, settings.checks, seed)
    best = modes.loc[modes["probability"].idxmax()]
    info = {
        "panel": str(panel.path),
        "areas": len(panel.areas),
        "years": [panel.years[0], panel.years[-1]],
        "indicators": list(panel.indicators),
        "missing_dropped": panel.missing,
        "judged_areas": list(panel.judged_areas),
        "seed": seed,
        "workers": workers,
        "settings": settings.__dict__,
        "scenario": SCENARIO,
        "simulated_years": [START_YEAR + 1, START_YEAR + simulator.span],
        "most_probable": str(best["mode"]),
        "p_concentrated": float(modes.set_index("mode").loc[list(CONCENTRATED), "probability"].sum()),
        "simulations": int(sum(r.simulations for r in runs) + settings.checks),
        "observed": observed,
        "wall_seconds": time.perf_counter() - started,
        "cpu_seconds_main": time.process_time() - cpu0,
    }
    return Inference(modes, membership, technologies, pd.DataFrame(param_rows), checks, runs, info)
