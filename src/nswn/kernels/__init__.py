"""Compiled kernels for per-firm hot paths, with the NumPy code as the reference.

Each kernel has two implementations with bit-identical results: the NumPy reference
(``core.segments`` and plain NumPy) and a numba-compiled one (``_compiled``, ``cache=True``).
Which runs is chosen by the environment variable ``NSWN_KERNELS``:

``numba`` (the default when numba can be imported)
    the compiled kernels;
``numpy``
    the NumPy reference.

If numba cannot be imported the NumPy path runs and one line on standard error says so.
Random numbers never come from a kernel: mechanisms draw them in bulk from their own NumPy
generators and pass the arrays in, so random streams and results do not depend on the
switch. Transcendental functions (``exp``, ``log``) also stay in NumPy, whose
implementations can differ in the last bit from the compiler's; kernels only add,
multiply, divide, compare and move data, in the order the NumPy reference does.

Threads: kernels that loop over technology segments use ``prange``; each segment is
reduced in its own fixed order, so results are identical for any number of threads.
``NSWN_THREADS`` (default 1) sets how many threads they use; above 1 the parallel build
(``_parallel``) is loaded. One is the default because on a shared machine (the 2-core
development box, ~7 jobs) two threads made a 1-ms kernel take 15-50 ms, waiting for a second
core, and the parallel build takes twice as long to compile and to load; ensembles use the
second core with a second worker process instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

BACKENDS = ("numpy", "numba")

_backend: str | None = None
_module: ModuleType | None = None
_notices: set[str] = set()


def _notice(text: str) -> None:
    """Print one line on standard error, once per process."""
    if text not in _notices:
        _notices.add(text)
        print(f"nswn: {text}", file=sys.stderr)


def _numba_importable() -> bool:
    try:
        import numba  # noqa: F401
    except Exception:  # noqa: BLE001 - any failure to import means: use NumPy
        return False
    return True


def _from_environment() -> str:
    wanted = os.environ.get("NSWN_KERNELS", "").strip().lower() or "numba"
    if wanted not in BACKENDS:
        _notice(f"NSWN_KERNELS={wanted!r} is neither 'numba' nor 'numpy'; using numba when it can be imported")
        wanted = "numba"
    if wanted == "numba" and not _numba_importable():
        _notice("numba cannot be imported; using the NumPy kernels (slower, same results)")
        return "numpy"
    return wanted


def backend() -> str:
    """The kernels in use: ``"numba"`` or ``"numpy"`` (decided once, from ``NSWN_KERNELS``)."""
    global _backend
    if _backend is None:
        _backend = _from_environment()
    return _backend


def compiled() -> bool:
    """Whether the compiled kernels run."""
    return backend() == "numba"


def set_backend(name: str) -> None:
    """Choose the kernels for this process (``"numpy"`` or ``"numba"``)."""
    global _backend
    if name not in BACKENDS:
        raise ValueError(f"kernels must be one of {', '.join(BACKENDS)}, not {name!r}")
    if name == "numba" and not _numba_importable():
        raise RuntimeError("numba cannot be imported")
    _backend = name


@contextmanager
def using(name: str) -> Iterator[None]:
    """Run a block with the given kernels, then restore the previous choice."""
    previous = backend()
    set_backend(name)
    try:
        yield
    finally:
        set_backend(previous)


def threads() -> int:
    """Threads for the compiled segment loops: ``NSWN_THREADS`` (default 1)."""
    text = os.environ.get("NSWN_THREADS", "").strip() or "1"
    try:
        wanted = int(text)
    except ValueError:
        wanted = 0
    if wanted < 1:
        _notice(f"NSWN_THREADS={text!r} is not a positive whole number; using 1 thread")
        return 1
    return wanted


def module() -> ModuleType:
    """The compiled kernels (imported, and their thread count set, on first use)."""
    global _module
    if _module is None:
        import numba

        count = min(threads(), numba.config.NUMBA_NUM_THREADS)
        if count > 1:
            from nswn.kernels import _parallel as kernels
        else:
            from nswn.kernels import _compiled as kernels
        numba.set_num_threads(count)
        _module = kernels
    return _module


def compile_all() -> None:
    """Compile (or load from numba's cache) every kernel now."""
    module().warm_up()
