"""The mutation list of benchmarks/mutation.py stays current with the code it mutates.

A mutation whose source text does not occur exactly once is *stale*: the harness skips it and
the score silently covers fewer rules (docs/performance.md, "Mutation score"). These tests run
no mutant; they check the stale detector itself and that no listed mutation is stale now, so a
change that moves a mutated line fails here instead of at the next ``make mutation``.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

HARNESS = Path(__file__).resolve().parents[1] / "benchmarks" / "mutation.py"


@pytest.fixture(scope="module")
def harness() -> Iterator[ModuleType]:
    """benchmarks/mutation.py loaded by path: nothing is added to ``sys.path``, and the module is
    registered (its dataclasses need it) under a private name only while these tests run."""
    name = "nswn_bench_mutation"
    spec = importlib.util.spec_from_file_location(name, HARNESS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[name]


def test_stale_detector_flags_missing_and_repeated_text(harness: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\ny = 2\ny = 2\n", encoding="utf-8")
    make = harness.Mutation
    once = make("T1", "a.py", "x = 1", "x = 2", (), "once")
    missing = make("T2", "a.py", "z = 3", "z = 4", (), "missing")
    twice = make("T3", "a.py", "y = 2", "y = 3", (), "twice")
    found = harness.stale_mutations([once, missing, twice], tmp_path)
    assert [(m.id, count) for m, count in found] == [("T2", 0), ("T3", 2)]


def test_every_listed_mutation_is_current_and_changes_the_code(harness: ModuleType) -> None:
    mutations = list(harness.MUTATIONS)
    assert len({m.id for m in mutations}) == len(mutations)
    assert all(m.old != m.new for m in mutations)
    stale = [(m.id, m.path, count) for m, count in harness.stale_mutations(mutations, harness.ROOT)]
    assert stale == [], "rewrite these mutations to the lines that now carry their rules"
    for m in mutations:
        assert m.tests, m.id
        for test in m.tests:
            path, _, function = test.partition("::")
            assert (harness.ROOT / path).is_file(), (m.id, test)
            if function:  # a test node: the function must still exist in that file
                assert f"def {function}(" in (harness.ROOT / path).read_text(encoding="utf-8"), (m.id, test)
