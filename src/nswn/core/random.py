"""Random streams: one root seed, one child stream per mechanism and year.

Every mechanism draws from its own generator, derived from the run seed, a stable
integer id of the mechanism's name and the simulated year. Switching a mechanism off,
or a mechanism drawing more numbers in one arm of an experiment than in another,
therefore never shifts the draws of any other mechanism or year: scenarios compared
with the same seed share their random numbers (common random numbers, model.md §4).

References
----------
NumPy, "Parallel random number generation" (SeedSequence spawning).
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_id(name: str) -> int:
    """Return a stable 32-bit id for a mechanism name (CRC-32, identical on every platform)."""
    return zlib.crc32(name.encode("utf-8"))


def stream(seed: int, name: str, year: int) -> np.random.Generator:
    """Return the generator of mechanism ``name`` for ``year`` in the run seeded ``seed``.

    Parameters
    ----------
    seed
        The run seed (a non-negative integer).
    name
        Mechanism or instrument name, e.g. ``"innovation"``.
    year
        Simulated calendar year.

    Returns
    -------
    numpy.random.Generator
        A PCG64 generator independent of every other (name, year) pair.
    """
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    sequence = np.random.SeedSequence(entropy=seed, spawn_key=(stream_id(name), year))
    return np.random.Generator(np.random.PCG64(sequence))
