"""Docking: nswn's vectorised firm layer against an idiomatic Mesa 3 reference implementation.

Both implementations run the firm layer — innovation (model.md §6.6), markets (§6.7, logit
shares) and entry and exit (§6.9), with the technology environment (§6.1) — from the same
start state (nswn's ``build_model(to_config(scenario), seed).state``, copied into one Mesa
agent per firm), with the same parameters and the rest of the model held fixed: no
subsidies, usable knowledge and institutions at their start values, no macro feedback.
Their random streams differ (PCG64 streams per mechanism and year in nswn, Python's
Mersenne Twister and a NumPy generator in Mesa), so the comparison is distributional:
for each output, the values of the two implementations over the seeds are compared with
two-sample Kolmogorov–Smirnov and Mann–Whitney tests and their 90 % intervals (5th–95th
percentiles over seeds). An output is ``equivalent`` when both p-values exceed 0.05 and
the intervals overlap, ``different`` otherwise. Because both start every seed from the same
state, a paired test on the per-seed differences (Wilcoxon signed-rank) is also shown: it
is far more sensitive (the start state's variation cancels), and informs, not decides.

Before that, a lockstep check runs the first seed with *shared* random numbers: the Mesa
model's ``random`` and ``rng`` are replaced by a stand-in that serves nswn's own draws
(``core.random.stream``) to the Mesa agents in nswn's row order, and both states are compared
firm by firm after every year. With the same draws the two implementations must agree to
rounding (``lockstep: identical``); any larger difference points to the exact year, firm
attribute or technology quantity that differs.

Throughput — firm-steps (firms alive at the start of a year, summed over years) per second
of the yearly loop, agent creation excluded — is measured for both in the same run, seed by
seed, with and without the time spent recording (nswn's ``Recorder``, Mesa's
``DataCollector``), and reported with the ratio nswn / Mesa. Times are CPU seconds of the
process (``time.process_time``), so that other load on the machine does not count; both
implementations are single-threaded, so on an idle machine they equal wall time.

Run (needs ``mesa>=3.0``: ``.venv/bin/pip install "mesa>=3.0"`` or the ``bench`` extra)::

    .venv/bin/python benchmarks/docking.py                       # 30 seeds, 2000 firms, 2024-2040
    .venv/bin/python benchmarks/docking.py --seeds 3 --firms 100000 --years 2024-2030
    .venv/bin/python benchmarks/docking.py --save docking.csv    # also write per-seed values
    .venv/bin/python benchmarks/docking.py --set innovation.innovation_rate=0   # vary an assumption
    .venv/bin/python benchmarks/docking.py --start-seed 0        # one start state, only the dynamics vary
    .venv/bin/python benchmarks/docking.py --first-seed 1000     # another set of seeds (1000 … 1029)
"""

from __future__ import annotations

import argparse
import copy
import gc
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mesa_reference import FirmLayer  # noqa: E402

from nswn import api  # noqa: E402
from nswn.core.model import Model  # noqa: E402
from nswn.core.random import stream  # noqa: E402
from nswn.core.record import Recorder  # noqa: E402
from nswn.core.state import GROUPS, State  # noqa: E402
from nswn.mechanisms import indicators  # noqa: E402
from nswn.mechanisms.entry_exit import EntryExit  # noqa: E402
from nswn.mechanisms.environment import Environment  # noqa: E402
from nswn.mechanisms.innovation import Innovation  # noqa: E402
from nswn.mechanisms.markets import Markets  # noqa: E402
from nswn.scenario import io  # noqa: E402
from nswn.scenario.build import Config, build_model, to_config  # noqa: E402

RECORDED = ("best_capability", "median_capability", "china_domestic_share", "entries", "exits", "firms")
LEVEL = 0.90
ALPHA = 0.05


