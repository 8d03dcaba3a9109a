"""Development round 23 (benchmarks/decisions/cluster.md): V0, the GO view over the is_a / part_of
closure (today), against V1, the GO view over the Map2Slim closure (is_a, part_of and the regulates
family; ``cluster.library_parts.GO_VIEW_RELATIONS``), at the default count, judged as rounds 14 and 16.

    nice -n 10 python benchmarks/dev/partition/dev_round23.py   # -> dev_round23.{json,md} beside it
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from dev_round13 import run_round, write_round  # noqa: E402

from contrastomics.cluster import library_parts  # noqa: E402
from contrastomics.data.ontology import MAP2SLIM_RELATIONS  # noqa: E402

CANDIDATES = ("V0", "V1")


def configure(cand: str) -> dict:
    library_parts.GO_VIEW_RELATIONS = MAP2SLIM_RELATIONS if cand == "V1" else None
    return {}


def main() -> None:
    recs, summary, lines = run_round(CANDIDATES, configure, baseline="V0", vs="V0", flag="adopt")
    write_round("dev_round23", recs, summary, lines)


if __name__ == "__main__":
    main()
