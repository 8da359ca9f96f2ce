"""``nswn claims``, ``nswn sensitivity`` and ``nswn calibrate`` (registered by ``nswn.cli``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

FORMATS = ("table", "csv", "json", "markdown")


def _fail(message: str) -> None:
    from nswn.cli import fail

    fail(message)


def _progress_bar(label: str) -> Any:
    """A bar on a terminal; log lines on stderr when piped (``claims --quick`` takes minutes)."""
    from nswn.cli import progress_display

    return progress_display(label, "runs")


def _sweep_progress(bar: Any) -> Any:
    state: dict[str, Any] = {}

    def update(p: Any) -> None:
        if "task" not in state:
            state["task"] = bar.add_task("", total=p.total)
        bar.update(state["task"], completed=p.done, total=p.total)

    return update


def _user_errors() -> tuple[type[BaseException], ...]:
    """Errors that come from the user's input or environment: reported plainly, exit status 2."""
    from nswn.core.model import SimulationError
    from nswn.experiments.runners import RunnerError
    from nswn.experiments.sweep import SweepError
    from nswn.scenario.io import ScenarioError
    from nswn.storage.store import StoreError

    return (ScenarioError, StoreError, RunnerError, SweepError, SimulationError)


def _message(exc: BaseException) -> str:
    problems = getattr(exc, "problems", None)
    return "; ".join(str(p) for p in problems) if problems else str(exc)


