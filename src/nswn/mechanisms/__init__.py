"""Endogenous dynamics of the NSWN model, one module per mechanism (model.md §6).

Each module has a prose docstring (what it models, state read and written, parameters,
the brief's section it encodes), a frozen ``Params`` dataclass declared with
:func:`nswn.core.params.param`, and a class with ``name`` and ``step(state, ctx)``.
"""