def firm_layer(config: Config, state: State, seed: int, end_year: int) -> Model:
    """nswn's firm layer: Environment, Innovation, Markets and EntryExit on ``state``.

    Parameters
    ----------
    config
        The scenario's parameters.
    state
        A start state (changed in place by the run).
    seed
        Run seed (nswn's per-mechanism, per-year streams derive from it).
    end_year
        Last simulated year.

    Returns
    -------
    nswn.core.model.Model
        Ready to ``run()``; its recorder keeps the indicators in ``RECORDED``.
    """
    asm, lv = config.assumptions, config.levers
    mechanisms = [
        Environment(asm["environment"], lv["export_controls"]),
        Innovation(asm["innovation"]),
        Markets(asm["markets"]),
        EntryExit(asm["entry_exit"], lv["patent_reform"], asm["local_behaviour"].pilot_entry_boost),
    ]
    every = indicators.technology_indicators(())
    recorder = Recorder({name: every[name] for name in RECORDED}, {})
    return Model(state, mechanisms, seed=seed, end_year=end_year, recorder=recorder)


def summarise(table: dict[str, np.ndarray], groups: np.ndarray, simulated: np.ndarray) -> dict[str, float]:
    """Scalar outputs of one run from its (year × technology) indicator arrays.

    Capability and share outputs are means over the simulated technologies (all, and per
    group) in the final year; entries and exits are totals over the simulated years.
    """
    final = {name: table[name][-1] for name in ("best_capability", "median_capability", "china_domestic_share")}
    out = {
        "best capability (mean over tech.)": float(np.nanmean(final["best_capability"][simulated])),
        "median capability (mean over tech.)": float(np.nanmean(final["median_capability"][simulated])),
        "China domestic share (mean over tech.)": float(np.nanmean(final["china_domestic_share"][simulated])),
        "entries (total)": float(table["entries"][1:, simulated].sum()),
        "exits (total)": float(table["exits"][1:, simulated].sum()),
        "firms (final)": float(table["firms"][-1].sum()),
    }
    for code, group in enumerate(GROUPS):
        mask = simulated & (groups == code)
        if not mask.any():
            continue
        out[f"  {group}: best"] = float(np.nanmean(final["best_capability"][mask]))
        out[f"  {group}: median"] = float(np.nanmean(final["median_capability"][mask]))
        out[f"  {group}: domestic share"] = float(np.nanmean(final["china_domestic_share"][mask]))
    return out


def nswn_table(model: Model) -> dict[str, np.ndarray]:
    """The nswn recorder's columns as (year × technology) arrays."""
    columns = model.recorder.technology_table()
    n_tech = model.state.n_technologies
    return {name: np.asarray(columns[name], dtype=float).reshape(-1, n_tech) for name in RECORDED}


def mesa_table(model: FirmLayer) -> dict[str, np.ndarray]:
    """The Mesa ``DataCollector``'s model variables as (year × technology) arrays."""
    frame = model.datacollector.get_model_vars_dataframe()
    return {name: np.array(frame[name].tolist(), dtype=float) for name in RECORDED}


def firm_steps(table: dict[str, np.ndarray]) -> float:
    """Firms alive at the start of each simulated year, summed over the years."""
    return float(table["firms"][:-1].sum())


def start_state(config: Config, seed: int) -> State:
    """nswn's start state for ``seed``, with the firm layer's fixed surroundings: no subsidies.

    ``build_model`` books the start year's central and local allocation, so firms start with
    the scenario's subsidies; the firm layer runs without them (the budgets are not part of
    it), so they are set to 0. Everything else (partners, institutions' output, knowledge)
    stays at its start value in both implementations.

    Raises
    ------
    ValueError
        If an agent stands for more than one firm (a super-individual): the Mesa reference has
        no agent weights, so the two would simulate different economies (use
        ``scaled.scenario(..., one_per_firm=True)``).
    """
    state = build_model(config, seed).state
    if np.any(state.firms.weight != 1.0) or np.any(state.technologies.entrant_weight != 1.0):
        raise ValueError(
            f"{len(state.firms):,} agents stand for {state.firms.weight.sum():,.0f} firms: the Mesa reference "
            "needs one agent per firm (scaled.scenario(..., one_per_firm=True))"
        )
    state.firms.subsidy[:] = 0.0
    return state


