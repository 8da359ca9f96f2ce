"""DuckDB results store.

Tables: ``runs`` (one row per run: id, scenario name and hash, seed, version, created at,
wall seconds …), ``technology_year`` (keyed by ``run_id, technology_id, year``) and
``macro_year`` (keyed by ``run_id, year``). A run is written in one transaction: a process
killed mid-way leaves either the whole run or none of it. Writing a run id that is already
stored replaces it (same scenario, seed and version ⇒ same id ⇒ same rows).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

DATABASE = "results.duckdb"

RUN_COLUMNS = {
    "run_id": "VARCHAR PRIMARY KEY",
    "scenario_name": "VARCHAR",
    "scenario_hash": "VARCHAR",
    "seed": "BIGINT",
    "firms": "BIGINT",
    "institutions": "BIGINT",
    "start_year": "INTEGER",
    "end_year": "INTEGER",
    "package_version": "VARCHAR",
    "numpy_version": "VARCHAR",
    "python_version": "VARCHAR",
    "created_at": "VARCHAR",
    "wall_seconds": "DOUBLE",
    "firms_final": "BIGINT",
    "scenario_json": "VARCHAR",
}


class StoreError(RuntimeError):
    """The results directory cannot be used."""


class ResultsStore:
    """A results directory holding ``results.duckdb``."""

    def __init__(self, directory: str | Path, create: bool = True) -> None:
        self.directory = Path(directory)
        self.path = self.directory / DATABASE
        if not create and not self.path.is_file():
            raise StoreError(f"{self.path}: no results database here (run `nswn run --out {self.directory}`)")
        if create:
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{self.directory}: cannot create results directory: {exc.strerror}") from None

    def _connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        try:
            return duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(f"{self.path}: cannot open results database: {exc}") from None

    def write(self, result: Any) -> None:
        """Write one run (manifest + both tables) in a single transaction."""
        runs = pd.DataFrame([{key: result.manifest.get(key) for key in RUN_COLUMNS}])
        tech = result.technology_year
        macro = result.macro_year
        con = self._connect()
        try:
            con.execute("BEGIN TRANSACTION")
            con.execute(
                "CREATE TABLE IF NOT EXISTS runs (" + ", ".join(f"{k} {v}" for k, v in RUN_COLUMNS.items()) + ")"
            )
            con.register("tech_frame", tech)
            con.register("macro_frame", macro)
            con.execute("CREATE TABLE IF NOT EXISTS technology_year AS SELECT * FROM tech_frame WHERE false")
            con.execute("CREATE TABLE IF NOT EXISTS macro_year AS SELECT * FROM macro_frame WHERE false")
            run_id = result.manifest["run_id"]
            for table in ("technology_year", "macro_year", "runs"):
                con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
            con.register("runs_frame", runs)
            con.execute("INSERT INTO runs SELECT * FROM runs_frame")
            con.execute("INSERT INTO technology_year BY NAME SELECT * FROM tech_frame")
            con.execute("INSERT INTO macro_year BY NAME SELECT * FROM macro_frame")
            con.execute("COMMIT")
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:
                pass
            raise
        finally:
            con.close()

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run a read-only SQL query and return a DataFrame."""
        con = self._connect(read_only=True)
        try:
            return con.execute(sql, params or []).df()
        finally:
            con.close()

    def runs(self) -> pd.DataFrame:
        return self.query("SELECT * FROM runs ORDER BY created_at")

    def technology_year(self, run_id: str | None = None) -> pd.DataFrame:
        if run_id is None:
            return self.query("SELECT * FROM technology_year ORDER BY run_id, year, technology_id")
        return self.query("SELECT * FROM technology_year WHERE run_id = ? ORDER BY year, technology_id", [run_id])

    def macro_year(self, run_id: str | None = None) -> pd.DataFrame:
        if run_id is None:
            return self.query("SELECT * FROM macro_year ORDER BY run_id, year")
        return self.query("SELECT * FROM macro_year WHERE run_id = ? ORDER BY year", [run_id])
