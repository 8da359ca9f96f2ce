"""Policy instruments: the budget lines of the central state (model.md §6.3).

An instrument receives its slice of the central S&T budget already split across
technologies (∝ ``w_t · D0_t^ψ``) and spends it inside each technology by its own rule,
booking every yuan in the ledger. Built-in instruments are listed in :data:`REGISTRY`;
third-party instruments join through the ``nswn.instruments`` entry-point group.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from nswn.core.model import Context
from nswn.core.state import State
from nswn.instruments.basic_research import BasicResearch


class Instrument(Protocol):
    """The instrument contract: ``name``, a ``Params`` type with a ``share`` field, and
    ``allocate``, which spends ``budget[t]`` bn CNY per technology and books it."""

    name: str
    Params: type[Any]

    def __init__(self, params: Any) -> None: ...

    def allocate(self, state: State, ctx: Context, budget: np.ndarray) -> None:
        """Spend ``budget`` (bn CNY per technology) and book every yuan in ``ctx.ledger``."""
        ...


REGISTRY: dict[str, type[Instrument]] = {
    BasicResearch.name: BasicResearch,
}
