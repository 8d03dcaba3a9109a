"""Make ``gseapy_two_libraries.prerank.report.csv``: a real gseapy prerank run given two GMT files,
whose terms gseapy writes as ``<file name>__<set name>``.

    python tests/data/gsea/make_gseapy_two_libraries.py   # needs gseapy (pip install gseapy)
"""
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
MINI = HERE.parent / "msigdb_mini.gmt"


def main() -> None:
    import gseapy

    lines = MINI.read_text().splitlines()
    genes = sorted({g for line in lines for g in line.split("\t")[2:] if g})
    rng = np.random.default_rng(0)
    score = pd.Series(rng.normal(size=len(genes)), index=genes).sort_values(ascending=False)
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for prefix in ("KEGG_", "REACTOME_"):
            f = Path(tmp) / f"c2_{prefix.lower().rstrip('_')}_mini.gmt"
            f.write_text("\n".join(x for x in lines if x.startswith(prefix)) + "\n")
            files.append(str(f))
        res = gseapy.prerank(score.reset_index(), gene_sets=files, permutation_num=100, min_size=5,
                             max_size=1000, seed=0, outdir=None, threads=1, verbose=False)
    res.res2d.to_csv(HERE / "gseapy_two_libraries.prerank.report.csv", index=False, float_format="%.6e")


if __name__ == "__main__":
    main()
