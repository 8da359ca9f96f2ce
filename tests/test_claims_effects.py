"""Each claim's effect function on synthetic tables: sign, size and arm order.

The tables are hand-made (a technology or two, two or three years), so that the effect
each claim computes can be written down in the test: a claim whose arms are swapped, whose
sign is flipped or whose technology group is emptied gives a different number.
(These follow the claims as defined in ``experiments/claims.py``; when a claim's
definition changes, its test here changes with it.)
"""

from __future__ import annotations

import pandas as pd
import pytest

from nswn.experiments import claims as cl


def tech(rows: list[dict[str, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows)


def macro(column: str, years: list[int], values: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"year": years, column: values})


EMPTY = pd.DataFrame()


def controls_world(rc_controls: float, rc_free: float, foreign: tuple[float, float]) -> cl.World:
    """Technology a is controlled (fence > 0), b is not; 2024 and 2035."""

    def table(rc_a: float, fence: float, foreign_a: float) -> pd.DataFrame:
        return tech(
            [
                {"technology_id": "a", "year": y, "fence_height": fence, "relative_capability": rc_a,
                 "china_domestic_share": 0.5, "foreign_china_sales": foreign_a, "foreign_exports": 1.0}
                for y in (2024, 2035)
            ]
            + [
                {"technology_id": "b", "year": y, "fence_height": 0.0, "relative_capability": 9.0,
                 "china_domestic_share": 0.5, "foreign_china_sales": 100.0, "foreign_exports": 1.0}
                for y in (2024, 2035)
            ]
        )  # fmt: skip

    return {
        "baseline": (table(rc_controls, 0.7, foreign[0]), EMPTY),
        "no_controls": (table(rc_free, 0.0, foreign[1]), EMPTY),
    }


def test_c7a_is_no_controls_minus_controls_on_controlled_technologies() -> None:
    world = controls_world(rc_controls=0.5, rc_free=0.8, foreign=(10.0, 10.0))
    assert cl.claims_by_id()["C7a"].effect(world) == pytest.approx(0.3)


def test_c7c_is_foreign_sales_lost_to_controls_after_the_start() -> None:
    # controlled technology a only, 2035 only: (4 + 1) without controls − (2 + 1) with
    world = controls_world(rc_controls=0.5, rc_free=0.5, foreign=(2.0, 4.0))
    assert cl.claims_by_id()["C7c"].effect(world) == pytest.approx(2.0)


def test_c3_is_how_much_closer_broad_priorities_are_to_none_than_to_a_shortlist() -> None:
    def table(closed: float, weight: float) -> pd.DataFrame:
        return tech(
            [
                {"technology_id": "s", "year": 2024, "gap": 1.0, "priority_weight": weight},
                {"technology_id": "s", "year": 2035, "gap": 1.0 - closed, "priority_weight": weight},
                {"technology_id": "o", "year": 2024, "gap": 1.0, "priority_weight": 0.0},
                {"technology_id": "o", "year": 2035, "gap": 0.0, "priority_weight": 0.0},
            ]
        )

    world = {
        "baseline": (table(0.1, 1.0), EMPTY),
        "no_priorities": (table(0.15, 0.0), EMPTY),
        "shortlist5": (table(0.5, 1.0), EMPTY),
    }
    # |0.1 − 0.5| − |0.1 − 0.15| on the shortlisted technology s
    assert cl.claims_by_id()["C3"].effect(world) == pytest.approx(0.35)


def test_c8b_is_entries_under_decentralisation_minus_centralisation() -> None:
    world = {
        "centralised": (EMPTY, macro("entries", [2024, 2025, 2026], [0.0, 4.0, 6.0])),
        "decentralised": (EMPTY, macro("entries", [2024, 2025, 2026], [0.0, 10.0, 20.0])),
    }
    assert cl.claims_by_id()["C8b"].effect(world) == pytest.approx(20.0)