def run_seed(config: Config, seed: int, start: State | None = None) -> dict[str, Any]:
    """Run both implementations with run seed ``seed``; return outputs and timings.

    Both start from ``start`` (copied) when given, else from the seed's own start state.
    """
    state = start_state(config, seed) if start is None else copy.deepcopy(start)
    groups, simulated = state.technologies.group.copy(), state.technologies.simulated.copy()
    recording = {"nswn": 0.0, "mesa": 0.0}
    t0 = time.process_time()
    reference = FirmLayer(config, state, seed=seed, end_year=config.end_year)  # copies the state
    mesa_setup = time.process_time() - t0
    _time_calls(reference.datacollector, "collect", recording, "mesa")
    t0 = time.process_time()
    reference.run()
    mesa_seconds = time.process_time() - t0

    model = firm_layer(config, state, seed, config.end_year)
    _time_calls(model.recorder, "record", recording, "nswn")
    t0 = time.process_time()
    model.run()
    nswn_seconds = time.process_time() - t0

    tables = {"nswn": nswn_table(model), "mesa": mesa_table(reference)}
    del reference, model
    gc.collect()  # Mesa's agents and model form reference cycles: free them outside the timings
    return {
        "outputs": {name: summarise(table, groups, simulated) for name, table in tables.items()},
        "seconds": {"nswn": nswn_seconds, "mesa": mesa_seconds, "mesa_setup": mesa_setup},
        "recording": recording,
        "firm_steps": {name: firm_steps(table) for name, table in tables.items()},
    }


def _time_calls(owner: Any, method: str, totals: dict[str, float], key: str) -> None:
    """Wrap ``owner.method`` so that its wall time is added to ``totals[key]``."""
    original = getattr(owner, method)

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            totals[key] += time.process_time() - t0

    setattr(owner, method, timed)


class SharedDraws:
    """Stands in for a :class:`FirmLayer`'s ``random`` and ``rng`` for one year, serving nswn's draws.

    nswn draws, per year, one uniform and one normal per firm in row order (firms sorted by
    technology, then by age of entry) from the ``innovation`` stream, and from the
    ``entry_exit`` stream two Poisson vectors, a uniform per entrant (returnee or not), an
    exponential per new firm and a province per new firm. This object hands the same numbers
    to the Mesa model in the order it asks for them: agents are visited in ``AgentSet``
    order, new firms are created technology by technology.

    Parameters
    ----------
    model
        The Mesa model, before its ``step`` for ``year``.
    seed, year
        nswn's run seed and the year about to be simulated.
    """

    def __init__(self, model: FirmLayer, seed: int, year: int) -> None:
        agents = list(model.agents)
        rows = sorted(range(len(agents)), key=lambda i: (agents[i].technology, agents[i].unique_id))
        innovation = stream(seed, "innovation", year)
        u, z = innovation.random(len(agents)), innovation.standard_normal(len(agents))
        visit_u, visit_z = np.empty(len(agents)), np.empty(len(agents))
        visit_u[rows], visit_z[rows] = u, z  # nswn's row r is agents[rows[r]]
        self._u, self._z = list(visit_u[::-1]), list(visit_z[::-1])
        self._entry = stream(seed, "entry_exit", year)
        self._province_p = np.asarray(model.province_weights)
        self._poisson: list[np.ndarray] = []
        self._returnee: list[float] = []
        self._exponential: list[float] = []
        self._province: list[int] = []

    def random(self) -> float:
        """A uniform: the visited firm's innovation draw, then the entrants' returnee draws."""
        return float(self._u.pop() if self._u else self._returnee.pop())

    def gauss(self, mu: float, sigma: float) -> float:
        """The visited firm's normal innovation draw (``mu`` 0, ``sigma`` 1 in the model)."""
        return mu + sigma * float(self._z.pop())

    def poisson(self, lam: Any) -> np.ndarray:
        """Entrants, then spin-offs per technology; after the second call, prepare the new firms' draws."""
        counts = self._entry.poisson(np.asarray(lam, dtype=float))
        self._poisson.append(counts)
        if len(self._poisson) == 2:
            entrants, spinoffs = self._poisson
            n_ent, n_spin = int(entrants.sum()), int(spinoffs.sum())
            returnee = self._entry.random(n_ent)
            exponential = self._entry.exponential(1.0, n_ent + n_spin)
            province = self._entry.choice(len(self._province_p), size=n_ent + n_spin, p=self._province_p)
            # nswn's order: all entrants by technology, then all spin-offs; Mesa's: per technology
            ce, cs = np.cumsum(np.r_[0, entrants]), np.cumsum(np.r_[0, spinoffs]) + n_ent
            order = np.concatenate(
                [np.r_[ce[t] : ce[t + 1], cs[t] : cs[t + 1]] for t in range(len(entrants))] + [np.zeros(0, int)]
            ).astype(int)
            self._returnee = list(returnee[::-1])
            self._exponential = list(exponential[order][::-1])
            self._province = list(province[order][::-1])
        return counts

    def expovariate(self, lambd: float) -> float:
        """A new firm's exponential draw."""
        return float(self._exponential.pop()) / lambd

    def choices(self, population: Any, weights: Any = None) -> list[int]:
        """A new firm's province."""
        return [int(self._province.pop())]


