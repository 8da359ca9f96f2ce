"""DuckDB results store.

Tables: ``runs`` (one row per run: id, scenario name and hash, seed, version, created at,
wall seconds …), ``technology_year`` (keyed by ``run_id, technology_id, year``),
``macro_year`` (keyed by ``run_id, year``), ``province_year`` (keyed by ``run_id,
province_id, year``) and ``technology_ownership_year`` (keyed by ``run_id, technology_id,
ownership, year``). A run — or a batch of runs of a sweep — is written in one transaction: a
process killed mid-way leaves either the whole batch or none of it. Writing a run id that is
already stored replaces it (same scenario, seed and version ⇒ same id ⇒ same rows).

Ensembles (``nswn sweep``) add two tables: ``design_runs`` (the plan: which run is which arm,
replicate and sampled point of a design; written before any run) and ``designs`` (one row
per design, the manifest: written first with ``completed_at`` empty and completed last, when
every planned run is stored). A sweep that is killed and re-run skips the runs already
stored (:meth:`ResultsStore.finished_run_ids`) and ends with the same tables.

``nswn calibrate --history`` adds ``posteriors`` (one row per posterior: id, parameters, prior,
provenance — model hash, package version, data vintage, budget, resolution) and
``posterior_particles`` (keyed by ``posterior_id, particle, parameter``: value and weight),
written in one transaction, plus its predictive-check tables.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
    "resolution": "DOUBLE",
    "agents": "BIGINT",
    "real_firms": "BIGINT",
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


DESIGN_COLUMNS = {
    "design_hash": "VARCHAR PRIMARY KEY",
    "name": "VARCHAR",
    "description": "VARCHAR",
    "source": "VARCHAR",
    "runs_planned": "BIGINT",
    "package_version": "VARCHAR",
    "design_json": "VARCHAR",
    "started_at": "VARCHAR",
    "completed_at": "VARCHAR",
}

DESIGN_RUN_COLUMNS = {
    "design_hash": "VARCHAR",
    "run_id": "VARCHAR",
    "arm": "VARCHAR",
    "scenario_name": "VARCHAR",
    "scenario_hash": "VARCHAR",
    "lever_point": "BIGINT",
    "uncertainty_point": "BIGINT",
    "replicate": "BIGINT",
    "seed": "BIGINT",
    "overrides_json": "VARCHAR",
}

POSTERIOR_COLUMNS = {
    "posterior_id": "VARCHAR PRIMARY KEY",
    "parameters_json": "VARCHAR",
    "prior_json": "VARCHAR",
    "model_hash": "VARCHAR",
    "package_version": "VARCHAR",
    "data_vintage_json": "VARCHAR",
    "firms": "BIGINT",
    "simulations": "BIGINT",
    "created_at": "VARCHAR",
    "provenance_json": "VARCHAR",
}

POSTERIOR_PARTICLE_COLUMNS = {
    "posterior_id": "VARCHAR",
    "particle": "BIGINT",
    "parameter": "VARCHAR",
    "value": "DOUBLE",
    "weight": "DOUBLE",
}

# tables with rows per run (keyed by run_id), besides ``runs``
RUN_TABLES = (
    "technology_year",
    "macro_year",
    "province_year",
    "technology_ownership_year",
    "technology_attribution_year",
)

# columns that record when or how fast, not what: they differ between two identical sweeps
TIMING_COLUMNS = ("created_at", "wall_seconds", "started_at", "completed_at")


class StoreError(RuntimeError):
    """The results directory cannot be used."""


class StoreLocked(StoreError):
    """Another process held the results database for longer than the store waits."""


LOCK_WAIT_SECONDS = 30.0


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

    def _connect(self, read_only: bool = False, wait: float | None = None) -> duckdb.DuckDBPyConnection:
        """Open the database; while another process holds its lock, retry for ``wait`` seconds.

        DuckDB lets one process write a database at a time; a second ``nswn run`` into the same
        directory waits (bounded by :data:`LOCK_WAIT_SECONDS`) instead of failing at once.
        """
        import time

        deadline = time.monotonic() + (LOCK_WAIT_SECONDS if wait is None else wait)
        delay = 0.05
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.Error as exc:
                text = str(exc)
                locked = "lock" in text.lower()
                if locked and time.monotonic() < deadline:
                    time.sleep(delay)
                    delay = min(delay * 2, 1.0)
                    continue
                if locked:
                    raise StoreLocked(f"{self.path}: locked by another process: {text.splitlines()[0]}") from None
                raise StoreError(f"{self.path}: cannot open results database: {text.splitlines()[0]}") from None

    def check_writable(self) -> None:
        """Raise :class:`StoreError` now if runs could not be written here (corrupt, foreign, read-only).

        Called before simulating, so a bad ``--out`` never costs a finished run.
        """
        if self.path.exists() and not self.path.is_file():
            raise StoreError(f"{self.path}: not a file")
        con = self._connect(wait=0.0 if not self.path.exists() else None)
        try:
            con.execute("BEGIN TRANSACTION")
            con.execute("CREATE TABLE IF NOT EXISTS nswn_write_check (x INTEGER)")
            con.execute("ROLLBACK")
            if "runs" in {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}:
                columns = {row[0] for row in con.execute("DESCRIBE runs").fetchall()}
                if not {"run_id", "scenario_hash", "seed"} <= columns:
                    raise StoreError(f"{self.path}: holds a 'runs' table that nswn did not write; choose another --out")
        except duckdb.Error as exc:
            raise StoreError(f"{self.path}: cannot write to the results database: {exc}") from None
        finally:
            con.close()

    def write(self, result: Any) -> None:
        """Write one run (manifest + both tables) in a single transaction."""
        con = self._connect()
        try:
            _write_run(con, result)
        finally:
            con.close()

    @contextmanager
    def writer(self) -> Iterator[RunWriter]:
        """Keep one connection open for many writes (a sweep); each write is its own transaction.

        While the writer is open no other process can open the database.
        """
        con = self._connect()
        try:
            yield RunWriter(con)
        finally:
            con.close()

    def tables(self) -> set[str]:
        """Names of the tables in the database (empty when there is no database yet)."""
        if not self.path.is_file():
            return set()
        con = self._connect(read_only=True)
        try:
            return {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        finally:
            con.close()

    def finished_run_ids(self) -> set[str]:
        """Ids of the runs stored completely (a run is stored in one transaction, manifest included)."""
        if "runs" not in self.tables():
            return set()
        return set(self.query("SELECT run_id FROM runs")["run_id"])

    def begin_design(self, design: dict[str, Any], plan: pd.DataFrame) -> None:
        """Record a design and its plan (``design_runs``) before its runs, in one transaction.

        Re-recording the same design replaces its plan, keeps its first ``started_at`` and
        clears ``completed_at`` until :meth:`complete_design`.
        """
        con = self._connect()
        try:
            con.execute("BEGIN TRANSACTION")
            _create(con, "designs", DESIGN_COLUMNS)
            _create(con, "design_runs", DESIGN_RUN_COLUMNS)
            digest = design["design_hash"]
            rows = con.execute("SELECT started_at FROM designs WHERE design_hash = ?", [digest]).fetchall()
            previous = rows[0] if rows else None
            row = {key: design.get(key) for key in DESIGN_COLUMNS}
            row["completed_at"] = None
            if previous is not None and previous[0] is not None:
                row["started_at"] = previous[0]
            frame = plan.assign(design_hash=digest)[list(DESIGN_RUN_COLUMNS)]
            _replace_with_rows(con, ("designs", DESIGN_COLUMNS), "design_hash", row, "design_runs", frame)
            con.execute("COMMIT")
        except BaseException:
            _rollback(con)
            raise
        finally:
            con.close()

    def complete_design(self, design_hash: str, completed_at: str) -> None:
        """Mark a design complete: every planned run is stored (the manifest, written last)."""
        con = self._connect()
        try:
            con.execute("UPDATE designs SET completed_at = ? WHERE design_hash = ?", [completed_at, design_hash])
        finally:
            con.close()

    def designs(self) -> pd.DataFrame:
        """One row per design recorded by ``nswn sweep`` (empty when there is none)."""
        if "designs" not in self.tables():
            return pd.DataFrame(columns=list(DESIGN_COLUMNS))
        return self.query("SELECT * FROM designs ORDER BY started_at, design_hash")

    def design_runs(self, design_hash: str | None = None) -> pd.DataFrame:
        """The plan of one design (or of all): run id, arm, replicate, sampled points."""
        if "design_runs" not in self.tables():
            return pd.DataFrame(columns=list(DESIGN_RUN_COLUMNS))
        order = "ORDER BY design_hash, arm, uncertainty_point, replicate"
        if design_hash is None:
            return self.query(f"SELECT * FROM design_runs {order}")
        return self.query(f"SELECT * FROM design_runs WHERE design_hash = ? {order}", [design_hash])

    def snapshot(self, timing: bool = False) -> dict[str, pd.DataFrame]:
        """Every table in a canonical row order, to compare two results directories.

        Parameters
        ----------
        timing
            Keep the columns that record when or how fast (:data:`TIMING_COLUMNS`); they
            differ between two otherwise identical sweeps.
        """
        out = {}
        for table in sorted(self.tables()):
            frame = self.query(f"SELECT * FROM {table}")
            if not timing:
                frame = frame.drop(columns=[c for c in TIMING_COLUMNS if c in frame.columns])
            keys = [
                c
                for c in (
                    "design_hash",
                    "run_id",
                    "arm",
                    "technology_id",
                    "province_id",
                    "ownership",
                    "channel",
                    "year",
                )
                if c in frame.columns
            ]
            rest = [c for c in frame.columns if c not in keys]
            out[table] = frame.sort_values([*keys, *rest], kind="stable").reset_index(drop=True)
        return out

    def export_parquet(self, directory: str | Path) -> list[Path]:
        """Write every table to ``directory/<table>.parquet`` (for tools that do not read DuckDB)."""
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        written = []
        con = self._connect(read_only=True)
        try:
            for table in sorted(self.tables()):
                path = target / f"{table}.parquet"
                quoted = path.as_posix().replace("'", "''")
                con.execute(f"COPY {table} TO '{quoted}' (FORMAT parquet)")
                written.append(path)
        finally:
            con.close()
        return written

    def query(
        self, sql: str, params: list[Any] | None = None, frames: dict[str, pd.DataFrame] | None = None
    ) -> pd.DataFrame:
        """Run a read-only SQL query and return a DataFrame.

        ``frames`` are DataFrames the query can read as tables by these names (e.g. a map of
        run ids to report arms).
        """
        con = self._connect(read_only=True)
        try:
            for name, frame in (frames or {}).items():
                con.register(name, frame)
            return con.execute(sql, params or []).df()
        finally:
            con.close()

    def runs(self) -> pd.DataFrame:
        return self.query("SELECT * FROM runs ORDER BY created_at")

    def write_posterior(self, posterior: Any) -> None:
        """Store a :class:`nswn.experiments.posterior.Posterior` (replacing one with the same id),
        in one transaction."""
        import json

        pid = posterior.posterior_id
        prov = posterior.provenance
        row = {
            "posterior_id": pid,
            "parameters_json": json.dumps(list(posterior.parameters)),
            "prior_json": json.dumps({p: list(v) for p, v in posterior.prior.items()}),
            "model_hash": prov.get("model_hash"),
            "package_version": prov.get("package_version"),
            "data_vintage_json": json.dumps(prov.get("data_vintage"), sort_keys=True),
            "firms": prov.get("firms"),
            "simulations": prov.get("simulations"),
            "created_at": prov.get("created_at"),
            "provenance_json": json.dumps(prov, sort_keys=True, default=str),
        }
        particles = pd.DataFrame(
            [
                {
                    "posterior_id": pid,
                    "particle": i,
                    "parameter": p,
                    "value": float(posterior.values[i, j]),
                    "weight": float(posterior.weights[i]),
                }
                for i in range(posterior.particles)
                for j, p in enumerate(posterior.parameters)
            ],
            columns=list(POSTERIOR_PARTICLE_COLUMNS),
        )
        con = self._connect()
        try:
            con.execute("BEGIN TRANSACTION")
            _create(con, "posteriors", POSTERIOR_COLUMNS)
            _create(con, "posterior_particles", POSTERIOR_PARTICLE_COLUMNS)
            _replace_with_rows(
                con, ("posteriors", POSTERIOR_COLUMNS), "posterior_id", row, "posterior_particles", particles
            )
            con.execute("COMMIT")
        except BaseException:
            _rollback(con)
            raise
        finally:
            con.close()

    def posteriors(self) -> pd.DataFrame:
        """One row per stored posterior (empty when there is none), oldest first."""
        if "posteriors" not in self.tables():
            return pd.DataFrame(columns=list(POSTERIOR_COLUMNS))
        return self.query("SELECT * FROM posteriors ORDER BY created_at, posterior_id")

    def read_posterior(self, posterior_id: str) -> Any:
        """The stored posterior ``posterior_id`` as a :class:`~nswn.experiments.posterior.Posterior`."""
        import json

        import numpy as np

        from nswn.experiments.posterior import Posterior

        meta = self.query("SELECT * FROM posteriors WHERE posterior_id = ?", [posterior_id])
        if meta.empty:
            raise StoreError(f"{self.path}: no posterior {posterior_id!r}")
        parameters = tuple(json.loads(meta["parameters_json"].iloc[0]))
        rows = self.query(
            "SELECT particle, parameter, value, weight FROM posterior_particles WHERE posterior_id = ?", [posterior_id]
        )
        wide = rows.pivot(index="particle", columns="parameter", values="value").sort_index()
        weights = rows.groupby("particle")["weight"].first().sort_index()
        return Posterior(
            parameters=parameters,
            values=np.column_stack([wide[p].to_numpy(float) for p in parameters]),
            weights=weights.to_numpy(float),
            prior={k: (float(v[0]), float(v[1])) for k, v in json.loads(meta["prior_json"].iloc[0]).items()},
            provenance=json.loads(meta["provenance_json"].iloc[0]),
        )

    def latest_posterior(self) -> Any:
        """The newest stored posterior, or ``None``."""
        table = self.posteriors()
        if table.empty:
            return None
        return self.read_posterior(str(table["posterior_id"].iloc[-1]))

    def write_table(self, name: str, frame: pd.DataFrame) -> None:
        """Replace the table ``name`` (a plain identifier) with ``frame``, in one statement."""
        if not name.isidentifier():
            raise StoreError(f"not a table name: {name!r}")
        con = self._connect()
        try:
            con.register("table_frame", frame)
            con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM table_frame")
        finally:
            con.close()

    def technology_year(self, run_id: str | None = None) -> pd.DataFrame:
        if run_id is None:
            return self.query("SELECT * FROM technology_year ORDER BY run_id, year, technology_id")
        return self.query("SELECT * FROM technology_year WHERE run_id = ? ORDER BY year, technology_id", [run_id])

    def macro_year(self, run_id: str | None = None) -> pd.DataFrame:
        if run_id is None:
            return self.query("SELECT * FROM macro_year ORDER BY run_id, year")
        return self.query("SELECT * FROM macro_year WHERE run_id = ? ORDER BY year", [run_id])


class RunWriter:
    """Writes runs over one open connection (see :meth:`ResultsStore.writer`)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def write(self, result: Any) -> None:
        """Write one run (manifest + both tables) in a single transaction."""
        _write_run(self._con, result)

    def write_many(self, results: Sequence[Any]) -> None:
        """Write several runs in a single transaction: after a crash all of them or none are stored."""
        _write_runs(self._con, results)


