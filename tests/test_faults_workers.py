"""Issue 16, worker loss: a pool worker killed mid-sweep costs a retry, not the sweep."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from nswn.experiments import runners
from nswn.experiments.design import design_from_dict
from nswn.experiments.sweep import sweep
from nswn.storage.store import ResultsStore

KILL_FLAG = "NSWN_TEST_KILL_ONCE"


def _run_batch_killing_once(specs: list) -> runners.BatchOutcome:  # type: ignore[type-arg]
    """The first task to see the flag file removes it and kills its own worker process."""
    flag = Path(os.environ[KILL_FLAG])
    try:
        flag.unlink()
    except FileNotFoundError:
        return runners.run_batch(specs)
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


@pytest.mark.slow
def test_a_killed_worker_is_retried_and_the_sweep_completes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flag = tmp_path / "kill-once"
    flag.write_text("")
    monkeypatch.setenv(KILL_FLAG, str(flag))
    monkeypatch.setattr(runners, "run_batch", _run_batch_killing_once)
    design = design_from_dict(
        {"name": "w", "scenarios": ["baseline"], "seeds": 3, "firms": 200, "years": {"end": 2026}}, source="t"
    )
    runner = runners.ProcessRunner(workers=2)
    try:
        report = sweep(design, ResultsStore(tmp_path / "out"), runner, batch_size=1)
    finally:
        runner.close()
    assert not flag.exists()  # a worker really was killed
    assert runner.restarts >= 1
    assert report.complete and report.completed == 3
