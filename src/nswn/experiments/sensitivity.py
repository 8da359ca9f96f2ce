"""Global sensitivity of headline outputs to the uncertain assumptions (SALib).

The baseline is run over a Morris (elementary effects) or Sobol (variance-based) sample of
the uncertain assumptions declared in :data:`nswn.experiments.claims.UNCERTAINTIES`; each
output is then analysed with SALib and the assumptions are ranked by their effect
(Morris ``μ*``, Sobol total index ``S_T``).

References
----------
Morris, M. D. (1991). Factorial sampling plans for preliminary computational experiments.
Technometrics 33(2), 161–174. Campolongo, F., Cariboni, J. and Saltelli, A. (2007). An
effective screening design for sensitivity analysis of large models. Saltelli, A. (2002).
Making best use of model evaluations to compute sensitivity indices. Herman, J. and Usher,
W. (2017). SALib. Journal of Open Source Software 2(9), 97.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from nswn.experiments import claims as cl

Method = Literal["morris", "sobol"]


def _median_years_to_parity(tech: pd.DataFrame, macro: pd.DataFrame) -> float:
    ids = tuple(sorted(set(tech.loc[tech["group"] == "stranglehold", "technology_id"])))
    return cl.median_years_to_parity(tech, ids)


def _controlled_share(tech: pd.DataFrame, macro: pd.DataFrame) -> float:
    return cl.mean_at(tech, cl.controlled(tech), "china_domestic_share", 2035)


OUTPUTS: dict[str, tuple[str, Callable[[pd.DataFrame, pd.DataFrame], float]]] = {
    "years_to_parity": ("median years to parity, stranglehold technologies", _median_years_to_parity),
    "manufacturing_share_2035": (
        "manufacturing share of GDP, 2035",
        lambda t, m: cl._macro(m, "manufacturing_share", 2035),
    ),
    "debt_to_gdp_2035": ("debt / GDP, 2035", lambda t, m: cl._macro(m, "debt_to_gdp", 2035)),
    "tfp_growth": ("TFP growth per year, 2025–end", lambda t, m: cl.annual_growth(m, "tfp_index")),
    "controlled_domestic_share_2035": ("Chinese domestic share 2035, controlled technologies", _controlled_share),
}


@dataclass
class SensitivityReport:
    """Indices per output and assumption, ranked."""

    method: str
    table: pd.DataFrame  # output, assumption, index columns, rank
    runs: int
    firms: int
    samples: int


NOISE_RELATIVE = 1e-9  # a spread below this × max(1, |y|) is rounding noise, not a response (judged)
MIN_SOBOL_SAMPLES = 64  # Saltelli's base samples below this give unstable indices (judged; SALib docs use ≥ 1024)
MIN_MORRIS_TRAJECTORIES = 10  # Campolongo et al. (2007) use 10–20 trajectories


def no_variance(y: np.ndarray) -> bool:
    """Whether an output's spread across the sample is at numerical noise relative to its scale.

    Indices of such an output divide noise by noise (a total index of 2.3, say); they are
    reported as "no variance" instead.
    """
    values = np.asarray(y, dtype=float)
    finite = values[np.isfinite(values)]
    if finite.size < 2:
        return True
    spread = float(finite.max() - finite.min())
    return spread <= NOISE_RELATIVE * max(1.0, float(np.abs(finite).max()))


def index_warnings(method: str, table: pd.DataFrame, samples: int | None) -> list[str]:
    """Plain-language doubts about a table of indices: too few samples, indices outside [0, 1]."""
    notes = []
    if method == "sobol":
        if samples is not None and samples < MIN_SOBOL_SAMPLES:
            notes.append(f"only {samples} base samples (fewer than {MIN_SOBOL_SAMPLES}): indices are unreliable")
        for column in ("S1", "ST"):
            if column not in table:
                continue
            conf = table.get(f"{column}_conf", pd.Series(0.0, index=table.index)).fillna(0.0).abs()
            values = table[column]
            outside = (values > 1 + conf) | (values < -conf)
            if outside.any():
                names = ", ".join(str(n) for n in table.loc[outside, table.columns[0]].head(3))
                notes.append(f"{column} outside [0, 1] beyond its confidence interval ({names}): too few samples?")
    elif method == "morris" and samples is not None and samples < MIN_MORRIS_TRAJECTORIES:
        notes.append(f"only {samples} trajectories (fewer than {MIN_MORRIS_TRAJECTORIES}): a rough screening")
    return notes


def quiet_salib() -> Any:
    """A context that keeps SALib's and NumPy's warnings (divide by zero …) from leaking to the user."""
    import contextlib
    import warnings

    stack = contextlib.ExitStack()
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore")
    stack.enter_context(np.errstate(all="ignore"))
    return stack


def analyse_morris(problem: dict[str, Any], x: np.ndarray, y: np.ndarray, levels: int = 4) -> pd.DataFrame:
    """Morris indices (``mu_star``, ``sigma``, ``mu_star_conf``) per variable, via SALib."""
    from SALib.analyze import morris

    with quiet_salib():
        result = morris.analyze(problem, x, y, num_levels=levels, print_to_console=False, seed=1)
    return pd.DataFrame(
        {
            "assumption": problem["names"],
            "mu_star": result["mu_star"],
            "sigma": result["sigma"],
            "mu_star_conf": result["mu_star_conf"],
        }
    )


def analyse_sobol(problem: dict[str, Any], y: np.ndarray) -> pd.DataFrame:
    """First-order and total Sobol indices per variable, via SALib."""
    from SALib.analyze import sobol

    with quiet_salib():
        result = sobol.analyze(problem, y, calc_second_order=False, print_to_console=False, seed=1)
    return pd.DataFrame(
        {"assumption": problem["names"], "S1": result["S1"], "ST": result["ST"], "ST_conf": result["ST_conf"]}
    )


def design(method: Method, samples: int, firms: int, end_year: int, root_seed: int, seeds: int) -> Any:
    from nswn.experiments.design import design_from_dict

    return design_from_dict(
        {
            "name": f"sensitivity-{method}",
            "scenarios": ["baseline"],
            "seeds": seeds,
            "root_seed": root_seed,
            "firms": firms,
            "years": {"end": end_year},
            "uncertainties": {
                "sampler": method,
                "samples": samples,
                "parameters": {p: {"range": list(b)} for p, b in cl.UNCERTAINTIES.items()},
            },
        },
        source="nswn sensitivity",
    )


def run_sensitivity(
    out: str | Path,
    method: Method = "morris",
    samples: int = 10,
    firms: int | None = None,
    end_year: int = 2050,
    seeds: int = 1,
    outputs: tuple[str, ...] | None = None,
    runner: str = "processes",
    workers: int | None = None,
    root_seed: int = 2024,
    progress: Callable[[Any], None] | None = None,
) -> SensitivityReport:
    """Run (or resume) the sample into ``out`` and analyse every output."""
    from nswn.experiments.sweep import sweep
    from nswn.scenario.build import real_population
    from nswn.storage.store import ResultsStore

    firms = firms if firms is not None else real_population()  # the converged default
    chosen = outputs or tuple(OUTPUTS)
    unknown = [o for o in chosen if o not in OUTPUTS]
    if unknown:
        raise ValueError(f"unknown output(s) {unknown}; choose from {', '.join(OUTPUTS)}")
    plan = design(method, samples, firms, end_year, root_seed, seeds)
    store = ResultsStore(out)
    report = sweep(plan, store, runner, workers=workers, progress=progress)
    if report.failures:
        raise RuntimeError(f"{len(report.failures)} runs failed, e.g. {report.failures[0].message}")
    worlds = cl.load_worlds(store, plan)
    block = plan.uncertainties
    problem = block.salib_problem()
    x = np.asarray(block.matrix, dtype=float)
    rows = []
    for name in chosen:
        label, compute = OUTPUTS[name]
        per_point: dict[int, list[float]] = {}
        for (point, _), arms in worlds.items():
            tech, macro = arms["baseline"]
            per_point.setdefault(point, []).append(compute(tech, macro))
        y = np.array([np.nanmean(per_point[i]) for i in range(len(x))], dtype=float)
        if not np.all(np.isfinite(y)):
            y = np.where(np.isfinite(y), y, np.nanmean(y))
        key = "mu_star" if method == "morris" else "ST"
        if no_variance(y):
            frame = pd.DataFrame({"assumption": problem["names"], key: np.nan})
            frame["note"] = "no variance: the output does not respond beyond rounding noise"
        else:
            frame = analyse_morris(problem, x, y) if method == "morris" else analyse_sobol(problem, y)
            frame["note"] = "; ".join(index_warnings(method, frame, samples))
        frame = frame.sort_values(key, ascending=False).reset_index(drop=True)
        frame.insert(0, "output", name)
        frame.insert(1, "output_label", label)
        frame["rank"] = np.arange(1, len(frame) + 1)
        rows.append(frame)
    return SensitivityReport(method, pd.concat(rows, ignore_index=True), report.planned, firms, samples)


def charts(report: SensitivityReport, directory: Path) -> list[Path]:
    """A ranked bar chart per output: PNG (matplotlib, if installed) and HTML (plotly, if installed)."""
    directory.mkdir(parents=True, exist_ok=True)
    key = "mu_star" if report.method == "morris" else "ST"
    written: list[Path] = []
    outputs = list(dict.fromkeys(report.table["output"]))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(outputs), figsize=(4.2 * len(outputs), 5), sharey=False)
        for ax, output in zip(np.atleast_1d(axes), outputs, strict=True):
            rows = report.table[report.table["output"] == output].sort_values(key)
            ax.barh([a.split(".")[-1] for a in rows["assumption"]], rows[key], color="#3b6ea8")
            ax.set_title(rows["output_label"].iloc[0], fontsize=9, wrap=True)
            ax.set_xlabel("μ*" if key == "mu_star" else "total Sobol index")
            ax.tick_params(axis="y", labelsize=7)
        fig.suptitle(f"nswn sensitivity ({report.method}, {report.runs} runs, {report.firms:,} firms)")
        fig.tight_layout()
        png = directory / f"sensitivity_{report.method}.png"
        fig.savefig(png, dpi=110)
        plt.close(fig)
        written.append(png)
    except ImportError:
        pass
    try:
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        fig = make_subplots(
            rows=1,
            cols=len(outputs),
            subplot_titles=[report.table.loc[report.table.output == o, "output_label"].iloc[0] for o in outputs],
        )
        for i, output in enumerate(outputs, start=1):
            rows = report.table[report.table["output"] == output].sort_values(key)
            fig.add_trace(
                go.Bar(
                    x=rows[key],
                    y=[a.split(".")[-1] for a in rows["assumption"]],
                    orientation="h",
                    name=output,
                    showlegend=False,
                ),
                row=1,
                col=i,
            )
        fig.update_layout(
            title=f"nswn sensitivity ({report.method}, {report.runs} runs)", height=520, width=360 * len(outputs)
        )
        html = directory / f"sensitivity_{report.method}.html"
        # a fixed element id: the same report gives the same file (plotly draws a random one otherwise)
        fig.write_html(html, include_plotlyjs=True, full_html=True, div_id=f"sensitivity-{report.method}")
        written.append(html)
    except ImportError:
        pass
    return written
