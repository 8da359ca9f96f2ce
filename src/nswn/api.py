"""The façade every shell uses (CLI, service, report): load, simulate, store, read."""

from __future__ import annotations

import datetime as _dt
import hashlib
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from nswn import __version__, provenance
from nswn.mechanisms import indicators
from nswn.scenario import io
from nswn.scenario.build import build_model, catalog_technologies, to_config

ScenarioLike = str | Path | dict[str, Any] | BaseModel


def load_scenario(name_or_path: str | Path) -> BaseModel:
    """Load a shipped scenario by name (``"baseline"``) or a YAML file by path.

    Raises
    ------
    nswn.ScenarioError
        With one message per problem (file, field path, value, allowed range).
    """
    return io.load(name_or_path)


def _as_scenario(scenario: ScenarioLike) -> BaseModel:
    if isinstance(scenario, BaseModel):
        return scenario
    if isinstance(scenario, dict):
        return io.from_dict(scenario)
    return io.load(scenario)


def with_overrides(
    scenario: BaseModel,
    *,
    firms: int | None = None,
    start_year: int | None = None,
    end_year: int | None = None,
) -> BaseModel:
    """A copy of ``scenario`` with run-size overrides, validated like a file."""
    data = scenario.model_dump(mode="json")
    if firms is not None:
        data["firms"] = firms
    if start_year is not None:
        data["years"]["start"] = start_year
    if end_year is not None:
        data["years"]["end"] = end_year
    return io.validate(data, f"{data.get('name', 'scenario')} (command-line overrides)")


def run_id_for(scenario_name: str, scenario_hash: str, seed: int, model: str | None = None) -> str:
    """Deterministic run id: the same scenario (name and content), seed, version and model
    (code and catalog, :func:`nswn.provenance.model_hash`, the default for ``model``) always
    get the same id; two scenarios with equal content but different names do not collide,
    and a run stored by other model code is never taken for this one."""
    code = provenance.model_hash() if model is None else model
    return hashlib.sha256(f"{scenario_name}:{scenario_hash}:{seed}:{__version__}:{code}".encode()).hexdigest()[:16]


def resolution_of(agents: int, floor: int | None = None) -> dict[str, Any]:
    """What an agent budget means for the catalog's real firm population.

    Returns ``resolution`` (share of the real population simulated one agent per firm, at
    most 1), ``agents`` (agents at the start: technologies with few real firms are never
    aggregated, so this can exceed the budget) and ``real_firms`` (the catalog's real
    population of simulated technologies).
    """
    from nswn.mechanisms.initialisation import InitialParams, agent_counts

    tech = catalog_technologies()
    floor = InitialParams().min_firms_per_technology if floor is None else floor
    counts, resolution = agent_counts(tech.firms_real, tech.simulated, agents, floor)
    return {
        "resolution": resolution,
        "agents": int(counts.sum()),
        "real_firms": int(np.round(tech.firms_real[tech.simulated]).sum()),
    }


@dataclass
class Result:
    """The outcome of one run: tidy tables and a manifest.

    Attributes
    ----------
    technology_year
        One row per technology and year (§9 per-technology indicators).
    macro_year
        One row per year (§9 macro indicators).
    manifest
        Run id, scenario name and hash, seed, firms, years, version, timing.
    breakdowns
        Further tidy tables by name: ``province_year`` (one row per province and year: firms,
        SOE firms, subsidies, revenue, exports, R&D in bn CNY) and
        ``technology_ownership_year`` (one row per technology, ownership ``private``/``soe``
        and year). Stored next to the two main tables.
    """

    technology_year: pd.DataFrame
    macro_year: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)
    breakdowns: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def province_year(self) -> pd.DataFrame:
        return self.breakdowns["province_year"]

    @property
    def ownership_year(self) -> pd.DataFrame:
        return self.breakdowns["technology_ownership_year"]

    @property
    def run_id(self) -> str:
        return str(self.manifest["run_id"])


