"""Development round 16 (benchmarks/decisions/cluster.md): K0, the Ward cut (today), against K1, the
Ward cut polished by Lloyd's k-means in the joint space (``cluster.communities.POLISH``), at the
default count, judged by Wang, Lin and Rel (round 14's rule).

    nice -n 10 python benchmarks/dev/partition/dev_round16.py   # -> dev_round16.{json,md} beside it

Made with the code of the commit that declared the round; the clustering and the summary are round
13's (``dev_round13.run_round``).
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from dev_round13 import run_round, write_round  # noqa: E402

from contrastomics.cluster import communities  # noqa: E402

CANDIDATES = ("K0", "K1")


def configure(cand: str) -> dict:
    communities.POLISH = cand == "K1"
    return {}


def main() -> None:
    recs, summary, lines = run_round(CANDIDATES, configure, baseline="K0", vs="K0", flag="adopt")
    write_round("dev_round16", recs, summary, lines)


if __name__ == "__main__":
    main()
