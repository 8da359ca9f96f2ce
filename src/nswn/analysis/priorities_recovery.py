"""Recovery study for ``nswn infer-priorities``: confusion matrix, calibration, data needs (issue 18).

Method (a reference table, docs/priorities.md §Recovery)
    Running a full ABC-SMC per synthetic panel is too dear for hundreds of panels on two
    cores, so recovery uses rejection ABC on a reference table (Pudlo et al. 2016,
    *Bioinformatics* 32:859 use the same table for model choice): ``n`` model runs per mode
    with parameters drawn from :data:`~nswn.analysis.priorities_inference.PRIORS` (the same
    simulator, observation model and summary statistics as the command). Each run in turn is
    the truth (left out of the table); its summaries are compared with the table's by the
    distance the command uses (MAD-scaled, per-area shares worth three statistics); the
    nearest ``accept`` share of the table gives the posterior mode probabilities. Because
    the observation model (areas, years, noise) is applied after the simulation, one table
    serves every panel design.

Run ``python -m nswn.analysis.priorities_recovery study`` (``make priorities`` does it with
the panels' inference, then ``... doc`` rewrites the generated part of docs/priorities.md).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd

from nswn import catalog
from nswn.analysis import panel as panels
from nswn.analysis import priorities_inference as pi

INDICATORS = ("funding", "publications", "patents")
SPAN = 8
FIRST_YEAR = 2016
K5 = {"k": 5.0, "jitter": 0.0}
# six sectors, the coverage of the real panel (examples/panels/real_public.csv)
SIX = ("semiconductors", "telecom", "energy", "software", "industrial_software", "digital")


@dataclass(frozen=True)
class Design:
    """How a synthetic panel is observed: areas, years, noise σ and indicators."""

    areas: str  # sectors | six | broad50 | technologies
    years: int
    noise: float | None  # None: each run's own σ from the prior
    indicators: tuple[str, ...] = INDICATORS

    @property
    def label(self) -> str:
        sigma = "prior" if self.noise is None else f"{self.noise:g}"
        return f"{self.areas}, {self.years} yr, σ={sigma}, {'+'.join(self.indicators)}"


def template(design: Design, directory: Path) -> panels.Panel:
    """A panel skeleton for ``design`` (values are replaced by simulations)."""
    techs = [t for t in catalog.technologies() if t.group != "traditional"]
    if design.areas == "sectors":
        areas = sorted({t.sector for t in techs})
    elif design.areas == "six":
        areas = list(SIX)
    elif design.areas == "broad50":
        areas = [t.id for t in techs if t.group in ("stranglehold", "bottleneck", "competitive_advantage")]
    else:
        areas = [t.id for t in techs]
    rows = [
        (a, FIRST_YEAR + y, i, 1.0, "template") for a in areas for y in range(design.years) for i in design.indicators
    ]
    path = directory / f"{design.areas}-{design.years}-{'-'.join(design.indicators)}.csv"
    pd.DataFrame(rows, columns=list(panels.REQUIRED)).to_csv(path, index=False)
    return panels.load_panel(path)


def _simulate(args: tuple[str, dict[str, float], int, int]) -> np.ndarray:
    mode, params, seed, firms = args
    with tempfile.TemporaryDirectory() as tmp:
        full = template(Design("technologies", SPAN, None), Path(tmp))
    simulator = pi.PanelSimulator(full, firms=firms)
    series, _ = simulator.technology_series(mode, params, np.random.default_rng(seed))
    return series  # (I, SPAN, T)


@dataclass
class Bank:
    """Technology-level runs: ``series`` ``(R, I, SPAN, T)``, each run's mode and parameters."""

    series: np.ndarray
    modes: list[str]
    params: list[dict[str, float]]
    reference: np.ndarray  # bool (R,): part of the reference table (prior draws)


