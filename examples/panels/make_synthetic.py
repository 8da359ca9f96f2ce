"""Write the synthetic panels ``synthetic_shortlist.csv`` and ``synthetic_broad.csv`` from the model.

Each panel is one run of the ``baseline`` scenario with the priority mode set (shortlist of
k = 5 by the model's rule, or broad), 1 000 firms, seed 2018 (shortlist) / 2019 (broad),
simulated 2025-2032 and labelled 2016-2023, observed through the same observation model
``nswn infer-priorities`` assumes: the catalog's 16 sectors as areas, indicators funding,
publications and patents, multiplicative lognormal noise σ = 0.3 (seeded with the run), and
two cells blanked to exercise missing values. Usage::

    python examples/panels/make_synthetic.py [OUTDIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from nswn import catalog
from nswn.analysis import panel as panels
from nswn.analysis import priorities_inference as pi

YEARS = range(2016, 2024)
INDICATORS = ("funding", "publications", "patents")
NOISE = 0.3
TRUTHS = {
    "synthetic_shortlist": ("shortlist", {"k": 5.0, "jitter": 0.0, "noise": NOISE}, 2018),
    "synthetic_broad": ("broad", {"noise": NOISE}, 2019),
}


def template(path: Path) -> panels.Panel:
    """A panel skeleton (all sectors × years × indicators) the simulator fills in."""
    sectors = sorted({t.sector for t in catalog.technologies() if t.group != "traditional"})
    rows = [(s, y, i, 1.0, "template") for s in sectors for y in YEARS for i in INDICATORS]
    pd.DataFrame(rows, columns=list(panels.REQUIRED)).to_csv(path, index=False)
    return panels.load_panel(path)


def main(outdir: Path) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    skeleton = template(outdir / "_template.csv")
    (outdir / "_template.csv").unlink()
    simulator = pi.PanelSimulator(skeleton, firms=1000)
    for name, (mode, params, seed) in TRUTHS.items():
        rng = np.random.default_rng(seed)
        series, _ = simulator.technology_series(mode, params, rng)
        cube = simulator.observe(series, params["noise"], rng)
        cube[0, 0, 0] = np.nan  # missing values, as real panels have
        cube[2, -1, 3] = np.nan
        rows = []
        for i, indicator in enumerate(skeleton.indicators):
            for y, year in enumerate(skeleton.years):
                for a, area in enumerate(skeleton.areas):
                    value = cube[i, y, a]
                    rows.append(
                        {
                            "area": area,
                            "year": year,
                            "indicator": indicator,
                            "value": "" if not np.isfinite(value) else f"{value:.6g}",
                            "source": f"synthetic: nswn baseline, priorities.mode={mode}"
                            + (", shortlist_size=5" if mode == "shortlist" else "")
                            + f", 1000 firms, seed {seed}, lognormal noise sigma={NOISE}"
                            + " (examples/panels/make_synthetic.py)",
                        }
                    )
        pd.DataFrame(rows).to_csv(outdir / f"{name}.csv", index=False)
        print(f"wrote {outdir / f'{name}.csv'} ({mode})")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
