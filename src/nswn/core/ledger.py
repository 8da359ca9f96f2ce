"""The budget ledger: every yuan spent is booked to one source, instrument, technology and
recipient type, and the books must balance each year.

Sources are the central S&T budget (``central``), the local budgets (``local``) and
industrial policy for traditional industry (``industrial_policy``); instruments are the
lines that spend them (``basic_research``, ``local_discretion``, ``keep_manufacturing`` …). A mechanism first
*credits* the amount a source makes available, then *books* what each instrument pays out;
:meth:`Ledger.imbalance` is what was made available but not booked (zero when balanced).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

RECIPIENT_TYPES = ("institution", "soe_firm", "private_firm", "traditional_sector")


class Ledger:
    """Yearly books: payments by (instrument, recipient type, technology)."""

    def __init__(self, instruments: tuple[str, ...], n_technologies: int) -> None:
        self.instruments = instruments
        self.n_technologies = n_technologies
        self._instrument_index = {name: i for i, name in enumerate(instruments)}
        self.payments = np.zeros((len(instruments), len(RECIPIENT_TYPES), n_technologies))
        self.credited: dict[str, float] = {}

    def reset(self) -> None:
        """Open a new year's books."""
        self.payments.fill(0.0)
        self.credited = {}

    def credit(self, source: str, amount: float) -> None:
        """Record that ``source`` makes ``amount`` bn CNY available this year."""
        self.credited[source] = self.credited.get(source, 0.0) + float(amount)

    def book(
        self,
        instrument: str,
        recipient_type: str,
        technologies: NDArray[np.integer],
        amounts: NDArray[np.floating],
    ) -> None:
        """Book payments of one instrument to one recipient type, per recipient's technology."""
        i = self._instrument_index[instrument]
        r = RECIPIENT_TYPES.index(recipient_type)
        self.payments[i, r] += np.bincount(technologies, weights=amounts, minlength=self.n_technologies)

    def book_totals(self, instrument: str, recipient_type: str, per_technology: NDArray[np.floating]) -> None:
        """Book payments already summed per technology."""
        self.payments[self._instrument_index[instrument], RECIPIENT_TYPES.index(recipient_type)] += per_technology

    def total(self) -> float:
        """All payments booked this year, bn CNY."""
        return float(self.payments.sum())

    def imbalance(self) -> float:
        """Credited minus booked, bn CNY (0 when every yuan is attributed)."""
        return sum(self.credited.values()) - self.total()

    def by_instrument(self) -> dict[str, float]:
        """Payments per instrument this year."""
        sums = self.payments.sum(axis=(1, 2))
        return {name: float(sums[i]) for i, name in enumerate(self.instruments)}

    def by_technology(self, exclude: tuple[str, ...] = ()) -> NDArray[np.float64]:
        """Payments per technology this year, all recipients, over every instrument not in ``exclude``."""
        keep = [i for i, name in enumerate(self.instruments) if name not in exclude]
        out: NDArray[np.float64] = self.payments[keep].sum(axis=(0, 1))
        return out

    def by_recipient(self) -> dict[str, float]:
        """Payments per recipient type this year."""
        sums = self.payments.sum(axis=(0, 2))
        return {name: float(sums[i]) for i, name in enumerate(RECIPIENT_TYPES)}
