"""``nswn calibrate --history`` (called by the ``calibrate`` command of :mod:`claims_commands`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def parse_parameters(text: str | None) -> tuple[tuple[str, ...], tuple[tuple[str, float, float], ...]]:
    """``--parameters``: comma-separated paths, each optionally ``path=low:high`` (a judged range
    for an assumption that has none in :data:`~nswn.experiments.calibrate_history.PRIOR`).

    Raises
    ------
    CalibrationError
        For a malformed entry.
    """
    from nswn.experiments.calibrate_history import PRIOR, CalibrationError

    if text is None:
        return tuple(PRIOR), ()
    paths, ranges = [], []
    for raw in (x.strip() for x in text.split(",")):
        if not raw:
            continue
        path, _, bounds = raw.partition("=")
        path = path.strip()
        if bounds:
            lo, sep, hi = bounds.partition(":")
            try:
                if not sep:
                    raise ValueError
                ranges.append((path, float(lo), float(hi)))
            except ValueError:
                raise CalibrationError(
                    f"--parameters: {raw!r} is malformed; write path or path=low:high (e.g. "
                    "assumptions.markets.cost_weight=1:3)"
                ) from None
        elif path not in PRIOR:
            from nswn.experiments.sampling import parameter

            if parameter(path) is None:
                raise CalibrationError(
                    f"--parameters: unknown parameter {path!r} (not in the scenario schema; `nswn params` lists "
                    f"them); calibrated by default: {', '.join(PRIOR)}"
                )
            raise CalibrationError(
                f"--parameters: {path!r} has no judged range here; give one as {path}=low:high, or choose from "
                f"{', '.join(PRIOR)}"
            )
        if path in paths:
            raise CalibrationError(f"--parameters: {path!r} is listed twice")
        paths.append(path)
    if not paths:
        raise CalibrationError("--parameters: name at least one assumption")
    return tuple(paths), tuple(ranges)


def settings_from_options(
    budget: int | None,
    quick: bool,
    firms: int | None,
    parameters: str | None,
    seed: int,
    population: int | None = None,
) -> Any:
    from nswn.experiments.calibrate_history import CalibrationError, HistorySettings

    paths, ranges = parse_parameters(parameters)
    base = HistorySettings.quick() if quick else HistorySettings()
    changes: dict[str, Any] = {"parameters": paths, "ranges": ranges, "seed": seed}
    if budget is not None:
        changes["budget"] = budget
    if firms is not None:
        changes["firms"] = firms
    if population is not None:
        if population < 2:
            raise CalibrationError(f"--population: {population} is not allowed; give at least 2 particles")
        changes["population"] = population
    from dataclasses import replace

    settings = replace(base, **changes)
    settings.check()
    return settings


def calibrate_history(
    fmt: str,
    budget: int | None,
    quick: bool,
    resume: bool,
    out: Path,
    workers: int | None,
    firms: int | None,
    parameters: str | None,
    seed: int,
    population: int | None = None,
) -> None:
    from nswn.cli import errors, fail, progress_display
    from nswn.experiments import calibrate_history as ch
    from nswn.experiments import calibration_doc
    from nswn.experiments.claims_commands import _message, _user_errors
    from nswn.experiments.runners import default_workers

    try:
        settings = settings_from_options(budget, quick, firms, parameters, seed, population)
    except ch.CalibrationError as exc:
        fail(str(exc))
    command = calibration_doc.command_line(settings, quick)
    resolution = "the whole real firm population" if settings.firms is None else f"{settings.firms:,} agents"
    errors.print(
        f"calibrating {len(settings.parameters)} assumptions against {len(ch.scored_targets(settings, ch.TRAIN))} "
        f"training targets (2006-2018): budget {settings.budget} simulations, {settings.particles()} particles, "
        f"{resolution}" + (" (QUICK: indicative only)" if quick else ""),
        highlight=False,
        soft_wrap=True,
    )
    state: dict[str, Any] = {}
    try:
        with progress_display("calibrate --history", "runs") as bar:

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in state:
                    state[stage] = bar.add_task(stage, total=total)
                bar.update(state[stage], completed=min(done, total), total=total)

            result = ch.run(
                settings,
                out,
                workers=workers or default_workers(),
                resume=resume,
                progress=progress,
                command=command,
            )
    except ch.CalibrationError as exc:
        fail(str(exc))
    except _user_errors() as exc:
        fail(_message(exc))
    if fmt == "markdown":
        print(calibration_doc.markdown(result, command, quick=quick), end="")
        return
    table = ch.parameter_table(result.posterior)
    if fmt == "csv":
        from nswn.analysis.export import emit

        emit(table, "csv")
        return
    if fmt == "json":
        payload = {
            "posterior_id": result.posterior.posterior_id,
            "provenance": result.posterior.provenance,
            "parameters": table.to_dict(orient="records"),
            "coverage": result.coverage_summary(),
            "targets": result.coverage.to_dict(orient="records"),
            "epsilons": result.epsilons,
            "seconds": result.seconds,
        }
        print(json.dumps(payload, indent=2, default=float))
        return
    _print(result, table, quick)


def _print(result: Any, table: Any, quick: bool) -> None:
    from rich.table import Table

    from nswn.cli import console
    from nswn.experiments import calibrate_history as ch

    post = result.posterior
    out = Table(title=f"Calibrated assumptions — {post.describe()}" + (" (QUICK)" if quick else ""))
    for header in ("assumption", "judged prior", "posterior median [90 %]", "identified"):
        out.add_column(header, overflow="fold")
    for row in table.itertuples():
        out.add_row(
            row.parameter,
            f"[{row.prior_low:.3g}, {row.prior_high:.3g}]",
            f"{row.posterior_median:.3g} [{row.posterior_p05:.3g}, {row.posterior_p95:.3g}]",
            (
                "yes"
                if row.identified
                else ("no (posterior ≈ prior)" if row.assessable else "cannot tell (effective sample too small)")
            ),
        )
    console.print(out)
    placebo = post.provenance.get("placebo_width_ratio")
    console.print(
        f"effective sample size {ch.effective_sample_size(post):.1f} of {post.particles} particles"
        + (f"; placebo (inert) 90 % width / prior's: {placebo:.2f}" if placebo is not None else "")
        + (
            f" — below {ch.MIN_ESS:g}: the intervals are not a posterior estimate yet; raise --budget or --population"
            if ch.effective_sample_size(post) < ch.MIN_ESS
            else ""
        ),
        highlight=False,
        soft_wrap=True,
    )
    summary = result.coverage_summary()
    for window in ("train", "test"):
        if window in summary:
            s = summary[window]
            console.print(
                f"{window} window ({int(s['targets'])} targets): observed inside the 90 % predictive band — "
                f"posterior {s['posterior']:.0%}, judged prior {s['prior']:.0%}; band within tolerance of the "
                f"observation — posterior {s['posterior_within_tolerance']:.0%}, "
                f"prior {s['prior_within_tolerance']:.0%}",
                highlight=False,
                soft_wrap=True,
            )
    console.print(
        f"{result.simulations} simulations in {result.seconds:.0f} s; stored in {result.out} "
        f"(posterior {post.posterior_id}; `worlds: calibrated` with `posterior: {result.out}` uses it).",
        highlight=False,
        soft_wrap=True,
    )
