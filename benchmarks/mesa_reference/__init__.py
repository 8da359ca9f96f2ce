"""A reference implementation of nswn's firm layer in Mesa 3, one ``Agent`` per firm.

It re-implements, the way a Mesa user would (agent objects with methods, ``AgentSet``
operations, Python loops over agents, a ``DataCollector``), three of nswn's mechanisms as
they are coded in ``src/nswn/mechanisms``:

* innovation (``innovation.py``, model.md §6.6): R&D, emulation, frontier innovation;
* markets (``markets.py``, §6.7, the default ``logit`` share rule): costs, domestic shares
  against the foreign aggregate, exports, revenue, profit, loss streaks, learning;
* entry and exit (``entry_exit.py``, §6.9): entrants, returnees, spin-offs, exits.

Everything else is held fixed, as in the nswn firm layer of ``benchmarks/docking.py``:
subsidies, partners, usable knowledge and institutions' output stay at their start values
(the docking sets subsidies to 0), and the technology environment (frontier, demand,
controls, decoupling; ``environment.py``) is updated per technology. Parameters come from
an nswn scenario's ``Config`` and the start state from an nswn ``State``, so both
implementations start from the same firms.

It exists only to dock nswn against an independent, conventional implementation and to
measure their relative speed; nothing in ``src/nswn`` imports it. Needs ``mesa>=3.0``
(``pip install -e ".[bench]"``).

Usage::

    from mesa_reference import FirmLayer
    model = FirmLayer(config, state, seed=0, end_year=2040)
    model.run()
    table = model.datacollector.get_model_vars_dataframe()
"""

from .agents import Firm, Technology
from .model import FirmLayer

__all__ = ["Firm", "FirmLayer", "Technology"]
