"""A hash of the model's code and catalog, part of every run id.

A stored run is reused (ensembles skip run ids already in the store) only when rerunning it
would give identical tables. The scenario hash and the seed say *what* was run; this hash
says *with which model*: the source of ``nswn.core``, ``nswn.mechanisms``,
``nswn.instruments`` and ``nswn.scenario`` and every catalog CSV file (the start-year vintages
under ``catalog/vintages/`` and the history series under ``catalog/history/`` included). Any edit to one of
them (a changed parameter default, formula or catalog figure) gives new run ids, so a store
written by older code is never silently read as current. Files outside the model (the CLI,
report, service, experiments) do not enter the hash: they do not change a run's tables.

Third-party instruments (entry points) are not hashed; their scenarios name them, and
their authors should bump their own package version when their code changes.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent

# (folder relative to the package, glob) pairs whose files make up the model
MODEL_FILES = (
    ("core", "*.py"),
    ("mechanisms", "*.py"),
    ("instruments", "*.py"),
    ("scenario", "*.py"),
    ("catalog", "**/*.csv"),  # recursive: vintages/<year>/ and history/ are model inputs too
)


def model_files(root: Path = PACKAGE) -> list[Path]:
    """The files whose content makes up the model, sorted by their path relative to ``root``."""
    found = [path for folder, pattern in MODEL_FILES for path in (root / folder).glob(pattern) if path.is_file()]
    return sorted(found, key=lambda path: path.relative_to(root).as_posix())


def hash_model(root: Path = PACKAGE) -> str:
    """SHA-256 (first 16 hex digits) of the model files' relative paths and bytes under ``root``.

    Line endings are normalised (``\\r\\n`` → ``\\n``) so that a checkout on Windows hashes
    like one on Linux.
    """
    digest = hashlib.sha256()
    for path in model_files(root):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes().replace(b"\r\n", b"\n"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]


@cache
def model_hash() -> str:
    """The installed package's model hash, computed once per process."""
    return hash_model(PACKAGE)