def simulate(
    scenario: ScenarioLike = "baseline",
    seed: int = 0,
    firms: int | None = None,
    *,
    start_year: int | None = None,
    end_year: int | None = None,
    overrides: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Result:
    """Run one scenario with one seed and return its tables.

    Parameters
    ----------
    scenario
        Shipped name, path, mapping, or a scenario from :func:`load_scenario`.
    seed
        Run seed (non-negative); the same scenario, seed and version give identical tables.
    firms
        Override the scenario's number of firms.
    start_year, end_year
        Override the simulated years.
    overrides
        Dotted parameter paths and values, e.g. ``{"levers.priorities.mode": "broad"}``:
        levers and assumptions changed for this run, validated like a scenario file
        (raises :class:`nswn.ScenarioError` naming the path, value and allowed range).
    progress
        Called with each simulated year.
    """
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    loaded = _as_scenario(scenario)
    if overrides:
        from nswn.experiments.design import apply_overrides

        if not isinstance(overrides, dict):
            raise TypeError(f"overrides must be a dict of dotted paths to values, not {type(overrides).__name__}")
        loaded = apply_overrides(loaded, overrides, "overrides")
    if firms is not None or start_year is not None or end_year is not None:
        loaded = with_overrides(loaded, firms=firms, start_year=start_year, end_year=end_year)
    config = to_config(loaded)
    digest = io.scenario_hash(loaded)
    started = time.perf_counter()
    model = build_model(config, seed)
    recorder = model.run(progress)
    wall = time.perf_counter() - started

    tech_columns = recorder.technology_table()
    macro_columns = recorder.macro_table()
    indicators.finalise(tech_columns, macro_columns, config.assumptions["indicators"].parity)
    run_id = run_id_for(loaded.name, digest, seed)  # type: ignore[attr-defined]
    technology_year = pd.DataFrame(tech_columns)
    catalog_info = _catalog_frame()
    groups = technology_year["technology_id"].map(catalog_info["group"])
    # the aggregate traditional sector has no firms: it is reported in macro_year instead
    technology_year = technology_year[groups != "traditional"].reset_index(drop=True)
    technology_year.insert(0, "run_id", run_id)
    technology_year.insert(2, "group", groups[groups != "traditional"].to_numpy())
    macro_year = pd.DataFrame(macro_columns)
    macro_year.insert(0, "run_id", run_id)
    breakdowns = {}
    for name, columns in recorder.breakdown_tables().items():
        frame = pd.DataFrame(columns)
        if "technology_id" in frame.columns:
            tech_groups = frame["technology_id"].map(catalog_info["group"])
            frame = frame[tech_groups != "traditional"].reset_index(drop=True)
            frame.insert(1, "group", tech_groups[tech_groups != "traditional"].to_numpy())
        frame.insert(0, "run_id", run_id)
        breakdowns[name] = frame
    manifest = {
        "run_id": run_id,
        "scenario_name": loaded.name,  # type: ignore[attr-defined]
        "scenario_hash": digest,
        "seed": seed,
        "firms": config.firms,
        **resolution_of(config.firms, config.assumptions["initial"].min_firms_per_technology),
        "institutions": config.institutions,
        "start_year": config.start_year,
        "end_year": config.end_year,
        "package_version": __version__,
        "model_hash": provenance.model_hash(),
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "created_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "wall_seconds": wall,
        "firms_final": int(round(float(model.state.firms.weight.sum()))),
        "scenario_json": loaded.model_dump_json(),
    }
    return Result(technology_year=technology_year, macro_year=macro_year, manifest=manifest, breakdowns=breakdowns)


def _catalog_frame() -> pd.DataFrame:
    from nswn import catalog

    return pd.DataFrame([t.__dict__ for t in catalog.technologies()]).set_index("id")


def _log_progress(total: int) -> Callable[[str, int], None]:
    """A progress callback that prints ``nswn: k/total runs`` lines on stderr."""
    import sys

    started = time.perf_counter()
    done = [0]

    def report(name: str, seed: int) -> None:
        done[0] += 1
        elapsed = time.perf_counter() - started
        left = elapsed / done[0] * (total - done[0])
        print(
            f"nswn: {done[0]}/{total} runs ({name}, seed {seed}); {elapsed:.0f} s, about {left:.0f} s left",
            file=sys.stderr,
            flush=True,
        )

    return report


def open_results(directory: str | Path) -> Any:
    """Open a results directory written by ``nswn run`` (a :class:`ResultsStore`)."""
    from nswn.storage.store import ResultsStore

    return ResultsStore(directory, create=False)


def run_ensemble(
    design: str | Path | dict[str, Any],
    out: str | Path,
    runner: str = "processes",
    workers: int | None = None,
    **options: Any,
) -> Any:
    """Run (or resume) an experiment design (a file, or a mapping like one) into a results directory.

    See docs/ensembles.md. Raises :class:`nswn.ScenarioError` (a ``DesignError``) for an invalid design.
    """
    from nswn.experiments.design import Design, design_from_dict
    from nswn.experiments.sweep import run_ensemble as run

    if isinstance(design, dict):
        design = design_from_dict(design, source="<dict>")
    elif not isinstance(design, str | Path | Design):
        raise TypeError(f"design must be a design file path, a mapping or a loaded Design, not {type(design).__name__}")

    return run(design, out, runner=runner, workers=workers, **options)


def report(
    results: str | Path,
    out: str | Path | None = None,
    arms: list[str] | None = None,
    scenarios: list[str] | None = None,
) -> Path:
    """Write the offline HTML report of a results directory (needs the ``report`` extra).

    ``arms`` / ``scenarios`` draw only those arms (label, key or key prefix) or the arms of
    those scenario names.
    """
    from nswn.report import build_report

    return build_report(results, out, arms=arms, scenarios=scenarios)


def compare(
    scenario_a: ScenarioLike,
    scenario_b: ScenarioLike,
    seeds: int = 5,
    firms: int | None = None,
    end_year: int | None = None,
    level: float = 0.9,
    progress: Callable[[str, int], None] | bool | None = None,
    store: Any = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Run two scenarios on the same seeds (common random numbers) and compare key indicators.

    ``store`` (a :class:`~nswn.storage.store.ResultsStore`, or a directory) also keeps every
    run, so ``nswn report`` and ``nswn export`` can read them.

    Returns
    -------
    table
        One row per key indicator: mean of A, mean of B, paired difference B − A and its
        ``level`` interval over seeds.
    info
        Scenario names, seeds, firms, last year and the controlled technologies used.

    ``progress`` is called with (scenario name, seed) after each run; ``True`` prints a line
    per run on stderr (useful in notebooks and logs: a comparison takes minutes).
    """
    from nswn.analysis import compare as cmp

    if progress is True:
        progress = _log_progress(2 * seeds)
    elif progress is False:
        progress = None

    loaded = [_as_scenario(s) for s in (scenario_a, scenario_b)]
    if firms is not None or end_year is not None:
        loaded = [with_overrides(s, firms=firms, end_year=end_year) for s in loaded]
    if store is not None and not hasattr(store, "write"):
        from nswn.storage.store import ResultsStore

        store = ResultsStore(store)
    runs: list[list[Result]] = [[], []]
    for seed in range(seeds):
        for arm, scenario in enumerate(loaded):
            runs[arm].append(simulate(scenario, seed=seed))
            if store is not None:
                store.write(runs[arm][-1])
            if callable(progress):
                progress(scenario.name, seed)  # type: ignore[attr-defined]
    controlled = cmp.controlled_technologies(*(r.technology_year for arm in runs for r in arm))
    values = [[cmp.key_indicators(r.technology_year, r.macro_year, controlled) for r in arm] for arm in runs]
    table = cmp.paired_table(values[0], values[1], level)
    info = {
        "a": loaded[0].name,
        "b": loaded[1].name,
        "seeds": seeds,  # type: ignore[attr-defined]
        "firms": runs[0][0].manifest["firms"],
        "end_year": runs[0][0].manifest["end_year"],
        "controlled": controlled,
        "level": level,
    }
    return table, info
