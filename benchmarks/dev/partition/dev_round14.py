"""Development round 14 (benchmarks/decisions/cluster.md): the ontology share O of the joint cosine
(0.52 today; 0.60, 0.68, 0.76) at round 13's default count, judged by Wang, Lin and Rel.

    nice -n 10 python benchmarks/dev/partition/dev_round14.py   # -> dev_round14.{json,md} beside it

Made with the code of the commit that declared the round (weights as in round 11: direction 0.2,
the other views keeping their ratios in the rest); the clustering and the summary are round 13's
(``dev_round13.run_round``), the weights round 11's (``dev_round11.weights``).
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from dev_round11 import weights  # noqa: E402
from dev_round13 import run_round, write_round  # noqa: E402

TODAY = 0.52
CANDIDATES = (TODAY, 0.60, 0.68, 0.76)


def main() -> None:
    recs, summary, lines = run_round(CANDIDATES, lambda o: {"weights": weights(o)}, baseline=TODAY, vs="today",
                                     flag="qualifies", first="O")
    quals = [c for c in CANDIDATES if summary[c].get("qualifies")]
    summary["adopted"] = min(quals) if quals else TODAY
    write_round("dev_round14", recs, summary, lines + [f"\nadopted: O = {summary['adopted']}"])


if __name__ == "__main__":
    main()
