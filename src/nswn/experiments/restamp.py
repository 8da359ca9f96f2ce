"""Carry the shipped posterior across a change of code that leaves every result unchanged.

The shipped posterior records the model hash of the code that inferred it
(:mod:`nswn.provenance`); any edit to the model's source gives a new hash and the posterior is
then *stale*: ``nswn claims`` falls back to the judged worlds. A change that only makes the
model faster (a compiled kernel with bit-identical results) should not cost another calibration
of an hour, but it must not be waved through either. This tool checks it:

1. ``--before DIR`` is the ``src`` directory of the code that made the posterior, with the
   shipped ``scenarios/`` beside it (``git archive <commit> src scenarios | tar -x -C OLD``, then
   ``--before OLD/src``); its model hash, computed by that code, must equal the posterior's.
2. For ``--particles K`` particles (the K heaviest, ties by index), the ``history`` run the
   calibration simulated for that particle (same scenario, resolution, end year and seed) is run
   with the old code (in a subprocess with ``PYTHONPATH=DIR``) and with the installed code, and
   the SHA-256 digests of every result table are compared.
3. Only if every digest is identical is the posterior rewritten with the installed model hash,
   and a ``restamped`` entry (old hash, new hash, particles checked, digests, time) appended to
   its provenance. Otherwise it exits 1 and changes nothing.

Run it as ``python -m nswn.experiments.restamp --before DIR [--particles K] [--docs FILE]``;
``--docs`` also rewrites the posterior's identification line in docs/calibration.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from nswn.experiments import posterior as post_mod

# Runs the calibration's simulation of one particle with the old code and prints the digest of
# every table. The old code need not have this module: the child loads this file by its path
# under another name, so its ``nswn`` imports resolve to the old package. The old code's model
# hash is asked of the old code (the set of hashed files may differ between versions).
_CHILD = """
import importlib.util, json, sys
from nswn.provenance import model_hash
job = json.loads(sys.argv[1])
if job is None:
    print(json.dumps(model_hash()))
