"""A sweep killed with SIGKILL (or stopped with SIGTERM) and run again ends with the tables of an
uninterrupted sweep, and leaves no worker process behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from nswn.experiments.design import load_design
from nswn.experiments.sweep import sweep
from nswn.storage.store import ResultsStore

DESIGN = {
    "name": "resume",
    "scenarios": ["baseline"],
    "seeds": 8,
    "root_seed": 5,
    "firms": 500,
    "years": {"end": 2028},
    "levers": {"parameters": {"levers.priorities.mode": {"values": ["broad", "shortlist"]}}},
}
TOTAL = 16
FIRST_PROGRESS = re.compile(r"^\s+\d+/16 runs")


@pytest.fixture(scope="module")
def design_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("design") / "resume.yaml"
    path.write_text(yaml.safe_dump(DESIGN), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def uninterrupted(design_file: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    out = tmp_path_factory.mktemp("uninterrupted")
    assert sweep(load_design(design_file), out, "serial").complete
    return ResultsStore(out).snapshot()


def start_sweep(design_file: Path, out: Path, runner: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "nswn", "sweep", str(design_file), "--out", str(out), "--runner", runner]
    if runner == "processes":
        command += ["--workers", "2", "--batch", "1"]
    # its own session, so that the kill reaches the worker processes too, as killing a job would
    return subprocess.Popen(
        command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, start_new_session=True
    )


def signal_after_first_stored_run(process: subprocess.Popen[str], delay: float, signum: int, group: bool) -> None:
    """Send ``signum`` to the sweep (or its whole session) ``delay`` s after it reports its first stored run."""
    assert process.stderr is not None
    deadline = time.monotonic() + 120
    lines = []
    for line in process.stderr:
        lines.append(line)
        if FIRST_PROGRESS.match(line):
            break
        assert time.monotonic() < deadline, "".join(lines)
    else:
        pytest.fail("the sweep ended before reporting progress:\n" + "".join(lines))
    time.sleep(delay)
    if group:
        os.killpg(process.pid, signum)
    else:
        os.kill(process.pid, signum)
    process.wait(timeout=180)  # generous: a loaded CI machine is slow, a hang still fails


def session_members(session: int) -> list[str]:
    done = subprocess.run(["ps", "-eo", "pid=,sid="], capture_output=True, text=True, check=True)
    return [pid for pid, sid in (line.split() for line in done.stdout.splitlines()) if int(sid) == session]


@pytest.mark.parametrize(
    ("runner", "signum", "group", "delay"),
    [
        # SIGKILL of the whole job: nothing can clean up; the store must still hold whole runs only
        ("serial", signal.SIGKILL, True, 0.15),
        # SIGKILL of the parent alone: its worker processes must notice and exit by themselves
        ("processes", signal.SIGKILL, False, 0.05),
        # SIGTERM (a batch scheduler's stop): the sweep stops between runs and ends its workers
        ("processes", signal.SIGTERM, False, 0.05),
    ],
    ids=["serial-SIGKILL-job", "processes-SIGKILL-parent", "processes-SIGTERM"],
)
def test_killed_and_resumed_sweep_equals_an_uninterrupted_one(
    design_file: Path,
    uninterrupted: dict[str, pd.DataFrame],
    tmp_path: Path,
    runner: str,
    signum: int,
    group: bool,
    delay: float,
) -> None:
    out = tmp_path / "out"
    process = start_sweep(design_file, out, runner)
    signal_after_first_stored_run(process, delay, signum, group)
    if signum == signal.SIGKILL:
        assert process.returncode == -signal.SIGKILL
    else:
        assert process.returncode == 128 + signum
        assert process.stderr is not None and "resumes" in process.stderr.read()
    deadline = time.monotonic() + 20
    while session_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = session_members(process.pid)
    for pid in left:  # never leave them running, even when the test fails
        os.kill(int(pid), signal.SIGKILL)
    assert left == [], "worker processes outlived the sweep"

    store = ResultsStore(out)
    stored = len(store.finished_run_ids())
    assert 1 <= stored < TOTAL, f"the stop should leave a partial sweep, found {stored} of {TOTAL} runs"
    # each stored run is whole: a run's rows are written with its runs row or not at all
    counts = store.query("SELECT run_id, count(*) AS n FROM macro_year GROUP BY run_id")
    assert len(counts) == stored and counts["n"].eq(5).all()
    assert store.designs()["completed_at"].isna().all()

    resumed = sweep(load_design(design_file), out, "serial")
    assert (resumed.skipped, resumed.completed) == (stored, TOTAL - stored)
    assert resumed.complete

    tables = ResultsStore(out).snapshot()
    assert tables.keys() == uninterrupted.keys()
    for name, frame in uninterrupted.items():
        pd.testing.assert_frame_equal(tables[name], frame, check_exact=True, obj=name)
    assert ResultsStore(out).designs()["completed_at"].notna().all()
