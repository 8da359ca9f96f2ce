"""Policy instruments: the budget lines of the central state (model.md §6.3).

An instrument receives its slice of the central S&T budget already split across
technologies (∝ ``w_t · D0_t^ψ``) and spends it inside each technology by its own rule,
booking every yuan in the ledger. Built-in instruments are listed in :data:`BUILT_IN`;
:func:`registry` adds the third-party instruments installed through the ``nswn.instruments``
entry-point group.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Protocol

import numpy as np

from nswn.core.model import Context
from nswn.core.state import State
from nswn.instruments.basic_research import BasicResearch
from nswn.instruments.guidance_funds import GuidanceFunds
from nswn.instruments.innovation_associations import InnovationAssociations
from nswn.instruments.megaprojects import Megaprojects
from nswn.instruments.national_teams import NationalTeams
from nswn.instruments.new_rd_institutes import NewRDInstitutes
from nswn.instruments.unveiling_the_list import UnveilingTheList


class Instrument(Protocol):
    """The instrument contract: ``name``, a ``Params`` type with a ``share`` field, and
    ``allocate``, which spends ``budget[t]`` bn CNY per technology and books it."""

    name: str
    Params: type[Any]

    def __init__(self, params: Any) -> None: ...

    def allocate(self, state: State, ctx: Context, budget: np.ndarray) -> None:
        """Spend ``budget`` (bn CNY per technology) and book every yuan in ``ctx.ledger``."""
        ...


BUILT_IN: dict[str, type[Instrument]] = {
    cls.name: cls  # type: ignore[misc]
    for cls in (
        BasicResearch,
        Megaprojects,
        UnveilingTheList,
        InnovationAssociations,
        NewRDInstitutes,
        GuidanceFunds,
        NationalTeams,
    )
}

ENTRY_POINT_GROUP = "nswn.instruments"

# Levers that are instruments of the brief but not budget lines (no ``allocate``):
# their Params live in the modules of the same name and are applied by mechanisms.
LEVER_INSTRUMENTS = ("patent_reform", "keep_manufacturing", "upgrade_traditional")


class PluginError(RuntimeError):
    """A third-party instrument does not honour the contract."""


def _load_plugins() -> dict[str, type[Instrument]]:
    from importlib.metadata import entry_points

    found: dict[str, type[Instrument]] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        cls = entry.load()
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not hasattr(cls, "Params") or not hasattr(cls, "allocate"):
            raise PluginError(
                f"entry point {entry.name!r} ({entry.value}) is not an instrument: it needs "
                "a str `name`, a `Params` dataclass with a `share` field and `allocate`"
            )
        if name in BUILT_IN or name in found:
            raise PluginError(f"entry point {entry.name!r}: instrument name {name!r} is already taken")
        if "share" not in getattr(cls.Params, "__dataclass_fields__", {}):
            raise PluginError(f"instrument {name!r}: its Params must be a dataclass with a `share` field")
        found[name] = cls
    return found


@cache
def registry() -> dict[str, type[Instrument]]:
    """Built-in instruments followed by those installed through the entry-point group
    (discovered on first use, not at import)."""
    return {**BUILT_IN, **_load_plugins()}
