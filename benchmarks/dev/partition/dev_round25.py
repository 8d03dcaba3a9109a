"""Development round 25 (benchmarks/decisions/cluster.md): the direction view's share D of the joint
cosine (0.20 today; 0.10, 0.15, 0.30) under the Ward cut at the default count, the other views
keeping their ratios, judged by Wang, Lin and Rel (round 14's rule).

    nice -n 10 python benchmarks/dev/partition/dev_round25.py   # -> dev_round25.{json,md} beside it

Made with the code committed right after the round's declaration (its candidate and this script; the
declaration came first); the clustering and the summary are round 13's (``dev_round13.run_round``).
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from dev_round13 import run_round, write_round  # noqa: E402

from contrastomics.cluster.embed import DEFAULT_WEIGHTS  # noqa: E402

TODAY = 0.20
CANDIDATES = (TODAY, 0.10, 0.15, 0.30)


def weights(d: float) -> dict:
    """The shipped weights with direction ``d``, every other view scaled by ``(1 - d) / 0.8``."""
    scale = (1.0 - d) / (1.0 - DEFAULT_WEIGHTS["direction"])
    return {**{k: v * scale for k, v in DEFAULT_WEIGHTS.items() if k != "direction"}, "direction": d}


def main() -> None:
    assert DEFAULT_WEIGHTS["direction"] == TODAY
    recs, summary, lines = run_round(CANDIDATES, lambda d: {"weights": weights(d)}, baseline=TODAY, vs="today",
                                     flag="qualifies", first="D")
    quals = [c for c in CANDIDATES if summary[c].get("qualifies")]
    summary["adopted"] = max(quals, key=lambda c: summary[c]["wang_vs_today"][0]) if quals else TODAY
    write_round("dev_round25", recs, summary, lines + [f"\nadopted: D = {summary['adopted']}"])


if __name__ == "__main__":
    main()