def _create(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str]) -> None:
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} (" + ", ".join(f"{k} {v}" for k, v in columns.items()) + ")")


def _replace_with_rows(
    con: duckdb.DuckDBPyConnection,
    parent: tuple[str, dict[str, str]],
    key: str,
    row: dict[str, Any],
    child: str,
    frame: pd.DataFrame,
) -> None:
    """Inside the caller's transaction: replace the ``parent`` row whose ``key`` is ``row[key]``
    and all its ``child`` rows by ``row`` and ``frame`` (a re-run overwrites, never duplicates)."""
    table, columns = parent
    value = row[key]
    con.execute(f"DELETE FROM {table} WHERE {key} = ?", [value])
    con.execute(f"DELETE FROM {child} WHERE {key} = ?", [value])
    con.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(columns))})", [row[c] for c in columns])
    con.register("child_frame", frame)
    con.execute(f"INSERT INTO {child} SELECT * FROM child_frame")
    con.unregister("child_frame")


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass


def _add_new_columns(con: duckdb.DuckDBPyConnection, table: str, frame: str) -> None:
    """Add the frame's columns a store written by an older version lacks (older rows get NULL)."""
    have = {row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()}
    for name, kind, *_ in con.execute(f"DESCRIBE SELECT * FROM {frame}").fetchall():
        if name not in have:
            con.execute(f'ALTER TABLE {table} ADD COLUMN "{name}" {kind}')


