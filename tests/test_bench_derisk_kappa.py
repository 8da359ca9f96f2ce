"""benchmarks/derisk_kappa.py (docs/derisking.md, the κ_sales table): the scenarios it evaluates
carry the κ_sales asked for, and those at the default keep their name, so their runs are the
search's own (read back from its store, not run again). No model run here."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from nswn.analysis import derisk_space
from nswn.analysis.derisk import Evaluator
from nswn.scenario import io

ROOT = Path(__file__).resolve().parents[1]


def test_scenarios_at_set_kappa_and_keep_the_default_named(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("nswn_bench_derisk_kappa", ROOT / "benchmarks" / "derisk_kappa.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    design = derisk_space.load(ROOT / "designs" / "derisk_example.yaml").quick_version()
    evaluator = Evaluator(design, tmp_path, runner=None)
    items = module.scenarios_at(evaluator, ["baseline", "broad_controls"], [0.5, 1.0], default=0.5)

    assert [key for key, _ in items] == ["k0.5:baseline", "k0.5:broad_controls", "k1:baseline", "k1:broad_controls"]
    kappas = [s.assumptions.environment.controls_block_sales for _, s in items]
    assert kappas == [0.5, 0.5, 1.0, 1.0]
    assert [s.name for _, s in items] == ["baseline", "broad_controls", "baseline_k1", "broad_controls_k1"]
    # at the default the scenario is the one the search evaluates, run for run
    searched = evaluator._sized(io.load("baseline"))
    assert io.scenario_hash(items[0][1]) == io.scenario_hash(searched)
    assert io.scenario_hash(items[2][1]) != io.scenario_hash(searched)
