"""The posterior is carried across a code change only when the runs it rests on are identical."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from nswn import provenance
from nswn.experiments import posterior as post_mod
from nswn.experiments import restamp

PATH = "assumptions.markets.capability_weight"


@pytest.fixture
def old_src(tmp_path: Path) -> Path:
    """A copy of the installed package whose model hash differs but whose results do not."""
    src = tmp_path / "src"
    shutil.copytree(provenance.PACKAGE, src / "nswn", ignore=shutil.ignore_patterns("__pycache__"))
    # shipped scenarios are found beside src/ in a source tree (nswn.scenario.io.scenario_dirs)
    shutil.copytree(provenance.PACKAGE.parents[1] / "scenarios", tmp_path / "scenarios")
    model = src / "nswn" / "core" / "model.py"
    model.write_text(model.read_text(encoding="utf-8") + "\n# a comment: new hash, same results\n", encoding="utf-8")
    # code older than this tool has no restamp module: the check must not need one there
    (src / "nswn" / "experiments" / "restamp.py").unlink()
    return src


def small_posterior(made_with: str) -> post_mod.Posterior:
    return post_mod.Posterior(
        parameters=(PATH,),
        values=np.array([[2.0], [3.0]]),
        weights=np.array([0.3, 0.7]),
        prior={PATH: (1.5, 4.5)},
        provenance={"model_hash": made_with, "firms": 200, "end_year": 2009, "scenario": "history"},
    )


@pytest.mark.slow
def test_identical_runs_carry_the_posterior_to_the_installed_model(old_src: Path) -> None:
    old_hash = provenance.hash_model(old_src / "nswn")
    assert old_hash != provenance.model_hash()
    old = small_posterior(old_hash)
    new = restamp.restamp(old, old_src, particles=1, log=lambda _: None)
    assert new.provenance["model_hash"] == provenance.model_hash()
    (stamp,) = new.provenance["restamped"]
    assert stamp["from"] == old_hash and stamp["particles_checked"] == 1
    np.testing.assert_array_equal(new.values, old.values)
    np.testing.assert_array_equal(new.weights, old.weights)
    assert not new.stale()
    page = "x\n\nPosterior `" + old.posterior_id + "`: model hash `" + old_hash + "`, nswn 0.1.0, rest\n"
    text = restamp.rewrite_docs(page, old, new)
    assert f"Posterior `{new.posterior_id}`: model hash `{new.provenance['model_hash']}` (restamped from" in text
    assert text.endswith(", nswn 0.1.0, rest\n")


@pytest.mark.slow
def test_different_results_are_refused(old_src: Path) -> None:
    # the old code started lithography in 2006 at another capability: its runs differ
    vintage = old_src / "nswn" / "catalog" / "vintages" / "2006" / "technologies.csv"
    text = vintage.read_text(encoding="utf-8")
    assert "\nlithography_machines,0.08," in text
    vintage.write_text(text.replace("\nlithography_machines,0.08,", "\nlithography_machines,0.2,"), encoding="utf-8")
    old = small_posterior(provenance.hash_model(old_src / "nswn"))
    with pytest.raises(restamp.RestampError, match="tables differ"):
        restamp.restamp(old, old_src, particles=1, log=lambda _: None)


def test_code_that_did_not_make_the_posterior_is_refused(old_src: Path) -> None:
    old = small_posterior("0" * 16)
    with pytest.raises(restamp.RestampError, match="model hash"):
        restamp.restamp(old, old_src, particles=1, log=lambda _: None)
    with pytest.raises(restamp.RestampError, match="not a src directory"):
        restamp.restamp(old, old_src / "nswn", particles=1, log=lambda _: None)


def test_the_heaviest_particles_come_first() -> None:
    old = small_posterior("0" * 16)
    assert restamp.heaviest(old, 1) == [{PATH: 3.0}]
