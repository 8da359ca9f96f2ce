"""The ``nswn`` command line, end to end (in process with CliRunner, and one real subprocess)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from nswn import catalog, cli
from nswn.cli import app
from nswn.scenario import io

WIDE = {"COLUMNS": "300"}  # rich wraps tables to the terminal width: keep every row on one line
RUN = ["run", "baseline", "--firms", "1000", "--end-year", "2030", "--seed", "1"]
SUMMARY_TITLES = ("Bottlenecks broken", "Stranglehold technologies: relative capability", "Macro")


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps tables to the console width: make it wide enough for one line per row."""
    monkeypatch.setattr(cli.console, "width", 300)
    monkeypatch.setattr(cli.errors, "width", 300)


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env=WIDE)


def bad_scenario(directory: Path) -> Path:
    path = directory / "bad.yaml"
    path.write_text(
        "base: baseline\nfirm: 1000\nlevers:\n  priorities: {mode: everything}\n  central_budget: {share_of_gdp: 2}\n",
        encoding="utf-8",
    )
    return path


def check_store(directory: Path) -> str:
    """The results database has the three tables with the right keys; return the run id."""
    con = duckdb.connect(str(directory / "results.duckdb"), read_only=True)
    try:
        tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert {"runs", "technology_year", "macro_year"} <= tables
        runs = con.execute("SELECT run_id, scenario_name, seed, firms, start_year, end_year FROM runs").fetchall()
        assert len(runs) == 1
        run_id, name, seed, firms, start, end = runs[0]
        assert (name, seed, firms, start, end) == ("baseline", 1, 1000, 2024, 2030)
        total, distinct = con.execute(
            "SELECT count(*), count(DISTINCT (run_id, technology_id, year)) FROM technology_year"
        ).fetchone()
        simulated = sum(t.group != "traditional" for t in catalog.technologies())
        assert total == distinct == simulated * 7
        years = con.execute("SELECT year FROM macro_year WHERE run_id = ? ORDER BY year", [run_id]).fetchall()
        assert [y for (y,) in years] == list(range(2024, 2031))
        orphans = con.execute(
            "SELECT count(*) FROM technology_year WHERE run_id NOT IN (SELECT run_id FROM runs)"
        ).fetchone()[0]
        assert orphans == 0
        return str(run_id)
    finally:
        con.close()


def test_run_prints_the_summary_and_writes_the_store_idempotently(tmp_path: Path) -> None:
    out = tmp_path / "results"
    first = invoke(*RUN, "--out", str(out))
    assert first.exit_code == 0, first.output
    for title in SUMMARY_TITLES:
        assert title in first.stdout
    assert "lithography_machines" in first.stdout
    run_id = check_store(out)
    assert f"run id {run_id}" in first.stdout

    second = invoke(*RUN, "--out", str(out))
    assert second.exit_code == 0, second.output
    assert check_store(out) == run_id  # still one run, same id


