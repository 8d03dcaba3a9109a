"""Development round 24 (benchmarks/decisions/cluster.md): P0, the k-means polish of the Ward cut by
distance (today), against P1, the polish by cosine to the centroid (spherical k-means,
``cluster.communities.POLISH_ASSIGN``), at the default count; the declared rule adds "or the mean
label support CI above 0" to round 16's.

    nice -n 10 python benchmarks/dev/partition/dev_round24.py   # -> dev_round24.{json,md} beside it

Made with the code committed right after the round's declaration (its candidate and this script; the
declaration came first); the clustering and the summary are round 13's (``dev_round13.run_round``).
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from dev_round13 import run_round, write_round  # noqa: E402

from contrastomics.cluster import communities  # noqa: E402

CANDIDATES = ("P0", "P1")


def configure(cand: str) -> dict:
    communities.POLISH_ASSIGN = "cosine" if cand == "P1" else "distance"
    return {}


def adopted(s: dict) -> bool:
    """The declared rule: no GO judge and no purity worse, round 13's constraints, and Wang or label
    support better (CI above 0)."""
    return bool(s["constraints_met"] and all(s[f"{j}_vs_P0"][2] >= 0 for j in ("wang", "lin", "rel"))
                and s["purity_vs_P0"][2] >= 0 and (s["wang_vs_P0"][1] > 0 or s["support_vs_P0"][1] > 0))


def main() -> None:
    recs, summary, lines = run_round(CANDIDATES, configure, baseline="P0", vs="P0", flag="round16_rule")
    summary["P1"]["adopt"] = adopted(summary["P1"])
    lines.insert(2 + len(CANDIDATES), "")
    lines.insert(3 + len(CANDIDATES), f"Declared rule (round 24): P1 adopted = {summary['P1']['adopt']}")
    write_round("dev_round24", recs, summary, lines)


if __name__ == "__main__":
    main()
