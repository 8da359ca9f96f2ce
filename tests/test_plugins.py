"""Third-party instruments through the ``nswn.instruments`` entry-point group (docs/instruments.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "plugin"


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plugin built and installed into a private directory (not the venv)."""
    site = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    # copy so the build does not write into the source tree
    subprocess.run(["cp", "-r", str(EXAMPLE), str(build / "plugin")], check=True)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(build / "plugin"),
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.fail(f"pip could not install the example plugin:\n{result.stderr}")
    return site


def _run(code: str, site: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env)


def test_installed_plugin_is_registered_and_runs(plugin_site: Path) -> None:
    out = _run(
        """
        import json
        import numpy as np
        import nswn
        from nswn.instruments import registry
        from nswn.scenario.reference import rows
        assert "innovation_prize" in registry(), list(registry())
        paths = [r["path"] for r in rows()]
        scenario = {
            "base": "baseline",
            "levers": {"instruments": {"basic_research": {"share": 0.35},
                                       "innovation_prize": {"share": 0.10, "winners": 2}}},
        }
        result = nswn.simulate(scenario, seed=0, firms=1000, end_year=2028)
        tech, macro = result.technology_year, result.macro_year
        print(json.dumps({
            "params": [p for p in paths if "innovation_prize" in p],
            "prize": float(tech["funding_innovation_prize"].sum()),
            "budget": float(macro["central_budget"].sum()),
            "imbalance": float(np.abs(macro["ledger_imbalance"]).max()),
        }))
        """,
        plugin_site,
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["params"] == [
        "levers.instruments.innovation_prize.share",
        "levers.instruments.innovation_prize.winners",
    ]
    # the prize line carries its tenth of the central budget, and every yuan is booked
    assert report["prize"] == pytest.approx(0.10 * report["budget"], rel=1e-9)
    assert report["imbalance"] < 1e-6


def test_plugin_parameters_are_validated(plugin_site: Path) -> None:
    out = _run(
        """
        from nswn.scenario.io import ScenarioError, from_dict
        try:
            from_dict({"base": "baseline", "levers": {"instruments": {
                "basic_research": {"share": 0.35}, "innovation_prize": {"share": 0.10, "winners": 500}}}})
        except ScenarioError as exc:
            print(exc)
        else:
            print("accepted")
        """,
        plugin_site,
    )
    assert out.returncode == 0, out.stderr
    assert "levers.instruments.innovation_prize.winners = 500" in out.stdout
    assert "from 1 to 50" in out.stdout


def test_broken_plugin_is_refused(tmp_path: Path) -> None:
    site = tmp_path / "site"
    package = site / "broken_instrument"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("class NotAnInstrument:\n    pass\n")
    dist = site / "broken_instrument-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-instrument\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[nswn.instruments]\nbroken = broken_instrument:NotAnInstrument\n")
    out = _run("from nswn.instruments import registry\nregistry()\n", site)
    assert out.returncode != 0
    assert "entry point 'broken'" in out.stderr
    assert "is not an instrument" in out.stderr