def test_quiet_prints_only_the_run_id_and_stores_the_run(tmp_path: Path) -> None:
    out = tmp_path / "quiet"
    result = invoke(*RUN, "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    assert result.stdout == check_store(out) + "\n"  # one line, the stored run's id: no summary, no progress


def test_summary_labels_are_never_cut_at_the_pipe_width(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Piped output is 120 columns wide: group and technology names print whole, not with an ellipsis."""
    monkeypatch.setattr(cli.console, "width", cli.DEFAULT_WIDTH)
    # to 2050: the widest summary, with three "broken by" columns
    args = ["run", "baseline", "--firms", "1000", "--seed", "1", "--out", str(tmp_path / "r")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    assert "competitive_advantage" in result.stdout
    stranglehold = [t.id for t in catalog.technologies() if t.group == "stranglehold"]
    assert max(stranglehold, key=len) in result.stdout


def test_validate_prints_one_line_per_problem_and_exits_2(tmp_path: Path) -> None:
    path = bad_scenario(tmp_path)
    with pytest.raises(io.ScenarioError) as caught:
        io.load(path)
    expected = [str(p) for p in caught.value.problems]
    assert len(expected) == 3

    result = invoke("validate", str(path))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == "error: invalid scenario (3 problems):"
    assert [line.strip() for line in lines[1:]] == expected


def test_validate_accepts_a_good_scenario() -> None:
    result = invoke("validate", "baseline")
    assert result.exit_code == 0, result.output
    assert f"ok baseline: scenario 'baseline', hash {io.scenario_hash(io.load('baseline'))}" in result.stdout


def test_run_of_a_bad_scenario_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "never"
    result = invoke("run", str(bad_scenario(tmp_path)), "--out", str(out))
    assert result.exit_code == 2
    assert "invalid scenario (3 problems)" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "options",
    [["--firms", "5"], ["--end-year", "2020"], ["--seed", "-1"]],
    ids=["too-few-firms", "end-before-start", "negative-seed"],
)
def test_run_with_a_bad_option_exits_2_and_writes_nothing(tmp_path: Path, options: list[str]) -> None:
    out = tmp_path / "never"
    result = invoke("run", "baseline", *options, "--out", str(out))
    assert result.exit_code == 2
    assert not out.exists()


def test_run_of_an_unknown_scenario_name_exits_2(tmp_path: Path) -> None:
    result = invoke("run", "baselin", "--out", str(tmp_path / "never"))
    assert result.exit_code == 2
    assert "did you mean 'baseline'?" in result.stderr


def first_cells(output: str) -> list[str]:
    """The first cell of every table record (continuation lines of a wrapped row have it empty)."""
    cells = [line.split("│")[1].strip() for line in output.splitlines() if line.startswith("│")]
    return [cell for cell in cells if cell]


def test_catalog_lists_the_35_stranglehold_technologies() -> None:
    result = invoke("catalog", "--group", "stranglehold")
    assert result.exit_code == 0, result.output
    assert "nswn catalog: 35 technologies (stranglehold)" in result.stdout
    ids = first_cells(result.stdout)
    assert len(ids) == 35
    assert set(ids) == {t.id for t in catalog.technologies() if t.group == "stranglehold"}


def test_catalog_without_a_group_lists_everything() -> None:
    result = invoke("catalog")
    assert result.exit_code == 0
    assert first_cells(result.stdout) == [t.id for t in catalog.technologies()]


def test_catalog_in_chinese() -> None:
    zh = invoke("catalog", "--group", "stranglehold", "--lang", "zh")
    en = invoke("catalog", "--group", "stranglehold")
    assert zh.exit_code == 0
    assert "光刻机" in zh.stdout and "Lithography" not in zh.stdout
    assert "Lithography" in en.stdout and "光刻机" not in en.stdout


@pytest.mark.parametrize("options", [["--group", "chips"], ["--lang", "fr"]])
def test_catalog_refuses_a_bad_option(options: list[str]) -> None:
    result = invoke("catalog", *options)
    assert result.exit_code == 2
    assert "error:" in result.stderr


def console_script() -> str | None:
    beside = Path(sys.executable).parent / "nswn"
    return str(beside) if beside.is_file() else shutil.which("nswn")


def test_console_script_runs_end_to_end(tmp_path: Path) -> None:
    script = console_script()
    if script is None:
        pytest.skip("the nswn console script is not installed")
    out = tmp_path / "subprocess"
    env = {**os.environ, **WIDE}
    done = subprocess.run([script, *RUN, "--out", str(out)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    for title in SUMMARY_TITLES:
        assert title in done.stdout
    run_id = check_store(out)

    again = subprocess.run([script, *RUN, "--out", str(out)], capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr
    assert check_store(out) == run_id

    bad = subprocess.run(
        [script, "run", str(bad_scenario(tmp_path)), "--out", str(tmp_path / "never")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert bad.returncode == 2
    assert "invalid scenario" in bad.stderr
    assert not (tmp_path / "never").exists()


def test_help_paragraphs_reflow_to_the_console_width() -> None:
    """Docstrings wrapped in the source print as flowing paragraphs, not ragged half-lines."""
    assert cli.reflow_help("One line.\n\nA paragraph\nwrapped in the source.\n\nAnother.") == (
        "One line.\n\nA paragraph wrapped in the source.\n\nAnother."
    )
    result = CliRunner().invoke(app, ["derisk", "--help"], env=WIDE, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "delay to parity on the yard (maximised), foreign sales" in result.stdout
