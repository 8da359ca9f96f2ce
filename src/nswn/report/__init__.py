"""The offline HTML report of a results store (see docs/design.md).

``nswn report RESULTS`` writes one self-contained HTML file with plotly.js embedded. The
report reads the store only; it never imports the engine. Heavy libraries (plotly,
jinja2) load when :func:`build_report` runs, not at import.
"""

from __future__ import annotations

from pathlib import Path


def build_report(results: str | Path, out: str | Path | None = None) -> Path:
    """Write the HTML report of ``results``; see :func:`nswn.report.render.build_report`."""
    from nswn.report.render import build_report as build

    return build(results, out)


__all__ = ["build_report"]