def _write_run(con: duckdb.DuckDBPyConnection, result: Any) -> None:
    """Write one run in one transaction, replacing a stored run with the same id."""
    _write_runs(con, [result])


def _write_runs(con: duckdb.DuckDBPyConnection, results: Sequence[Any]) -> None:
    """Write several runs in one transaction (all or none), replacing stored runs with the same ids.

    The runs' tables (``technology_year``, ``macro_year`` and the breakdowns
    ``province_year``, ``technology_ownership_year``) are concatenated and inserted with one
    statement per table, so a batch costs about as much as one run. A store written by an
    older version gets the new columns added (older rows hold NULL).
    """
    if not results:
        return
    runs = pd.DataFrame([{key: result.manifest.get(key) for key in RUN_COLUMNS} for result in results])
    parts: dict[str, list[pd.DataFrame]] = {"technology_year": [], "macro_year": []}
    for result in results:
        parts["technology_year"].append(result.technology_year)
        parts["macro_year"].append(result.macro_year)
        for name, frame in (getattr(result, "breakdowns", None) or {}).items():
            if name not in RUN_TABLES:
                raise ValueError(f"unknown run table {name!r}; known: {', '.join(RUN_TABLES)}")
            parts.setdefault(name, []).append(frame)
    tables = {name: pd.concat(frames, ignore_index=True) for name, frames in parts.items()}
    frames = {table: f"{table}_frame" for table in tables}
    ids = pd.DataFrame({"run_id": [result.manifest["run_id"] for result in results]})
    try:
        con.execute("BEGIN TRANSACTION")
        _create(con, "runs", RUN_COLUMNS)
        con.register("ids_frame", ids)
        for table, frame in tables.items():
            con.register(frames[table], frame)
            con.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM {frames[table]} WHERE false")
            _add_new_columns(con, table, frames[table])
        existing = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        # a run's rows are only ever written together with its runs row, so without one there is nothing to replace
        if con.execute("SELECT count(*) FROM runs WHERE run_id IN (SELECT run_id FROM ids_frame)").fetchall()[0][0]:
            for table in (*[t for t in RUN_TABLES if t in existing], "runs"):
                con.execute(f"DELETE FROM {table} WHERE run_id IN (SELECT run_id FROM ids_frame)")
        con.register("runs_frame", runs)
        con.execute("INSERT INTO runs SELECT * FROM runs_frame")
        for table in tables:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {frames[table]}")
        con.execute("COMMIT")
    except BaseException:
        _rollback(con)
        raise
    finally:
        for name in (*frames.values(), "runs_frame", "ids_frame"):
            try:
                con.unregister(name)
            except duckdb.Error:
                pass
