"""Development round 21 (benchmarks/decisions/cluster.md): O0, every pathway clustered (today),
against O1 / O2, the pathways with a negative silhouette in the joint space's Euclidean distances
left unclustered (at most 5% / 2.5% of the pathways; ``cluster.communities.DETACH_SHARE``), at the
default count, judged as rounds 14 and 16 (Wang, Lin, Rel per pathway with singletons scoring 0).

    nice -n 10 python benchmarks/dev/partition/dev_round21.py   # -> dev_round21.{json,md} beside it

The clustering and the summary are round 13's (``dev_round13.run_round``).
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from dev_round13 import run_round, write_round  # noqa: E402

from contrastomics.cluster import communities  # noqa: E402

CANDIDATES = {"O0": 0.0, "O1": 0.05, "O2": 0.025}


def configure(cand: str) -> dict:
    communities.DETACH_SHARE = CANDIDATES[cand]
    return {}


def main() -> None:
    recs, summary, lines = run_round(tuple(CANDIDATES), configure, baseline="O0", vs="O0", flag="qualifies")
    write_round("dev_round21", recs, summary, lines)


if __name__ == "__main__":
    main()
