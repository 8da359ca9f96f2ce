"""The kernels of ``_compiled``, compiled with ``parallel=True`` (used when ``NSWN_THREADS`` > 1).

The same source is compiled again under this file's name, so that numba caches the parallel
machine code in files of its own (a cache entry does not record the ``parallel`` option).
Parallel kernels take about twice as long to compile and to load, hence not the default.
"""

from __future__ import annotations

from pathlib import Path

_SOURCE = Path(__file__).with_name("_compiled.py").read_text(encoding="utf-8")
if "PARALLEL = False" not in _SOURCE:  # pragma: no cover - a guard against editing _compiled.py
    raise RuntimeError("_compiled.py no longer declares PARALLEL = False")
exec(compile(_SOURCE.replace("PARALLEL = False", "PARALLEL = True", 1), __file__, "exec"))  # noqa: S102
