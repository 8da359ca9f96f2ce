"""The claims as markdown: the verdict table and, per claim, its experiment (docs/claims.md)."""

from __future__ import annotations

from typing import Any

import numpy as np

from nswn.experiments.claims.arms import resolve
from nswn.formatting import number as fmt


def cell(text: str) -> str:
    """Text safe inside a markdown table cell (pipes escaped)."""
    return text.replace("|", "\\|")


def _interval(low: float, high: float) -> str:
    return f"[{fmt(low)}, {fmt(high)}]"


def markdown(report: Any, command: str) -> str:
    """The claims table as markdown (used for docs/claims.md)."""
    s = report.settings
    lines = [
        f"Produced by `{command}`: {s.seeds} paired seeds per arm (knockout arms included) at default "
        f"assumptions, {report.points.shape[0] if not report.points.empty else 0} Latin-hypercube samples of the "
        f"uncertain assumptions × {s.robustness_seeds} seed(s) for the main arms, {s.firms:,} firms, "
        f"2024–{s.end_year}, {int(s.level * 100)} % intervals; {report.runs} runs.",
        "",
        "| claim | arms differ only in | metric (positive = as the brief says) | effect | 90 % interval | verdict | "
        "knockout effect [90 %] | knockout | holds in share of sampled worlds |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for v in report.verdicts:
        c = v.claim
        share = "—" if not np.isfinite(v.robustness) else f"{v.robustness:.0%} of {v.worlds}"
        lines.append(
            f"| **{c.id}** {cell(c.statement)} | {cell(c.mechanism)} | {cell(c.metric)} ({c.unit}) | {fmt(v.effect)} | "
            f"{_interval(v.low, v.high)} | **{v.verdict}** | {fmt(v.knockout_effect)} "
            f"{_interval(v.knockout_low, v.knockout_high)} | {v.knockout} | {share} |"
        )
    return "\n".join(lines) + "\n"


def experiments_markdown(report: Any) -> str:
    """Per claim: the mechanism, the arms (with their overrides), the metric, the knockout and the result."""
    lines: list[str] = []
    for v in report.verdicts:
        c = v.claim
        lines += [
            f"### {c.id}: {c.statement}",
            "",
            f"*Brief:* {c.brief}. *Mechanism:* {c.mechanism}.",
            "",
            f"*Design:* {c.design}. Arms:",
            "",
        ]
        for arm in c.arms:
            base, overrides, _ = resolve(arm)
            lines.append(f"- `{arm}`: {_describe(base, overrides)}")
        lines += [
            "",
            f"*Metric:* {c.metric} ({c.unit}).",
            "",
            f"*Knockout* (`--{c.knockout}` on every arm): {c.knockout_mechanism}.",
            "",
            f"*Result:* effect {fmt(v.effect)} {_interval(v.low, v.high)} over {v.seeds} seeds → **{v.verdict}**; "
            f"knockout {fmt(v.knockout_effect)} {_interval(v.knockout_low, v.knockout_high)} → **{v.knockout}**"
            + (f"; positive in {v.robustness:.0%} of {v.worlds} sampled worlds." if np.isfinite(v.robustness) else "."),
            "",
        ]
        if c.construction:
            lines += [f"*By construction:* {c.construction}.", ""]
        if c.other_channels:
            lines += [f"*Other channels the arms touch* (where a failed knockout points): {c.other_channels}.", ""]
    return "\n".join(lines)


def _describe(base: str, overrides: dict[str, Any]) -> str:
    """``base`` plus the overrides in dotted form (catalog overrides summarised)."""
    if not overrides:
        return f"the shipped scenario `{base}`"
    parts = []
    for section, value in overrides.items():
        if section == "catalog":
            by_value: dict[str, list[str]] = {}
            for tech, attributes in value.items():
                for name, number in attributes.items():
                    by_value.setdefault(f"{name} = {number:g}", []).append(tech)
            parts += [f"catalog {key} for {len(techs)} technologies" for key, techs in by_value.items()]
        else:
            parts += [f"`{path} = {number}`" for path, number in _flatten(value, section)]
    return f"`{base}` with " + "; ".join(parts)


def _flatten(value: Any, prefix: str) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        out: list[tuple[str, Any]] = []
        for key, inner in value.items():
            out += _flatten(inner, f"{prefix}.{key}")
        return out
    return [(prefix, value)]
