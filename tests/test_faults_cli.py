"""Issue 16: one test per kind of fault found by replaying public bug reports (CLI and loader side)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nswn import api
from nswn.cli import app
from nswn.scenario import io

runner = CliRunner()


def _nswn(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "nswn", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=full,
        cwd=cwd,
        timeout=300,
    )


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


# --- terminal encodings -------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
def test_output_degrades_on_any_console_encoding(encoding: str) -> None:
    result = _nswn("catalog", "--lang", "zh", env={"PYTHONIOENCODING": encoding})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "rho" in result.stdout or "ρ" in result.stdout  # cp1252 has no ρ: the ASCII stand-in
    assert "\\u" in result.stdout  # Chinese names escaped, not a crash


# --- markup ------------------------------------------------------------------------------


def test_square_brackets_in_messages_are_printed_as_they_are(tmp_path: Path) -> None:
    design = write(
        tmp_path,
        "d.yaml",
        "scenarios: [baseline]\nseeds: 1\nuncertainties:\n  sampler: latin_hypercube\n  samples: 2\n"
        "  parameters:\n    assumptions.innovation.emulation_rate: {range: [.nan, 0.2]}\n",
    )
    result = runner.invoke(app, ["sweep", str(design), "--dry-run"])
    assert result.exit_code == 2
    assert "[nan, 0.2]" in result.output and "[low, high]" in result.output


# --- duplicate keys, nesting, aliases, size, names, types ----------------------------------


def test_duplicate_keys_are_refused_naming_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.yaml", "firms: 1000\nname: x\nfirms: 2000\n")
    with pytest.raises(io.ScenarioError, match="duplicate key 'firms' on lines 1 and 3"):
        io.load(path)


@pytest.mark.parametrize("depth", [40, 492, 5000])
def test_deep_nesting_is_refused_before_validation(tmp_path: Path, depth: int) -> None:
    path = write(tmp_path, "deep.yaml", "firms: " + "[" * depth + "]" * depth + "\n")
    with pytest.raises(io.ScenarioError, match="nested deeper than|maximum nesting depth"):
        io.load(path)
    with pytest.raises(io.ScenarioError, match="nested deeper than"):
        io.from_dict({"firms": _nested(depth)})


def _nested(depth: int) -> list:  # type: ignore[type-arg]
    value: list = []  # type: ignore[type-arg]
    for _ in range(depth):
        value = [value]
    return value


def test_billion_laughs_is_refused_quickly_and_messages_stay_short(tmp_path: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev, name = chr(96 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    path = write(tmp_path, "laughs.yaml", "\n".join(lines) + "\nfirms: *i\n")
    with pytest.raises(io.ScenarioError, match="expands to more than") as caught:
        io.load(path)
    assert len(str(caught.value)) < 500


def test_any_echoed_value_is_bounded() -> None:
    with pytest.raises(io.ScenarioError) as caught:
        io.from_dict({"firms": ["x" * 100_000] * 1000, "name": "y" * 10_000})
    assert len(str(caught.value)) < 2000


def test_oversized_files_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "big.yaml", "description: '" + "x" * (io.MAX_FILE_BYTES + 10) + "'\n")
    with pytest.raises(io.ScenarioError, match="at most 1,000,000 bytes"):
        io.load(path)


def test_long_names_are_a_clear_error_not_an_oserror(tmp_path: Path) -> None:
    with pytest.raises(io.ScenarioError, match="not a scenario name or file"):
        io.load("x" * 300)
    base = write(tmp_path, "b.yaml", "base: " + "x" * 256 + "\n")
    with pytest.raises(io.ScenarioError, match="not a scenario name or file"):
        io.load(base)


@pytest.mark.parametrize("value", [None, "x", ["a"], 3])
def test_from_dict_refuses_non_mappings_with_a_scenario_error(value: object) -> None:
    with pytest.raises(io.ScenarioError, match="must be a mapping"):
        io.from_dict(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("firms: true\n", "firms"),
        ("firms: ' 5000 '\n", "firms"),
        ("years: {start: 2024, end: '2030'}\n", "years.end"),
        ("levers:\n  central_budget:\n    share_of_gdp: yes\n", "levers.central_budget.share_of_gdp"),
        ("levers:\n  central_budget:\n    share_of_gdp: '0.01'\n", "levers.central_budget.share_of_gdp"),
    ],
)
def test_numeric_fields_refuse_booleans_and_text(tmp_path: Path, text: str, field: str) -> None:
    with pytest.raises(io.ScenarioError) as caught:
        io.load(write(tmp_path, "n.yaml", text))
    assert any(p.path == field for p in caught.value.problems), caught.value


def test_whole_numbers_still_count_as_floats(tmp_path: Path) -> None:
    scenario = io.load(write(tmp_path, "ok.yaml", "levers:\n  central_budget:\n    share_of_gdp: 0\n"))
    assert scenario.levers.central_budget.share_of_gdp == 0.0


# --- CLI habits -----------------------------------------------------------------------------


def test_validate_checks_every_file_and_reports_all(tmp_path: Path) -> None:
    bad1 = write(tmp_path, "bad1.yaml", "firms: 1\n")
    bad2 = write(tmp_path, "bad2.yaml", "firms: [\n")
    result = runner.invoke(app, ["validate", str(bad1), "baseline", str(bad2)])
    assert result.exit_code == 2
    assert "bad1.yaml" in result.output and "bad2.yaml" in result.output
    assert "ok baseline" in result.output
    assert "2 of 3 files invalid" in result.output


def test_version() -> None:
    from nswn import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"nswn {__version__}"


def test_columns_is_honoured_when_piped() -> None:
    result = _nswn("params", env={"COLUMNS": "200"})
    assert result.returncode == 0
    widths = [len(line) for line in result.stdout.splitlines()]
    assert max(widths) > 120 and max(widths) <= 200
    assert "\\|" not in result.stdout


def test_catalog_keeps_the_basis_column() -> None:
    result = _nswn("catalog", env={"COLUMNS": "120"})
    assert result.returncode == 0
    header = next(line for line in result.stdout.splitlines() if " id " in line)
    assert "basis" in header


def test_params_never_breaks_a_parameter_path() -> None:
    from nswn.scenario import reference

    result = _nswn("params", env={"COLUMNS": "100"})
    paths = [row["path"] for row in reference.rows()]
    assert all(path in result.stdout for path in paths)


def test_a_corrupt_store_is_found_before_simulating(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.duckdb").write_bytes(b"not a database" * 100)
    result = runner.invoke(app, ["run", "baseline", "--firms", "200", "--end-year", "2026", "--out", str(out), "-q"])
    assert result.exit_code == 2
    assert "cannot open results database" in result.output


def test_ctrl_c_during_run_says_so_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "simulate", interrupted)
    out = tmp_path / "fresh"
    result = runner.invoke(app, ["run", "baseline", "--out", str(out), "-q"])
    assert result.exit_code == 130
    assert "interrupted" in result.output and "nothing was stored" in result.output
    assert not out.exists()


def test_a_locked_store_gets_the_run_written_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nswn.storage import store as store_module

    out = tmp_path / "out"
    calls = {"n": 0}
    original = store_module.ResultsStore.write

    def locked_once(self: store_module.ResultsStore, result: object) -> None:
        calls["n"] += 1
        if self.directory == out:
            raise store_module.StoreLocked(f"{self.path}: locked by another process")
        original(self, result)

    monkeypatch.setattr(store_module.ResultsStore, "write", locked_once)
    result = runner.invoke(app, ["run", "baseline", "--firms", "200", "--end-year", "2026", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    elsewhere = [p for p in tmp_path.iterdir() if p.name.startswith("out-")]
    assert len(elsewhere) == 1 and (elsewhere[0] / "results.duckdb").is_file()
    assert "stored in" in result.output


def test_a_second_writer_waits_for_the_lock(tmp_path: Path) -> None:
    import duckdb

    from nswn.storage.store import ResultsStore, StoreLocked

    store = ResultsStore(tmp_path / "s")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(store.path)!r}); print('held', flush=True); time.sleep(3)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreLocked):
            store._connect(wait=0.2)
        con = store._connect(wait=30)  # the holder exits after ~3 s: waiting succeeds
        assert isinstance(con, duckdb.DuckDBPyConnection)
        con.close()
    finally:
        holder.wait(timeout=30)


def test_the_summary_never_prints_an_empty_macro_table() -> None:
    import pandas as pd

    from nswn import summary

    frame = pd.DataFrame(
        {
            "year": [1995, 1996, 1997],
            "gdp": 1.0,
            "manufacturing_share": 0.3,
            "debt_to_gdp": 1.0,
            "tfp_index": 1.0,
            "publications": 1.0,
        }
    )
    assert list(summary.macro_table(frame).index) == [1995, 1997]
    with pytest.raises(ValueError, match="no years"):
        summary.macro_table(frame.iloc[:0])


def test_run_ensemble_with_a_mapping_or_a_wrong_type(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="design must be a design file path, a mapping or a loaded Design"):
        api.run_ensemble(42, tmp_path / "o")  # type: ignore[arg-type]
    with pytest.raises(io.ScenarioError, match="seeds"):
        api.run_ensemble({"scenarios": ["baseline"]}, tmp_path / "o")


def test_simulate_takes_lever_overrides() -> None:
    plain = api.simulate("baseline", firms=200, end_year=2026)
    changed = api.simulate("baseline", firms=200, end_year=2026, overrides={"levers.central_budget.share_of_gdp": 0.0})
    assert changed.manifest["scenario_hash"] != plain.manifest["scenario_hash"]
    with pytest.raises(io.ScenarioError, match="share_of_gdp"):
        api.simulate("baseline", firms=200, end_year=2026, overrides={"levers.central_budget.share_of_gdp": True})


def test_compare_reports_progress_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    api.compare("baseline", "baseline", seeds=1, firms=200, end_year=2026, progress=True)
    assert "nswn: 2/2 runs" in capsys.readouterr().err


def test_piped_progress_is_logged() -> None:
    from rich.console import Console

    from nswn.cli import LogProgress

    stream = Console(file=__import__("io").StringIO(), width=100)
    with LogProgress("claims", "runs", stream) as bar:
        task = bar.add_task("", total=3)
        for done in (1, 2, 3):
            bar.update(task, completed=done)
    text = stream.file.getvalue()  # type: ignore[attr-defined]
    assert "claims: 1/3 runs" in text and "claims: 3/3 runs" in text


def test_huge_designs_are_counted_and_refused_at_once(tmp_path: Path) -> None:
    import time

    from nswn.experiments.sampling import parameter, parameter_paths

    paths = [
        p
        for p in parameter_paths()
        if p.startswith("assumptions.")
        and (d := parameter(p))
        and d.kind == "float"
        and d.low is not None
        and d.high is not None
        and d.low < d.high
    ][:74]
    body = "".join(f"    {p}: {{range: [{parameter(p).low}, {parameter(p).high}]}}\n" for p in paths)  # type: ignore[union-attr]
    design = write(
        tmp_path,
        "huge.yaml",
        "scenarios: [baseline]\nseeds: 1\nuncertainties:\n  sampler: sobol\n  samples: 1024\n  second_order: true\n"
        "  parameters:\n" + body,
    )
    started = time.perf_counter()
    dry = runner.invoke(app, ["sweep", str(design), "--dry-run"])
    assert time.perf_counter() - started < 20
    runs = 1024 * (2 * len(paths) + 2)
    assert f"{runs:,} runs" in dry.output and dry.exit_code == 2
    real = runner.invoke(app, ["sweep", str(design), "--out", str(tmp_path / "o")])
    assert real.exit_code == 2 and "CPU-hours" in real.output and "--max-runs" in real.output