LOCKSTEP_FIRM = ("technology", "province", "founder", "age", "loss_streak", "capability", "share", "exports")
LOCKSTEP_FIRM += ("revenue", "profit", "output", "rd")
LOCKSTEP_TECH = ("foreign_share", "world_share", "china_output", "foreign_output", "best_capability")
LOCKSTEP_TECH += ("china_exports", "entries", "exits", "frontier", "demand")


def lockstep(config: Config, seed: int) -> dict[str, float]:
    """Run both implementations on the same random numbers and compare them every year.

    Returns
    -------
    dict
        Per firm and technology attribute, the largest relative difference
        ``|a − b| / max(1, |a|)`` over all firms (technologies) and years; ``inf`` under
        ``"firm count"`` if the populations differ in size.
    """
    state = start_state(config, seed)
    reference = FirmLayer(config, state, seed=seed, end_year=config.end_year)
    model = firm_layer(config, state, seed, config.end_year)
    worst: dict[str, float] = {"firm count": 0.0}
    while model.state.year < config.end_year:
        shared = SharedDraws(reference, seed, model.state.year + 1)
        reference.random = shared  # type: ignore[assignment]
        reference.rng = shared  # type: ignore[assignment]
        reference.step()
        model.step()
        firms = model.state.firms
        agents = sorted(reference.agents, key=lambda a: (a.technology, a.unique_id))
        if len(agents) != len(firms):
            worst["firm count"] = np.inf
            break
        pairs = [(f"firm {name}", getattr(firms, name), [getattr(a, name) for a in agents]) for name in LOCKSTEP_FIRM]
        pairs += [
            (
                f"technology {name}",
                getattr(model.state.technologies, name),
                [getattr(t, name) for t in reference.technologies],
            )
            for name in LOCKSTEP_TECH
        ]
        for label, ours, theirs in pairs:
            a, b = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
            gap = float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(a)), initial=0.0))
            worst[label] = max(worst.get(label, 0.0), gap)
    return worst