def build_bank(per_mode: int, extra_k5: int, seed: int, workers: int, firms: int = 1000) -> Bank:
    """``per_mode`` prior draws of every mode, plus ``extra_k5`` runs of a shortlist of 5 (truths only)."""
    rng = np.random.default_rng(seed)
    jobs = []
    reference = []
    for mode in pi.MODES:
        for _ in range(per_mode):
            spec = {"noise": pi.NOISE_PRIOR, **pi.PRIORS[mode]}
            params = {k: float(rng.uniform(lo, hi)) for k, (lo, hi) in spec.items()}
            jobs.append((mode, params, int(rng.integers(2**31 - 1)), firms))
            reference.append(True)
    for _ in range(extra_k5):
        jobs.append(("shortlist", {"noise": 0.3, **K5}, int(rng.integers(2**31 - 1)), firms))
        reference.append(False)
    if workers > 1:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            series = list(pool.map(_simulate, jobs, chunksize=4))
    else:
        series = [_simulate(job) for job in jobs]
    return Bank(np.array(series), [j[0] for j in jobs], [j[1] for j in jobs], np.array(reference))


def design_summaries(bank: Bank, design: Design, seed: int, noise_override: float | None = None) -> pd.DataFrame:
    """Summaries of every bank run observed under ``design`` (one noise draw per run)."""
    with tempfile.TemporaryDirectory() as tmp:
        panel = template(design, Path(tmp))
    simulator = pi.PanelSimulator(panel)
    keep = [INDICATORS.index(i) for i in panel.indicators]
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(len(bank.modes)):
        sigma = bank.params[r]["noise"] if noise_override is None else noise_override
        series = bank.series[r][keep][:, : design.years, :]
        rows.append(simulator.summarise(simulator.observe(series, sigma, rng)))
    return pd.DataFrame(rows)


def mode_posteriors(truth: pd.DataFrame, table: pd.DataFrame, modes: list[str], accept: float) -> np.ndarray:
    """Rejection-ABC mode probabilities ``(n_truth, 5)``; ``table`` rows are prior draws with ``modes``."""
    scale = (table - table.median()).abs().median().replace(0, np.nan)
    scale = scale.fillna((table - table.mean()).abs().mean()).replace(0, 1.0)
    shares = [c for c in table.columns if c.startswith("share:")]
    weight = pd.Series(1.0, index=table.columns)
    if shares:
        weight[shares] = 3.0 / len(shares)
    ref = (table / scale * weight).to_numpy()
    obs = (truth[table.columns] / scale * weight).to_numpy()
    labels = np.array([pi.MODES.index(m) for m in modes])
    n_accept = max(5, int(round(accept * len(table))))
    out = np.zeros((len(obs), len(pi.MODES)))
    for i, row in enumerate(obs):
        d = np.sqrt(((ref - row) ** 2).sum(axis=1))
        if truth.index[i] in table.index:  # leave the truth out of the table
            d[table.index.get_loc(truth.index[i])] = np.inf
        nearest = np.argsort(d, kind="stable")[:n_accept]
        out[i] = np.bincount(labels[nearest], minlength=len(pi.MODES)) / n_accept
    return out


def confusion(probs: np.ndarray, truths: list[str]) -> pd.DataFrame:
    """True mode (rows) × most probable mode (columns), counts."""
    inferred = [pi.MODES[i] for i in probs.argmax(axis=1)]
    table = pd.crosstab(pd.Series(truths, name="true"), pd.Series(inferred, name="inferred"))
    return table.reindex(index=list(pi.MODES), columns=list(pi.MODES), fill_value=0)


