"""pyabc's MappingSampler made reproducible (imported only by ``nswn calibrate --history``).

pyabc 0.13's ``MappingSampler`` reseeds every task from the operating system's entropy
(``np.random.seed()``), so two runs with the same settings differ. This subclass gives each
particle slot of generation ``t`` its own seed from ``SeedSequence([root_seed, t + 1000])``
(``t = −1`` is pyabc's calibration sample), in submission order; a slot proposes until it
accepts, with pyabc's own code. A generation's particles therefore depend only on the root
seed, the generation and the previous generation (read back from pyabc's SQLite history on a
resume) — not on the number of worker processes or the order in which runs finish.

pyabc draws proposals from NumPy's legacy global generator inside each task; that generator is
pyabc's, seeded here per slot, and the model never reads it (a simulation's seed is a hash of
its parameters: :func:`nswn.experiments.calibrate_history.param_seed`).
"""

from __future__ import annotations

import functools
import random
from typing import Any

import numpy as np
from pyabc.sampler import MappingSampler


class SeededMappingSampler(MappingSampler):  # type: ignore[misc]
    """A MappingSampler whose slots are seeded from ``root_seed`` and the generation."""

    def __init__(self, map_: Any, root_seed: int) -> None:
        super().__init__(map_=map_, mapper_pickles=False)
        self.root_seed = int(root_seed)

    def __getstate__(self) -> Any:
        return (super().__getstate__(), self.root_seed)

    def __setstate__(self, state: Any) -> None:
        parent, self.root_seed = state
        super().__setstate__(parent)

    def seeded_map_function(self, simulate_one: Any, seed: int) -> Any:
        simulate_one = self.unpickle(simulate_one)
        np.random.seed(seed % 2**32)  # noqa: NPY002 - pyabc draws from the legacy global generator
        random.seed(seed)
        nr_simulations = 0
        sample = self._create_empty_sample()
        while True:
            new_sim = simulate_one()
            nr_simulations += 1
            sample.append(new_sim)
            if new_sim.accepted:
                break
        return sample, nr_simulations

    def sample_until_n_accepted(
        self,
        n: int,
        simulate_one: Any,
        t: int,
        *,
        max_eval: float = np.inf,
        all_accepted: bool = False,
        ana_vars: Any = None,
    ) -> Any:
        seeds = np.random.SeedSequence([self.root_seed, int(t) + 1000]).generate_state(n, np.uint64)
        function = functools.partial(self.seeded_map_function, self.pickle(simulate_one))
        counted = [r for r in self.map_(function, [int(s) for s in seeds]) if not isinstance(r, Exception)]
        results, evals = zip(*counted, strict=True)
        self.nr_evaluations_ = sum(evals)
        sample = self._create_empty_sample()
        for result in results:
            sample += result
        return sample