def interval(values: np.ndarray) -> tuple[float, float]:
    """The central ``LEVEL`` interval of ``values`` (percentiles over seeds)."""
    lo, hi = np.quantile(values, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return float(lo), float(hi)


def compare(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    """Two-sample tests and interval overlap of ``a`` (nswn) and ``b`` (Mesa) over seeds."""
    ks = stats.ks_2samp(a, b).pvalue
    mw = stats.mannwhitneyu(a, b, alternative="two-sided").pvalue
    diff = a - b
    paired = stats.wilcoxon(diff).pvalue if np.any(diff != 0) else 1.0
    ia, ib = interval(a), interval(b)
    overlap = max(ia[0], ib[0]) <= min(ia[1], ib[1])
    spread = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    verdict = "equivalent" if ks > ALPHA and mw > ALPHA and overlap else "different"
    return {
        "ks": ks,
        "mw": mw,
        "paired": paired,
        "interval_a": ia,
        "interval_b": ib,
        "overlap": overlap,
        "effect": (a.mean() - b.mean()) / spread if spread > 0 else 0.0,
        "verdict": verdict,
    }


def without_trade_defence(scenario: Any) -> Any:
    """``scenario`` without foreign trade-defence measures (``levers.trade_defence``): the Mesa
    reference does not implement them, so both sides run, and calibrate their start state,
    without them (``baseline`` carries the measures of 2024, docs/model.md §12.4)."""
    data = scenario.model_dump(mode="json")
    data["levers"]["trade_defence"] = {"measures": []}
    return io.validate(data, f"{data['name']} (docked: no trade defence)")


def with_assumptions(scenario: Any, overrides: list[str]) -> Any:
    """``scenario`` with ``assumptions.SECTION.KEY = VALUE`` overrides (YAML values), validated."""
    if not overrides:
        return scenario
    data = scenario.model_dump(mode="json")
    for item in overrides:
        path, _, value = item.partition("=")
        section, key = path.split(".")
        data["assumptions"][section][key] = yaml.safe_load(value)
    return io.validate(data, f"{data['name']} (docking overrides)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30, help="number of seeds, from --first-seed; default 30")
    parser.add_argument("--firms", type=int, default=2000, help="firms at the start; default 2000")
    parser.add_argument("--years", default="2024-2040", help="start-end years; default 2024-2040")
    parser.add_argument("--scenario", default="baseline", help="scenario whose parameters both use")
    parser.add_argument("--save", type=Path, help="write the per-seed outputs to this CSV")
    parser.add_argument("--first-seed", type=int, default=0, help="first seed; default 0")
    parser.add_argument("--no-lockstep", action="store_true", help="skip the shared-draws check")
    parser.add_argument(
        "--start-seed",
        type=int,
        help="start every run from this seed's start state (only the dynamics vary: a sharper test)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override an assumption for both, e.g. innovation.innovation_rate=0 (repeatable)",
    )
    args = parser.parse_args()
    start, end = (int(y) for y in args.years.split("-"))
    # one agent per firm: the Mesa reference has no agent weights, so the population is scaled to
    # the agent count (benchmarks/scaled.py) instead of grouping firms into super-individuals
    sys.path.insert(0, str(Path(__file__).parent))
    import scaled

    scenario = api.with_overrides(
        scaled.scenario(args.firms, args.scenario, one_per_firm=True), start_year=start, end_year=end
    )
    config = to_config(with_assumptions(without_trade_defence(scenario), args.set))
    if config.assumptions["markets"].share_dynamics != "logit":
        sys.exit("the Mesa reference implements the logit share rule only")

    seeds = range(args.first_seed, args.first_seed + args.seeds)
    if not args.no_lockstep:
        worst = lockstep(config, seeds[0])
        largest = max(worst.values())
        print(
            f"lockstep check, seed {seeds[0]}, nswn's random numbers in both: largest relative difference "
            f"{largest:.1e} ({max(worst, key=lambda k: worst[k])}) -> "
            + ("identical (to rounding)" if largest < 1e-9 else "DIFFERENT")
        )
        if largest >= 1e-9:
            for label, gap in sorted(worst.items(), key=lambda kv: -kv[1]):
                print(f"    {label:<28} {gap:.2e}")
    common = None if args.start_seed is None else start_state(config, args.start_seed)
    print(
        f"docking nswn vs Mesa: scenario {args.scenario}, {args.firms:,} firms, {start}-{end}, "
        f"seeds {seeds[0]}-{seeds[-1]}, "
        + ("each from its own start state" if common is None else f"all from the start state of seed {args.start_seed}")
    )
    runs = []
    for seed in seeds:
        run = run_seed(config, seed, common)
        runs.append(run)
        s = run["seconds"]
        print(
            f"  seed {seed:>3}: CPU s nswn {s['nswn']:7.3f}, Mesa {s['mesa']:7.2f} (+{s['mesa_setup']:.2f} agents)",
            flush=True,
        )

    names = list(runs[0]["outputs"]["nswn"])
    values = {
        impl: {name: np.array([r["outputs"][impl][name] for r in runs]) for name in names} for impl in ("nswn", "mesa")
    }
    print()
    print(
        f"{'output (final year unless total)':<42} {'nswn mean':>10} {'Mesa mean':>10} {'nswn 90% int.':>19} "
        f"{'Mesa 90% int.':>19} {'KS p':>6} {'MW p':>6} {'d':>6} {'paired p':>8}  verdict"
    )
    verdicts = {}
    for name in names:
        a, b = values["nswn"][name], values["mesa"][name]
        c = compare(a, b)
        verdicts[name] = c["verdict"]
        ia, ib = c["interval_a"], c["interval_b"]
        print(
            f"{name:<42} {a.mean():>10.4g} {b.mean():>10.4g} {f'[{ia[0]:.4g}, {ia[1]:.4g}]':>19} "
            f"{f'[{ib[0]:.4g}, {ib[1]:.4g}]':>19} {c['ks']:>6.3f} {c['mw']:>6.3f} {c['effect']:>6.2f} "
            f"{c['paired']:>8.3f}  {c['verdict']}"
        )
    n_diff = sum(v == "different" for v in verdicts.values())
    print(
        f"\n{len(names) - n_diff} of {len(names)} outputs equivalent, {n_diff} different "
        f"(verdict: KS and MW p > {ALPHA} and 90 % intervals overlap; d = standardised mean difference; "
        f"paired p = Wilcoxon signed-rank on per-seed differences, informative only, and meaningless with "
        f"--start-seed)"
    )

    steps = {impl: sum(r["firm_steps"][impl] for r in runs) for impl in ("nswn", "mesa")}
    seconds = {impl: sum(r["seconds"][impl] for r in runs) for impl in ("nswn", "mesa")}
    recording = {impl: sum(r["recording"][impl] for r in runs) for impl in ("nswn", "mesa")}
    print(f"\nthroughput, firm-steps per second ({args.seeds} seeds, {args.firms:,} firms at the start):")
    print(f"  {'':<34} {'nswn':>14} {'Mesa':>14} {'nswn/Mesa':>10}")
    for label, minus in (("yearly loop incl. recording", False), ("mechanisms only (no recording)", True)):
        rate = {impl: steps[impl] / (seconds[impl] - (recording[impl] if minus else 0.0)) for impl in ("nswn", "mesa")}
        print(f"  {label:<34} {rate['nswn']:>14,.0f} {rate['mesa']:>14,.0f} {rate['nswn'] / rate['mesa']:>9,.1f}x")
    print(
        f"  (firm-steps: nswn {steps['nswn']:,.0f}, Mesa {steps['mesa']:,.0f}; CPU s: nswn {seconds['nswn']:.2f} "
        f"of which recording {recording['nswn']:.2f}, Mesa {seconds['mesa']:.2f} of which recording "
        f"{recording['mesa']:.2f})"
    )

    if args.save:
        rows = []
        for seed, r in zip(seeds, runs, strict=True):
            for impl in ("nswn", "mesa"):
                row = {"seed": seed, "implementation": impl, "seconds": r["seconds"][impl]}
                row["firm_steps"] = r["firm_steps"][impl]
                row.update({name.strip(): value for name, value in r["outputs"][impl].items()})
                rows.append(row)
        import pandas as pd

        pd.DataFrame(rows).to_csv(args.save, index=False)
        print(f"per-seed values written to {args.save}")


if __name__ == "__main__":
    main()
