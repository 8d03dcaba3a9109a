"""Development runs for issue 15 (p53_prerank, leukemia_prerank only): default joint clustering, pickled."""
import pickle, sys, warnings, time
from pathlib import Path
import numpy as np
ROOT = Path("/work/main")
sys.path.insert(0, str(ROOT / "benchmarks"))
from gsea_cohorts import library_for
from contrastomics.enrichment import read_gsea_result
from contrastomics.cluster import run_clustering, prepare
DATA = Path("/work/shared/data")
out = {}
for ds in ("p53_prerank", "leukemia_prerank"):
    for lib in ("gobp", "reactome", "hallmark", "kegg", "c2cp"):
        path = ROOT / "benchmarks/cache/gsea" / f"{ds}__{lib}.tsv"
        if not path.exists():
            print("missing", path.name); continue
        assert not path.name.startswith("mds")
        df = read_gsea_result(path)
        if (df.fdr < 0.25).sum() < 20:
            print("small", path.name, (df.fdr < 0.25).sum()); continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gs = library_for(lib, DATA)
            t = time.time()
            res = run_clustering(df, fdr_cutoff=0.25, gene_sets=gs, metrics=True)
            pw = prepare(df, fdr_cutoff=0.25, gene_sets=gs)
        n = len(pw.table)
        lab = np.empty(n, np.int64); lab[res.order] = res.table["cluster"].to_numpy()
        assert (res.table["term"].to_numpy()[np.argsort(res.order)] == pw.table["term"].to_numpy()).all()
        out[f"{ds}__{lib}"] = dict(terms=pw.table["term"].tolist(), titles=pw.titles, labels=lab,
                                  fdr=pw.table["fdr"].to_numpy(float), nes=pw.table["nes"].to_numpy(float),
                                  sizes=np.diff(pw.full_matrix.indptr), space=res.space, summary=res.summary,
                                  le=pw.le_matrix, full=pw.full_matrix)
        print(path.name, n, res.summary["n_clusters"], round(time.time() - t, 1), flush=True)
pickle.dump(out, open("/tmp/cluster_dev/dev.pkl", "wb"))
