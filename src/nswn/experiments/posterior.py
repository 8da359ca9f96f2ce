"""The calibrated posterior over judged assumptions, as an object the rest of nswn uses.

A :class:`Posterior` is a weighted sample (particles) of scenario assumptions, with the prior
it was drawn against and its provenance (model hash, package version, data vintage, run
budget, resolution). It is written by ``nswn calibrate --history``
(:mod:`nswn.experiments.calibrate_history`) into the results store (tables ``posteriors`` and
``posterior_particles``) and, for the shipped set of plausible worlds, as JSON next to this
module (``posterior/history.json``).

Where no posterior exists everything behaves as before: :func:`shipped` returns ``None``,
``nswn params`` shows no ``calibrated`` label, designs with ``worlds: calibrated`` are refused
with a clear error, and ``nswn claims`` samples the judged ranges.

Sampling particles by weight (:meth:`Posterior.sample`) is reproducible: it draws from a
NumPy ``Generator`` seeded by the caller, never from a global RNG.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

SHIPPED = "history.json"
LEVEL = 0.9  # credible interval shown in params, docs and the page


class PosteriorError(ValueError):
    """A posterior cannot be read (missing, malformed, or not a posterior)."""


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float | np.ndarray) -> np.ndarray:
    """Quantile(s) ``q`` of a weighted sample (inverse of the weighted empirical CDF, midpoint rule).

    Parameters
    ----------
    values, weights
        Shape ``(n,)``; weights need not be normalised.
    q
        Probabilities in [0, 1].
    """
    order = np.argsort(values, kind="stable")
    v, w = np.asarray(values, float)[order], np.asarray(weights, float)[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cdf, v)


@dataclass(frozen=True)
class Posterior:
    """A weighted sample of assumptions.

    Attributes
    ----------
    posterior_id
        SHA-256 (16 hex digits) of parameters, values, weights and provenance.
    parameters
        Dotted scenario paths (``assumptions.<section>.<field>``), one per column of ``values``.
    values
        Shape ``(particles, parameters)``, in the parameters' own units.
    weights
        Shape ``(particles,)``, normalised to sum to 1.
    prior
        ``{path: (low, high)}`` of the uniform prior (the judged range) each parameter had.
    provenance
        Model hash, package version, data vintage, scenario, firms, budget, simulations,
        generations, final tolerance (epsilon), seed, command, created at.
    """

    parameters: tuple[str, ...]
    values: np.ndarray
    weights: np.ndarray
    prior: dict[str, tuple[float, float]]
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=float)
        weights = np.asarray(self.weights, dtype=float)
        if values.ndim != 2 or values.shape[1] != len(self.parameters) or values.shape[0] == 0:
            raise PosteriorError(
                f"posterior values must be a (particles, {len(self.parameters)}) array, not {values.shape}"
            )
        if weights.shape != (values.shape[0],) or not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise PosteriorError("posterior weights must be one non-negative number per particle")
        if weights.sum() <= 0:
            raise PosteriorError("posterior weights sum to zero")
        missing = [p for p in self.parameters if p not in self.prior]
        if missing:
            raise PosteriorError(f"posterior has no prior range for {', '.join(missing)}")
        object.__setattr__(self, "values", values)
        # normalised once: a posterior read back (sum already 1 up to rounding) keeps its exact weights
        object.__setattr__(self, "weights", weights if abs(weights.sum() - 1.0) < 1e-12 else weights / weights.sum())

    @property
    def posterior_id(self) -> str:
        digest = hashlib.sha256()
        digest.update(json.dumps(list(self.parameters)).encode())
        digest.update(np.ascontiguousarray(self.values).tobytes())
        digest.update(np.ascontiguousarray(self.weights).tobytes())
        digest.update(json.dumps(self.provenance, sort_keys=True, default=str).encode())
        return digest.hexdigest()[:16]

    @property
    def particles(self) -> int:
        return int(self.values.shape[0])

    def column(self, path: str) -> np.ndarray:
        return self.values[:, self.parameters.index(path)]

    def interval(self, path: str, level: float = LEVEL) -> tuple[float, float]:
        """Equal-tailed credible interval of one parameter."""
        lo, hi = weighted_quantile(self.column(path), self.weights, [(1 - level) / 2, (1 + level) / 2])
        return float(lo), float(hi)

    def median(self, path: str) -> float:
        return float(weighted_quantile(self.column(path), self.weights, 0.5))

    def identified(self, path: str, level: float = LEVEL, threshold: float = 0.8) -> bool:
        """Whether history narrowed this parameter: the posterior's credible interval is shorter
        than ``threshold`` × the prior's (uniform) interval at the same level."""
        lo, hi = self.prior[path]
        lo_post, hi_post = self.interval(path, level)
        return (hi_post - lo_post) < threshold * level * (hi - lo)

    def correlations(self) -> np.ndarray:
        """Weighted Pearson correlation matrix, shape ``(parameters, parameters)``."""
        w = self.weights
        mean = w @ self.values
        centred = self.values - mean
        cov = (centred * w[:, None]).T @ centred
        sd = np.sqrt(np.clip(np.diag(cov), 1e-300, None))
        return np.asarray(cov / np.outer(sd, sd))

    def sample(self, count: int, seed: int | np.random.SeedSequence) -> list[dict[str, float]]:
        """``count`` particles drawn by weight (with replacement), reproducibly from ``seed``."""
        rng = np.random.default_rng(seed)
        picks = rng.choice(self.particles, size=count, replace=True, p=self.weights)
        return [{p: float(self.values[i, j]) for j, p in enumerate(self.parameters)} for i in picks]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "nswn-posterior",
            "posterior_id": self.posterior_id,
            "parameters": list(self.parameters),
            "prior": {p: list(self.prior[p]) for p in self.parameters},
            "provenance": self.provenance,
            "weights": [float(w) for w in self.weights],
            "values": [[float(x) for x in row] for row in self.values],
        }

    @classmethod
    def from_json(cls, data: Any, source: str = "<posterior>") -> Posterior:
        if not isinstance(data, dict) or data.get("kind") != "nswn-posterior":
            raise PosteriorError(f"{source}: not an nswn posterior (expected kind: nswn-posterior)")
        try:
            return cls(
                parameters=tuple(str(p) for p in data["parameters"]),
                values=np.asarray(data["values"], dtype=float),
                weights=np.asarray(data["weights"], dtype=float),
                prior={str(k): (float(v[0]), float(v[1])) for k, v in data["prior"].items()},
                provenance=dict(data.get("provenance") or {}),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise PosteriorError(f"{source}: malformed posterior: {exc}") from None

    def stale(self) -> bool:
        """Whether the posterior was inferred with another model than the installed one."""
        from nswn.provenance import model_hash

        return bool(self.provenance.get("model_hash")) and self.provenance.get("model_hash") != model_hash()

    def describe(self) -> str:
        p = self.provenance
        res = f"{p['firms']:,} firms" if p.get("firms") else "the whole real firm population"
        return (
            f"posterior {self.posterior_id} ({self.particles} particles; {p.get('simulations', '?')} simulations, "
            f"{p.get('generations', '?')} generations, {res}; model {p.get('model_hash', '?')}"
            + (", STALE: the model changed since" if self.stale() else "")
            + ")"
        )


def shipped_path() -> Path:
    return Path(str(resources.files("nswn.experiments").joinpath("posterior").joinpath(SHIPPED)))


@cache
def shipped() -> Posterior | None:
    """The posterior shipped with nswn (``None`` when there is none)."""
    path = shipped_path()
    if not path.is_file():
        return None
    return read(path)


def read(source: str | Path) -> Posterior:
    """A posterior from a JSON file or from a results directory (its newest stored posterior).

    Raises
    ------
    PosteriorError
        When the path holds no posterior.
    """
    path = Path(source)
    if path.is_dir():
        from nswn.storage.store import ResultsStore, StoreError

        try:
            store = ResultsStore(path, create=False)
            found = store.latest_posterior()
        except StoreError as exc:
            raise PosteriorError(f"{path}: {exc}") from None
        if found is None:
            raise PosteriorError(f"{path}: no posterior stored here (run `nswn calibrate --history --out {path}`)")
        return found
    if not path.is_file():
        raise PosteriorError(f"{path}: no such posterior file or results directory")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PosteriorError(f"{path}: cannot read posterior JSON: {exc}") from None
    return Posterior.from_json(data, str(path))


def write(posterior: Posterior, path: str | Path) -> Path:
    """Write ``posterior`` as JSON (atomically: a temporary file renamed into place)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_text(json.dumps(posterior.to_json(), indent=1) + "\n", encoding="utf-8")
    tmp.replace(target)
    return target


def calibrated_labels(posterior: Posterior | None = None, level: float = LEVEL) -> dict[str, str]:
    """``{path: "calibrated [lo, hi]"}`` for every parameter the (shipped) posterior replaces."""
    post = posterior if posterior is not None else shipped()
    if post is None:
        return {}
    out = {}
    for path in post.parameters:
        lo, hi = post.interval(path, level)
        out[path] = f"calibrated {level * 100:.0f} % [{lo:.3g}, {hi:.3g}]"
    return out
