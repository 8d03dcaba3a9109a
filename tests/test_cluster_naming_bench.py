"""benchmarks/cluster_naming.py: the MSigDB spelling of GO set names, pinned on hand-written cases."""
from __future__ import annotations

import pandas as pd
import pytest

from benchmark_scripts import bench


@pytest.fixture(scope="module")
def cn():
    return bench("cluster_naming")


@pytest.mark.parametrize("name, expected", [
    ("apoptotic process", "GOBP_APOPTOTIC_PROCESS"),
    ("ubiquitin-dependent ERAD pathway (GO:0030433)", "GOBP_UBIQUITIN_DEPENDENT_ERAD_PATHWAY"),
    ("2Fe-2S cluster assembly", "GOBP_2FE_2S_CLUSTER_ASSEMBLY"),
    ("negative regulation of transcription, DNA-templated", "GOBP_NEGATIVE_REGULATION_OF_TRANSCRIPTION_DNA_TEMPLATED"),
    ("NAD+ metabolic process", "GOBP_NADPLUS_METABOLIC_PROCESS"),
    ("poly(A)+ mRNA export from nucleus (GO:0016973)", "GOBP_POLY_A_PLUS_MRNA_EXPORT_FROM_NUCLEUS"),
    ("3'-UTR-mediated mRNA stabilization", "GOBP_3_UTR_MEDIATED_MRNA_STABILIZATION"),
    ("T-helper 1 type immune response  ", "GOBP_T_HELPER_1_TYPE_IMMUNE_RESPONSE"),
])
def test_msigdb_name(cn, name, expected):
    assert cn.msigdb_name(name) == expected


def test_go_id_only_in_suffix_is_dropped(cn):
    # the id is dropped only as a trailing " (GO:nnnnnnn)", not elsewhere
    assert cn.msigdb_name("response to GO:0000001-like stress") == "GOBP_RESPONSE_TO_GO_0000001_LIKE_STRESS"
    assert cn.msigdb_name("x (GO:0000001)", prefix="GOMF_") == "GOMF_X"


def test_renamed_table(cn):
    df = pd.DataFrame({"term": ["ERAD pathway (GO:0036503)", "cell cycle (GO:0007049)"],
                       "name": ["ERAD pathway", None], "nes": [1.5, -2.0]})
    out = cn.renamed(df)
    assert out["term"].tolist() == ["GOBP_ERAD_PATHWAY", "GOBP_CELL_CYCLE"]
    assert out["name"].tolist() == out["term"].tolist()
    assert out["nes"].tolist() == [1.5, -2.0] and df["term"][0] == "ERAD pathway (GO:0036503)"