def register(app: typer.Typer) -> None:
    """Add the claims, sensitivity and calibration commands to ``app``."""

    @app.command()
    def claims(
        seeds: Annotated[int | None, typer.Option(min=2, max=1000, help="Paired seeds per arm (default 30).")] = None,
        robustness: Annotated[
            int | None,
            typer.Option(
                min=0, max=1000, help="Latin-hypercube samples of the uncertain assumptions (default 20; 0 = none)."
            ),
        ] = None,
        quick: Annotated[bool, typer.Option("--quick", help="Fewer seeds and samples (says so).")] = False,
        firms: Annotated[
            int | None,
            typer.Option(min=100, max=10_000_000, help="Agents per run (default: the whole real firm population)."),
        ] = None,
        only: Annotated[str | None, typer.Option(help="Comma-separated claim ids, e.g. C1,C7b.")] = None,
        runner: Annotated[str, typer.Option(help="serial | processes | dask.")] = "processes",
        workers: Annotated[int | None, typer.Option(min=1, help="Worker processes.")] = None,
        out: Annotated[Path, typer.Option(help="Results directory (runs are reused on a re-run).")] = Path(
            "nswn-claims"
        ),
        fmt: Annotated[str, typer.Option("--format", help="table | csv | json | markdown (to stdout).")] = "table",
        worlds: Annotated[
            str,
            typer.Option(
                help="Robustness worlds: judged (ranges), calibrated (posterior of `nswn calibrate --history`) "
                "or auto (calibrated when the shipped posterior matches the installed model)."
            ),
        ] = "auto",
        posterior: Annotated[
            Path | None, typer.Option(help="Posterior file or results directory for --worlds calibrated.")
        ] = None,
    ) -> None:
        """Test the brief's claims C1–C8 as controlled experiments: effects, knockouts, 90 % intervals, robustness."""
        from nswn.experiments import claims as cl

        if fmt not in FORMATS:
            _fail(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        if runner not in ("serial", "processes", "dask"):
            _fail(f"--runner must be serial, processes or dask, not {runner!r}")
        base = cl.ClaimsSettings.quick() if quick else cl.ClaimsSettings()
        from nswn.cli import errors

        if worlds not in ("auto", "judged", "calibrated"):
            _fail(f"--worlds must be auto, judged or calibrated, not {worlds!r}")
        if posterior is not None and worlds == "judged":
            _fail("--posterior applies to --worlds calibrated (or auto)")
        if worlds == "auto":
            from nswn.experiments.claims.orchestration import default_worlds

            worlds, why = ("calibrated", f"posterior {posterior}") if posterior is not None else default_worlds()
            errors.print(f"robustness worlds: {worlds} ({why})", highlight=False, soft_wrap=True)
        settings = cl.ClaimsSettings(
            seeds=seeds or base.seeds,
            robustness=base.robustness if robustness is None else robustness,
            robustness_seeds=base.robustness_seeds,
            firms=firms if firms is not None else base.firms,
            end_year=base.end_year,
            root_seed=base.root_seed,
            level=base.level,
            worlds=worlds,
            posterior=str(posterior.resolve()) if posterior is not None else "",
        )
        chosen = None
        if only:
            chosen = tuple(x.strip() for x in only.split(",") if x.strip())
            known = cl.claims_by_id()
            bad = [c for c in chosen if c not in known]
            if bad:
                _fail(f"--only: unknown claim id(s) {', '.join(bad)}; known: {', '.join(known)}")

        if quick:
            errors.print(
                f"[yellow]quick mode:[/] {settings.seeds} seeds, {settings.robustness} samples × "
                f"{settings.robustness_seeds} seed, {settings.firms:,} firms — indicative only",
                markup=True,
                highlight=False,
            )
        try:
            with _progress_bar("claims") as bar:
                report = cl.run_claims(
                    settings, out, runner=runner, workers=workers, claim_ids=chosen, progress=_sweep_progress(bar)
                )
        except _user_errors() as exc:
            _fail(_message(exc))
        command = (
            "nswn claims"
            + (" --quick" if quick else "")
            + (f" --seeds {seeds}" if seeds else "")
            + (f" --robustness {robustness}" if robustness is not None else "")
        )
        discovery = _discovery(report, out)
        if fmt == "json":
            payload = {
                "settings": report.settings.__dict__,
                "quick": quick,
                "runs": report.runs,
                "claims": report.table().to_dict(orient="records"),
                "discovery": {k: v for k, v in discovery.items()},
            }
            print(json.dumps(payload, indent=2, default=float))
            return
        if fmt == "csv":
            from nswn.analysis.export import emit

            emit(report.table(), "csv")
            return
        if fmt == "markdown":
            if quick:
                print("> Quick mode: fewer seeds and samples; indicative only.\n")
            print(cl.markdown(report, command), end="")
            return
        _print_claims_table(report, quick)
        _print_discovery(discovery)

    @app.command()
    def sensitivity(
        method: Annotated[str, typer.Option(help="morris | sobol.")] = "morris",
        samples: Annotated[
            int | None, typer.Option(min=2, help="Morris trajectories or Sobol base samples (default 10 / 64).")
        ] = None,
        outputs: Annotated[str | None, typer.Option(help="Comma-separated outputs (default all).")] = None,
        firms: Annotated[
            int | None, typer.Option(min=100, max=10_000_000, help="Agents per run (default: the real population).")
        ] = None,
        quick: Annotated[bool, typer.Option("--quick", help="4 trajectories.")] = False,
        runner: Annotated[str, typer.Option(help="serial | processes | dask.")] = "processes",
        workers: Annotated[int | None, typer.Option(min=1)] = None,
        out: Annotated[Path, typer.Option(help="Results directory; charts go to OUT/charts.")] = Path(
            "nswn-sensitivity"
        ),
        fmt: Annotated[str, typer.Option("--format", help="table | csv | json | markdown (to stdout).")] = "table",
    ) -> None:
        """Rank the uncertain assumptions by their effect on headline outputs (SALib)."""
        from nswn.experiments import sensitivity as sa

        if method not in ("morris", "sobol"):
            _fail(f"--method must be morris or sobol, not {method!r}")
        if fmt not in FORMATS:
            _fail(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        chosen = tuple(o.strip() for o in outputs.split(",")) if outputs else None
        if chosen:
            bad = [o for o in chosen if o not in sa.OUTPUTS]
            if bad:
                _fail(f"--outputs: unknown {', '.join(bad)}; choose from {', '.join(sa.OUTPUTS)}")
        n = samples or (4 if quick else (10 if method == "morris" else 64))
        from nswn.scenario.build import real_population

        size = firms if firms is not None else real_population()
        if runner not in ("serial", "processes", "dask"):
            _fail(f"--runner must be serial, processes or dask, not {runner!r}")
        try:
            with _progress_bar("sensitivity") as bar:
                report = sa.run_sensitivity(
                    out,
                    method=method,  # type: ignore[arg-type]
                    samples=n,
                    firms=size,
                    outputs=chosen,
                    runner=runner,
                    workers=workers,
                    progress=_sweep_progress(bar),
                )
        except _user_errors() as exc:
            _fail(_message(exc))
        written = sa.charts(report, Path(out) / "charts")
        report.table.to_csv(Path(out) / f"sensitivity_{method}.csv", index=False)
        if fmt == "json":
            print(report.table.to_json(orient="records", indent=2))
            return
        if fmt == "csv":
            from nswn.analysis.export import emit

            emit(report.table, "csv")
            return
        if fmt == "markdown":
            print(sensitivity_markdown(report), end="")
            return
        _print_sensitivity(report)
        from nswn.cli import console

        for path in written:
            console.print(f"chart: {path}", highlight=False)

    @app.command()
    def calibrate(
        seeds: Annotated[int, typer.Option(min=1, max=200, help="Seeds for the bands (--targets).")] = 10,
        firms: Annotated[
            int | None,
            typer.Option(
                min=100,
                max=10_000_000,
                help="Agents per run (default: the real population; --history at fewer states the coarser resolution).",
            ),
        ] = None,
        fmt: Annotated[str, typer.Option("--format", help="table | csv | json | markdown (to stdout).")] = "table",
        targets: Annotated[
            bool, typer.Option("--targets", help="The present-day target table of model.md §11 (the default).")
        ] = False,
        history: Annotated[
            bool,
            typer.Option("--history", help="Infer judged assumptions from 2006-2018 (ABC-SMC); check 2019-2024."),
        ] = False,
        budget: Annotated[int | None, typer.Option(help="--history: total simulations (default 3000).")] = None,
        quick: Annotated[bool, typer.Option("--quick", help="--history: a few minutes at 2 000 agents.")] = False,
        resume: Annotated[bool, typer.Option("--resume", help="--history: continue the calibration in --out.")] = False,
        out: Annotated[Path, typer.Option(help="--history: results directory.")] = Path("nswn-calibration"),
        workers: Annotated[int | None, typer.Option(min=1, help="--history: worker processes.")] = None,
        parameters: Annotated[
            str | None,
            typer.Option(help="--history: comma-separated assumptions (default: all of docs/calibration.md)."),
        ] = None,
        seed: Annotated[int, typer.Option(min=0, help="--history: root seed.")] = 2024,
        population: Annotated[
            int | None, typer.Option(help="--history: particles per generation (default: budget/10, 10 to 100).")
        ] = None,
    ) -> None:
        """Calibration: the present-day target table (--targets, default) or inference from history (--history)."""
        if targets and history:
            _fail("choose either --targets (the present-day target table) or --history (inference), not both")
        if fmt not in FORMATS:
            _fail(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        if history:
            from nswn.experiments.calibrate_history_commands import calibrate_history

            calibrate_history(
                fmt=fmt,
                budget=budget,
                quick=quick,
                resume=resume,
                out=out,
                workers=workers,
                firms=firms,
                parameters=parameters,
                seed=seed,
                population=population,
            )
            return
        if any(v for v in (budget is not None, quick, resume, parameters is not None, population is not None)):
            _fail("--budget, --quick, --resume, --parameters and --population apply to --history only")
        from nswn.experiments.calibration import calibrate as run
        from nswn.scenario.build import real_population

        firms = firms if firms is not None else real_population()
        try:
            with _progress_bar("calibrate") as bar:
                task = bar.add_task("", total=seeds * 2)
                table = run(seeds=seeds, firms=firms, progress=lambda s, i: bar.update(task, advance=1))
        except _user_errors() as exc:
            _fail(_message(exc))
        if fmt == "json":
            print(table.to_json(orient="records", indent=2))
        elif fmt == "csv":
            from nswn.analysis.export import emit

            emit(table, "csv")
        elif fmt == "markdown":
            print(calibration_markdown(table, seeds, firms), end="")
        else:
            _print_calibration(table, seeds, firms)


# ---------------------------------------------------------------------------------------


def _discovery(report: Any, out: Path) -> dict[str, Any]:
    from nswn.experiments import claims as cl

    found: dict[str, Any] = {}
    rows = []
    for verdict in report.verdicts:
        if not (0 < verdict.robustness < 1):
            continue
        result = cl.discover(report, verdict.claim.id)
        if result is None:
            continue
        box, limits = result
        found[verdict.claim.id] = {
            "coverage": box.coverage,
            "density": box.density,
            "mass": box.mass,
            "limits": {k: list(v) for k, v in box.limits.items()},
        }
        for row in limits.to_dict(orient="records"):
            rows.append({"claim": verdict.claim.id, "coverage": box.coverage, "density": box.density, **row})
    if rows:
        import pandas as pd

        pd.DataFrame(rows).to_csv(Path(out) / "discovery.csv", index=False)
    return found


def _print_claims_table(report: Any, quick: bool) -> None:
    from rich.table import Table
    from rich.text import Text

    from nswn.cli import console
    from nswn.experiments.claims import fmt

    s = report.settings
    title = (
        f"The brief's claims: {s.seeds} paired seeds, {s.firms:,} firms, 90 % intervals; robustness over "
        f"{report.points.shape[0] if not report.points.empty else 0} sampled {s.worlds} worlds"
        + (" (QUICK)" if quick else "")
    )
    table = Table(title=title, show_lines=True)
    for header in ("claim", "arms differ only in / metric", "effect", "90 % interval", "verdict", "knockout", "robust"):
        table.add_column(header, overflow="fold")
    colour = {"holds": "green", "does not hold": "red", "inconclusive": "yellow", "by construction": "blue"}
    for v in report.verdicts:
        c = v.claim
        share = "—" if v.robustness != v.robustness else f"{v.robustness:.0%} of {v.worlds}"
        table.add_row(
            Text.assemble((c.id, "bold"), f" {c.statement}"),
            f"{c.mechanism}; {c.metric} ({c.unit})",
            fmt(v.effect),
            f"[{fmt(v.low)}, {fmt(v.high)}]",
            Text(v.verdict, style=colour[v.verdict]),
            f"{v.knockout}: {fmt(v.knockout_effect)} [{fmt(v.knockout_low)}, {fmt(v.knockout_high)}]",
            share,
        )
    console.print(table)


def _print_discovery(discovery: dict[str, Any]) -> None:
    from nswn.cli import console

    if not discovery:
        return
    console.print("\n[bold]Where claims fail[/] (PRIM boxes over the sampled assumptions):", markup=True)
    for claim, box in discovery.items():
        limits = "; ".join(f"{k.split('.')[-1]} in [{lo:.3g}, {hi:.3g}]" for k, (lo, hi) in box["limits"].items())
        console.print(
            f"  {claim}: fails mostly when {limits or 'anywhere (no narrower box)'} — coverage "
            f"{box['coverage']:.0%}, density {box['density']:.0%}",
            highlight=False,
        )


def _print_sensitivity(report: Any) -> None:
    from rich.table import Table

    from nswn.cli import console

    key = "mu_star" if report.method == "morris" else "ST"
    for _, rows in report.table.groupby("output", sort=False):
        table = Table(title=f"{rows['output_label'].iloc[0]} — {report.method}, {report.runs} runs")
        table.add_column("rank", justify="right")
        table.add_column("assumption")
        table.add_column("μ*" if key == "mu_star" else "S_T", justify="right")
        table.add_column("σ" if key == "mu_star" else "S_1", justify="right")
        for row in rows.itertuples():
            table.add_row(
                str(row.rank),
                row.assumption,
                f"{getattr(row, key):.4g}",
                f"{(row.sigma if key == 'mu_star' else row.S1):.4g}",
            )
        console.print(table)


def sensitivity_markdown(report: Any) -> str:
    key = "mu_star" if report.method == "morris" else "ST"
    lines = [
        f"{report.method.capitalize()} screening of the baseline over {len(report.table.assumption.unique())} "
        f"uncertain assumptions: {report.samples} trajectories/samples, {report.runs} runs, {report.firms:,} "
        f"firms. Ranked by {'μ*' if key == 'mu_star' else 'total index S_T'} (top 5 per output).",
        "",
        "| output | 1st | 2nd | 3rd | 4th | 5th |",
        "|---|---|---|---|---|---|",
    ]
    for _, rows in report.table.groupby("output", sort=False):
        top = [f"{a.split('.')[-1]} ({v:.3g})" for a, v in zip(rows["assumption"][:5], rows[key][:5], strict=True)]
        lines.append(f"| {rows['output_label'].iloc[0]} | " + " | ".join(top) + " |")
    return "\n".join(lines) + "\n"


def _print_calibration(table: Any, seeds: int, firms: int) -> None:
    from rich.table import Table
    from rich.text import Text

    from nswn.cli import console

    out = Table(
        title=f"Calibration targets (model.md §11): model bands over {seeds} seeds, {firms:,} firms", show_lines=True
    )
    for header in ("target", "observed", "model 5–50–95 %", "miss", "ok", "source / note"):
        out.add_column(header, overflow="fold")
    for row in table.itertuples():
        out.add_row(
            f"{row.target} [{row.scenario}]",
            f"{row.observed:g} {row.unit}",
            f"{row.model_p5:.3g} – {row.model_median:.3g} – {row.model_p95:.3g}",
            f"{row.miss:+.3g}",
            Text("yes", style="green") if row.within_tolerance else Text("MISS", style="red"),
            f"{row.source}. {row.note}",
        )
    console.print(out)


def calibration_markdown(table: Any, seeds: int, firms: int) -> str:
    lines = [
        f"Baseline bands over {seeds} seeds, {firms:,} firms (no parameter is fitted).",
        "",
        "| target | observed | model median [5 %, 95 %] | miss | within tolerance | source | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        lines.append(
            f"| {row.target} (`{row.scenario}`) | {row.observed:g} {row.unit} | {row.model_median:.3g} "
            f"[{row.model_p5:.3g}, {row.model_p95:.3g}] | {row.miss:+.3g} | "
            f"{'yes' if row.within_tolerance else '**no**'} (±{row.tolerance:g}) | {row.source} | {row.note} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use the nswn command")