def calibration(probs: np.ndarray, truths: list[str], bins: int = 5) -> pd.DataFrame:
    """Reliability of the mode probabilities: per bin of stated probability, the share that was true."""
    stated = probs.ravel()
    hit = np.array([[m == t for m in pi.MODES] for t in truths], dtype=float).ravel()
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(stated, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        sel = which == b
        rows.append(
            {
                "stated": f"{edges[b]:.1f}-{edges[b + 1]:.1f}",
                "n": int(sel.sum()),
                "mean_stated": float(stated[sel].mean()) if sel.any() else math.nan,
                "observed_frequency": float(hit[sel].mean()) if sel.any() else math.nan,
            }
        )
    return pd.DataFrame(rows)


def study(per_mode: int, extra_k5: int, seed: int, workers: int, accept: float) -> dict[str, pd.DataFrame]:
    """Everything the docs report: confusion, calibration, detection of a shortlist of 5 by design."""
    bank = build_bank(per_mode, extra_k5, seed, workers)
    ref = np.flatnonzero(bank.reference)
    ref_modes = [bank.modes[i] for i in ref]
    out: dict[str, pd.DataFrame] = {}
    default = Design("sectors", SPAN, None)
    summ = design_summaries(bank, default, seed + 1)
    table = summ.iloc[ref]
    probs = mode_posteriors(table, table, ref_modes, accept)
    out["confusion"] = confusion(probs, ref_modes)
    out["calibration"] = calibration(probs, ref_modes)
    conc = [pi.MODES.index(m) for m in pi.CONCENTRATED]
    rows = []
    k5 = np.flatnonzero(~bank.reference)
    unconcentrated = [i for i in ref if bank.modes[i] in ("none", "broad")]
    designs = [
        Design(areas, years, noise, indicators)
        for areas in ("six", "sectors", "broad50")
        for years in (1, 8)
        for noise in (0.3, 1.0)
        for indicators in (INDICATORS, ("funding",))
    ]
    for d, design in enumerate(designs):
        # the table keeps its prior noise; the truths are observed at the design's σ
        table = design_summaries(bank, design, seed + 10 + d).iloc[ref]
        truths = design_summaries(bank, design, seed + 500 + d, noise_override=design.noise)
        p_k5 = mode_posteriors(truths.iloc[k5].set_axis(range(-1, -1 - len(k5), -1)), table, ref_modes, accept)
        p_un = mode_posteriors(truths.iloc[unconcentrated], table, ref_modes, accept)
        rows.append(
            {
                "areas": design.areas,
                "years": design.years,
                "noise": design.noise,
                "indicators": "+".join(design.indicators),
                "detected": float((p_k5[:, conc].sum(axis=1) > 0.5).mean()),
                "mean_p_concentrated": float(p_k5[:, conc].sum(axis=1).mean()),
                "false_alarm_none_broad": float((p_un[:, conc].sum(axis=1) > 0.5).mean()),
            }
        )
    out["detection"] = pd.DataFrame(rows)
    out["settings"] = pd.DataFrame(
        [{"per_mode": per_mode, "extra_k5": extra_k5, "seed": seed, "accept": accept, "firms": 1000, "span": SPAN}]
    )
    return out


BEGIN = "<!-- BEGIN GENERATED: make priorities -->"
END = "<!-- END GENERATED -->"


def _md(frame: pd.DataFrame, index: bool = False, digits: int = 2) -> str:
    """A markdown table (numbers rounded to ``digits``)."""
    frame = frame.reset_index() if index else frame
    cells = [[f"{v:.{digits}f}" if isinstance(v, float) else str(v) for v in row] for row in frame.to_numpy()]
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    return "\n".join([header, rule, *("| " + " | ".join(row) + " |" for row in cells)])


def _inference_section(title: str, directory: Path) -> str:
    import json

    path = directory / "inference.json"
    if not path.is_file():
        return f"### {title}\n\n(not run: {path} missing)\n"
    data = json.loads(path.read_text(encoding="utf-8"))
    info = data["info"]
    modes = pd.DataFrame(data["modes"])
    runs = [c for c in modes.columns if c.startswith("run")]
    shown = modes[["mode", "probability", "sd", "low", "high", *runs]]
    parts = [
        f"### {title}",
        "",
        f"Panel `{info['panel']}`: {info['areas']} areas, {info['years'][0]}-{info['years'][1]}, "
        f"{', '.join(info['indicators'])}; {info['missing_dropped']} missing value(s) dropped. "
        f"Settings: {info['settings']['repeats']} ABC-SMC runs stopping at ~{info['settings']['budget']} simulations, "
        f"{info['settings']['population']} particles, ≤ {info['settings']['generations']} generations, "
        f"{info['settings']['firms']} firms, seed {info['seed']}; {info['simulations']} simulations, "
        f"{info['wall_seconds']:.0f} s wall.",
        "",
        _md(shown),
        "",
        f"Most probable mode: **{info['most_probable']}**; P(shortlist or adaptive) = "
        f"**{info['p_concentrated']:.2f}**.",
        "",
    ]
    members = pd.DataFrame(data["membership"]).dropna(subset=["probability"])
    if len(members):
        top = members.sort_values("probability", ascending=False).head(8)[["area", "probability"]]
        parts += ["P(area on the list | shortlist or adaptive):", "", _md(top), ""]
        techs = pd.DataFrame(data["technologies"]).dropna(subset=["probability"]).head(8)
        parts += ["P(technology on the list | shortlist or adaptive), the most probable:", "", _md(techs), ""]
    params = pd.DataFrame(data["parameters"])
    if len(params):
        parts += ["Parameter posteriors (pooled; k floored):", "", _md(params), ""]
    checks = pd.DataFrame(data["checks"])
    if len(checks):
        parts += ["Posterior predictive checks (tail = two-sided predictive p-value):", "", _md(checks), ""]
    return "\n".join(parts)


def render(results: Path) -> str:
    """The generated part of docs/priorities.md from ``make priorities`` outputs under ``results``."""
    parts = [BEGIN, "", "## Results (generated by `make priorities`)", ""]
    for title, name in (
        ("Synthetic panel: shortlist of 5 (truth)", "synthetic_shortlist"),
        ("Synthetic panel: broad (truth)", "synthetic_broad"),
        ("Real panel (examples/panels/real_public.csv)", "real_public"),
    ):
        parts.append(_inference_section(title, results / name))
    recovery = results / "recovery"
    if (recovery / "confusion.csv").is_file():
        settings = pd.read_csv(recovery / "settings.csv").iloc[0]
        conf = pd.read_csv(recovery / "confusion.csv", index_col=0)
        conf.index.name = "true \\ inferred"
        parts += [
            "### Recovery: confusion matrix",
            "",
            f"Reference table of {int(settings['per_mode'])} prior draws per mode (seed {int(settings['seed'])}), "
            f"each left out in turn as the truth; 16 sector areas, 8 years, funding + publications + patents, "
            f"noise σ from its prior; rejection ABC accepting the nearest {settings['accept']:.0%}. Rows: true "
            "mode; columns: most probable inferred mode (counts).",
            "",
            _md(conf, index=True),
            "",
            "Calibration of the stated mode probabilities (all modes pooled):",
            "",
            _md(pd.read_csv(recovery / "calibration.csv")),
            "",
            "### How much data detects a shortlist of 5?",
            "",
            f"{int(settings['extra_k5'])} runs of a shortlist of 5 (the model's rule) observed at each design; "
            "`detected` = share with P(shortlist or adaptive) > 0.5; `false_alarm_none_broad` = the same "
            "share among the table's none and broad runs observed at that design. `broad50` = the 52 "
            "stranglehold, bottleneck and competitive-advantage technologies as areas (the brief's ~50); "
            "`six` = the six sectors the real panel covers; `sectors` = all 16 catalog sectors. The noise "
            "prior ends at σ = 1, so larger noise is outside what the table can judge.",
            "",
            _md(pd.read_csv(recovery / "detection.csv")),
            "",
        ]
    parts.append(END)
    return "\n".join(parts)


def write_doc(results: Path, doc: Path) -> None:
    """Replace the generated block of ``doc`` (between the markers) with :func:`render`."""
    text = doc.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{doc}: no generated block ({BEGIN} ... {END})")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(head + render(results) + tail, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    study_p = sub.add_parser("study", help="run the recovery study")
    study_p.add_argument("--per-mode", type=int, default=40)
    study_p.add_argument("--extra-k5", type=int, default=30)
    study_p.add_argument("--seed", type=int, default=18)
    study_p.add_argument("--workers", type=int, default=2)
    study_p.add_argument("--accept", type=float, default=0.1)
    study_p.add_argument("--out", type=Path, default=Path("nswn-results/priorities/recovery"))
    doc_p = sub.add_parser("doc", help="rewrite the generated block of docs/priorities.md")
    doc_p.add_argument("results", type=Path)
    doc_p.add_argument("doc", type=Path)
    args = parser.parse_args(argv)
    if args.command == "doc":
        write_doc(args.results, args.doc)
        return 0
    results = study(args.per_mode, args.extra_k5, args.seed, args.workers, args.accept)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, frame in results.items():
        frame.to_csv(args.out / f"{name}.csv", index=name == "confusion")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