else:
    spec = importlib.util.spec_from_file_location("nswn_restamp_check", sys.argv[2])
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    print(json.dumps(tool.particle_digest(job["overrides"], job["firms"], job["end_year"])))
"""


class RestampError(RuntimeError):
    """The posterior cannot be carried over (wrong old code, or results differ)."""


def table_digest(frame: Any) -> str:
    """SHA-256 (16 hex digits) of a table's columns, dtypes and values (row order kept).

    ``run_id`` is left out: it contains the model hash, which differs by construction.
    """
    digest = hashlib.sha256()
    for column in frame.columns:
        if column == "run_id":
            continue
        values = frame[column].to_numpy()
        digest.update(str(column).encode())
        digest.update(str(values.dtype).encode())
        if values.dtype == object:
            digest.update(json.dumps([str(v) for v in values]).encode())
        else:
            digest.update(np.ascontiguousarray(values).tobytes())
    return digest.hexdigest()[:16]


def particle_digest(overrides: dict[str, float], firms: int | None, end_year: int | None) -> dict[str, str]:
    """Digests of every table of the ``history`` run the calibration made for ``overrides``.

    Same scenario, resolution and end year as :func:`calibrate_history.simulate_targets`, and the
    same seed (:func:`calibrate_history.param_seed` of the overrides).
    """
    from nswn import api
    from nswn.experiments import calibrate_history as ch
    from nswn.experiments.design import apply_overrides

    scenario = apply_overrides(ch._base_scenario(firms, end_year), overrides, "restamp")
    result = api.simulate(scenario, seed=ch.param_seed(overrides))
    tables = {"technology_year": result.technology_year, "macro_year": result.macro_year, **result.breakdowns}
    return {name: table_digest(frame) for name, frame in sorted(tables.items())}


def heaviest(posterior: post_mod.Posterior, count: int) -> list[dict[str, float]]:
    """The ``count`` heaviest particles as ``{path: value}`` (ties broken by index)."""
    order = sorted(range(posterior.particles), key=lambda i: (-float(posterior.weights[i]), i))[:count]
    return [{p: float(posterior.values[i, j]) for j, p in enumerate(posterior.parameters)} for i in order]


def _old_code(before: Path, job: dict[str, Any] | None) -> Any:
    """Run ``job`` (``None``: only report the model hash) with the code in ``before``."""
    env = {**os.environ, "PYTHONPATH": str(before)}
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", _CHILD, json.dumps(job), str(Path(__file__).resolve())],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RestampError(f"the old code in {before} failed: {done.stderr.strip()[-400:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def restamp(posterior: post_mod.Posterior, before: Path, particles: int = 4, log: Any = print) -> post_mod.Posterior:
    """The posterior with the installed model hash, if ``particles`` runs are identical.

    Raises
    ------
    RestampError
        ``before`` is not the code that made the posterior, or any table differs.
    """
    from nswn.provenance import model_hash

    before = Path(before).resolve()
    if not (before / "nswn" / "provenance.py").is_file():
        raise RestampError(f"{before}: not a src directory of nswn (no nswn/provenance.py)")
    old_hash = _old_code(before, None)
    made_with = posterior.provenance.get("model_hash")
    if old_hash != made_with:
        raise RestampError(f"{before}: its model hash is {old_hash}, the posterior was made with {made_with}")
    new_hash = model_hash()
    if new_hash == made_with:
        log(f"the posterior was made with the installed model ({new_hash}); nothing to do")
        return posterior
    firms = posterior.provenance.get("firms")
    end_year = posterior.provenance.get("end_year")
    checked = []
    for k, values in enumerate(heaviest(posterior, particles), 1):
        job = {"overrides": values, "firms": firms, "end_year": end_year}
        old = _old_code(before, job)
        new = particle_digest(values, firms, end_year)
        same = old == new
        log(f"particle {k}/{particles}: {'identical' if same else 'DIFFERENT'} ({len(new)} tables)")
        if not same:
            differ = sorted(name for name in set(old) | set(new) if old.get(name) != new.get(name))
            raise RestampError(f"particle {k}: tables differ between {made_with} and {new_hash}: {', '.join(differ)}")
        checked.append(new)
    stamp = {
        "from": made_with,
        "to": new_hash,
        "particles_checked": particles,
        "digests": checked,
        "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rule": "every table of the history run of the heaviest particles is bit-identical under both codes",
    }
    provenance = {
        **posterior.provenance,
        "model_hash": new_hash,
        "restamped": [*posterior.provenance.get("restamped", []), stamp],
    }
    return post_mod.Posterior(posterior.parameters, posterior.values, posterior.weights, posterior.prior, provenance)


_ID_LINE = re.compile(r"^Posterior `[0-9a-f]+`: model hash `[0-9a-f]+`(?: \(restamped[^)]*\))?", re.MULTILINE)


def rewrite_docs(text: str, old: post_mod.Posterior, new: post_mod.Posterior) -> str:
    """docs/calibration.md with the posterior's id and model hash replaced (and the restamp said).

    Raises
    ------
    RestampError
        The page does not name ``old``'s id.
    """
    match = _ID_LINE.search(text)
    if match is None or f"`{old.posterior_id}`" not in match.group(0):
        raise RestampError(f"the calibration page does not name posterior {old.posterior_id}")
    stamps = new.provenance.get("restamped", [])
    note = "; ".join(
        f"restamped from `{s['from']}` after {s['particles_checked']} particles' runs were bit-identical"
        for s in stamps
    )
    line = f"Posterior `{new.posterior_id}`: model hash `{new.provenance['model_hash']}` ({note})"
    return text[: match.start()] + line + text[match.end() :]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, type=Path, help="src directory of the code that made it")
    parser.add_argument("--particles", type=int, default=4)
    parser.add_argument("--posterior", type=Path, default=None, help="posterior JSON (default: the shipped one)")
    parser.add_argument("--docs", type=Path, default=None, help="also rewrite this calibration page")
    args = parser.parse_args(argv)
    path = args.posterior or post_mod.shipped_path()
    if args.particles < 1:
        print(f"--particles must be at least 1, not {args.particles}", file=sys.stderr)
        return 2
    try:
        old = post_mod.read(path)
        new = restamp(old, args.before, args.particles)
        if new is old:
            return 0
        text = args.docs.read_text(encoding="utf-8") if args.docs else None
        page = rewrite_docs(text, old, new) if text is not None else None
    except (RestampError, post_mod.PosteriorError) as exc:
        print(f"not restamped: {exc}", file=sys.stderr)
        return 1
    post_mod.write(new, path)
    if page is not None and args.docs is not None:
        args.docs.write_text(page, encoding="utf-8")
    print(f"restamped {path}: {old.posterior_id} → {new.posterior_id} (model {new.provenance['model_hash']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
