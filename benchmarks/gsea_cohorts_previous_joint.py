"""`gsea_cohorts.py` with `joint`'s PREVIOUS default weights, on the current code (joint + overlap baselines).

    nice -n 10 python benchmarks/gsea_cohorts_previous_joint.py     # ~2 min
    -> benchmarks/results/gsea_cohorts_previous_joint.{json,md}

Why: on 23 Nov 2026 `joint`'s default changed (by the fixed rule of ``benchmarks/cluster_tune.py``,
tuned on p53 only) from 0.5 leading-edge Ochiai + 0.1 / 0.1 / 0.3 gene-LE / gene-full / text towers
to 0.3 leading-edge + 0.7 full-set Ochiai with no tower weight. This reruns the same protocol
(matched_k with seeds 0 1 2, default setting, main-protocol results only) for the previous weights so
that old and new defaults are compared on the same code and the same held-out results. It was NOT
used to choose the weights (that choice is made on the p53 tuning results only). The weights are set
for this process only (``METHOD_WEIGHTS["joint"]``); the package default is untouched.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

PREVIOUS_WEIGHTS = {"leading_edge_overlap": 0.5, "leading_edge": 0.1, "full_set": 0.1, "text": 0.3}
NAME = "gsea_cohorts_previous_joint"


def main() -> None:
    import contrastomics.cluster.embed as embed
    embed.METHOD_WEIGHTS["joint"] = dict(PREVIOUS_WEIGHTS)  # what run_clustering reads for method="joint"
    embed.DEFAULT_WEIGHTS = dict(PREVIOUS_WEIGHTS)  # what gsea_cohorts records as joint's weights
    import gsea_cohorts
    gsea_cohorts.NAME = NAME
    prefix = ROOT / "benchmarks" / "results" / NAME
    gsea_cohorts.main(["--methods", "joint", "overlap", "overlap-knn", "kappa", "--no-secondary", "--out", str(prefix),
                       *sys.argv[1:]])
    from contrastomics.data.io import atomic_write
    md = prefix.with_suffix(".md").read_text()
    md = md.replace(f"# {NAME}: clustering real GSEA results, every method, matched cluster counts",
                    f"# {NAME}: `joint` with its PREVIOUS default weights {PREVIOUS_WEIGHTS} vs the overlap "
                    "baselines, same protocol and code as gsea_cohorts.md")
    md = md.replace("Produced by `python benchmarks/gsea_cohorts.py`",
                    "Produced by `python benchmarks/gsea_cohorts_previous_joint.py` (gsea_cohorts.py with joint's "
                    "previous weights; NOT used to choose any weight; the current default is in gsea_cohorts.md)")
    with atomic_write(prefix.with_suffix(".md")) as fh:
        fh.write(md)


if __name__ == "__main__":
    main()
