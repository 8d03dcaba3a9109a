"""MSigDB table + GMT join and Enrichr GMT (the read_library resolver: test_data_library.py)."""
import shutil
from pathlib import Path

import pytest

from contrastomics.data.msigdb import collection_label, read_enrichr, read_msigdb
from contrastomics.errors import InputError

DATA = Path(__file__).parent / "data"
SETS = DATA / "msigdb_mini_sets.tsv"
GMT = DATA / "msigdb_mini.gmt"
CHEA = DATA / "enrichr_chea_mini.gmt"
SHARED = Path("/work/shared/data/genesets")


def test_collection_label():
    assert collection_label("C2", "CP:REACTOME") == "C2:CP:REACTOME"
    assert collection_label("H", "") == "H"


def test_read_msigdb_join():
    with pytest.warns(UserWarning, match=r"1 of the 6 MSigDB set\(s\) selected in .* have no gene list in .*: the library holds the other 5"):
        lib = read_msigdb(SETS, GMT)
    assert sorted(lib.terms) == ["HALLMARK_APOPTOSIS", "HALLMARK_P53_PATHWAY", "KEGG_APOPTOSIS",
                                 "REACTOME_APOPTOSIS", "REACTOME_TP53_REGULATES_TRANSCRIPTION_OF_CELL_DEATH_GENES"]
    assert lib.meta["n_without_membership"] == 1  # GOBP_APOPTOTIC_PROCESS: no GMT line
    assert lib.meta["n_not_in_table"] == 1  # NOT_IN_TABLE: GMT only
    i = lib.index("REACTOME_APOPTOSIS")
    assert lib.collections[i] == "C2:CP:REACTOME"
    assert lib.sizes[i] == 179
    assert lib.collections[lib.index("HALLMARK_APOPTOSIS")] == "H"
    assert lib.descriptions[lib.index("HALLMARK_APOPTOSIS")].startswith("Genes mediating programmed cell death")
    assert "CASP3" in lib.genes_of("HALLMARK_APOPTOSIS")
    assert lib.meta["membership_version"]["KEGG_APOPTOSIS"] == "7.5.1"
    assert lib.texts("title")[lib.index("HALLMARK_APOPTOSIS")] == "Apoptosis"


def test_read_msigdb_collection_filter():
    r = read_msigdb(SETS, GMT, collections="C2:CP:REACTOME")
    assert len(r) == 2 and set(r.collections) == {"C2:CP:REACTOME"}
    c2 = read_msigdb(SETS, GMT, collections=["c2"])  # prefix match on whole labels, case-insensitive
    assert len(c2) == 3
    h = read_msigdb(SETS, GMT, collections="H")
    assert sorted(h.terms) == ["HALLMARK_APOPTOSIS", "HALLMARK_P53_PATHWAY"]
    with pytest.raises(InputError, match="no MSigDB collection matches C2:CP:WIKI; available: C2:CP:KEGG"):
        read_msigdb(SETS, GMT, collections="C2:CP:WIKI")
    with pytest.raises(InputError, match="none of the selected MSigDB sets has membership"):
        read_msigdb(SETS, GMT, collections="C5")


def test_read_msigdb_default_gmt_and_errors(tmp_path):
    shutil.copy(SETS, tmp_path / "x_sets.tsv")
    with pytest.raises(InputError, match="pass gmt="):
        read_msigdb(tmp_path / "x_sets.tsv")
    shutil.copy(GMT, tmp_path / "x.gmt")
    assert len(read_msigdb(tmp_path / "x_sets.tsv", collections="H")) == 2
    bad = tmp_path / "bad.tsv"
    bad.write_text("name\tcategory\nA\tH\n")
    with pytest.raises(InputError, match="not an MSigDB set table: missing column") as e:
        read_msigdb(bad, GMT)
    assert e.value.line == 1 and e.value.path == str(bad)
    dup = tmp_path / "dup.tsv"
    lines = SETS.read_text().splitlines()
    dup.write_text("\n".join(lines + [lines[1]]) + "\n")
    with pytest.raises(InputError, match="duplicate gene set name 'KEGG_APOPTOSIS'") as e:
        read_msigdb(dup, GMT)
    assert e.value.line == len(lines) + 1


def test_read_enrichr():
    lib = read_enrichr(CHEA)
    assert "NANOG-21062744 (human)" in lib.terms  # names kept verbatim
    assert set(lib.descriptions) == {""}  # 'na' and empty
    assert set(lib.genes_of("WEIGHTED-12345 (human)")) == {"TP53", "MDM2", "CDKN1A"}  # ',1.0' stripped
    assert lib.meta["species"]["KDM5B-21448134 (mouse)"] == "mouse"
    assert sum(v == "human" for v in lib.meta["species"].values()) == 4
    assert lib.name == "enrichr_chea_mini"


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "msigdb_hs_sets.tsv").exists(), reason="shared MSigDB data absent")
def test_real_msigdb_reactome():
    lib = read_msigdb(SHARED / "msigdb_hs_sets.tsv", SHARED / "msigdb_hs.gmt", collections="C2:CP:REACTOME")
    assert len(lib) == 1654  # README: C2:CP:REACTOME 1,654 sets with membership
    assert lib.meta["n_without_membership"] == 0


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "enrichr/ChEA.gmt").exists(), reason="shared Enrichr data absent")
def test_real_chea_species():
    lib = read_enrichr(SHARED / "enrichr/ChEA.gmt")
    assert len(lib) == 240
    assert sorted(set(lib.meta["species"].values())) == ["human", "mouse"]
