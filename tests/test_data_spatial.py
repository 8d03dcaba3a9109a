"""Spatial readers, processing and patches (data.spatial, data.patches) on tiny synthetic HER2ST / Visium folders."""
import gzip
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.io
import scipy.sparse as sp
from PIL import Image

from contrastomics.data import patches as P
from contrastomics.data import spatial as S
from contrastomics.errors import InputError

W, H = 400, 300


def _image(mode="RGB"):
    """Pink background with a pure blue square at (100..140, 60..100) full-res px."""
    a = np.full((H, W, 3), (230, 180, 220), dtype=np.uint8)
    a[60:100, 100:140] = (0, 0, 255)
    img = Image.fromarray(a)
    if mode == "RGBA":
        img = img.convert("RGBA")
    elif mode == "L":
        img = img.convert("L")
    return img


def _her2st(tmp: Path, img_mode="RGB", dup_gene=False, outside=False, bad_cell=False, with_image=True):
    """Two sections: S1 (image) and S2 (no image). Spots on array (x, y) at pixel (40x, 40y)."""
    (tmp / "data/ST-cnts").mkdir(parents=True)
    (tmp / "data/ST-spotfiles").mkdir(parents=True)
    rows = []
    for s in ("S1", "S2"):
        xs = [(3, 2), (4, 2), (5, 2), (3, 3)]
        genes = ["GA", "GB", "GC", "GA" if dup_gene and s == "S1" else "GD"]
        counts = pd.DataFrame([[1, 2, 0, 3], [4, 0, 1, 1], [0, 0, 5, 0], [2, 2, 2, 2]],
                              index=[f"{x}x{y}" for x, y in xs], columns=genes)
        text = counts.to_csv(sep="\t")
        if bad_cell and s == "S1":
            text = text.replace("\t5\t", "\tfive\t")
        with gzip.open(tmp / f"data/ST-cnts/{s}.tsv.gz", "wt") as fh:
            fh.write(text)
        spots = pd.DataFrame({"x": [x for x, _ in xs], "y": [y for _, y in xs],
                              "new_x": [x for x, _ in xs], "new_y": [y for _, y in xs],
                              "pixel_x": [40.0 * x for x, _ in xs], "pixel_y": [40.0 * y for _, y in xs],
                              "selected": 1})
        if outside and s == "S1":
            spots.loc[3, "pixel_x"] = W + 500
        spots.to_csv(tmp / f"data/ST-spotfiles/{s}_selection.tsv", sep="\t", index=False)
        img_rel = f"data/ST-imgs/S/{s}/{s}.png"
        if s == "S1" and with_image:
            (tmp / img_rel).parent.mkdir(parents=True)
            _image(img_mode).save(tmp / img_rel)
        rows.append({"section": s, "patient": "P", "counts_file": f"data/ST-cnts/{s}.tsv.gz",
                     "spot_file": f"data/ST-spotfiles/{s}_selection.tsv", "image_file": img_rel})
    pd.DataFrame(rows).to_csv(tmp / "section_index.csv", index=False)
    return tmp


def test_read_section_layout_and_patch_content(tmp_path):
    root = _her2st(tmp_path)
    a = S.read_her2st_section(root, "S1", image_scale=0.5)
    assert a.shape == (4, 4)
    np.testing.assert_allclose(a.obsm["spatial"][1], [160.0, 80.0])   # (x, y) full-res px
    entry = a.uns["spatial"]["S1"]
    assert entry["images"]["hires"].shape == (H // 2, W // 2, 3)
    assert entry["scalefactors"]["tissue_hires_scalef"] == pytest.approx(0.5)
    assert a.X[1].toarray().tolist() == [[4, 0, 1, 1]]
    # spot (3, 2) sits at pixel (120, 80): inside the blue square -> a blue patch
    p = P.extract_patches(a, size_px=20, out_px=8)
    assert p.shape == (4, 8, 8, 3) and p.dtype == np.uint8
    assert p[0, 2:6, 2:6, 2].mean() > 240 and p[0, 2:6, 2:6, 0].mean() < 15
    assert p[2, :, :, 0].mean() > 200                                  # spot (5, 2) at x=200: pink


def test_patch_beyond_border_is_white(tmp_path):
    root = _her2st(tmp_path)
    a = S.read_her2st_section(root, "S1", image_scale=1.0)
    a.obsm["spatial"][0] = [2.0, 2.0]                                  # near the corner
    p = P.extract_patches(a, size_px=40, out_px=10)
    assert (p[0, :3, :3] >= 250).all()                                 # outside -> white glass
    assert p[0, 7:, 7:, 0].mean() > 200                                # inside -> pink tissue


def test_duplicated_genes_are_summed_with_warning(tmp_path):
    root = _her2st(tmp_path, dup_gene=True)
    with pytest.warns(UserWarning, match="1 duplicated gene names were summed"):
        a = S.read_her2st_section(root, "S1")
    assert list(a.var_names) == ["GA", "GB", "GC"]
    assert a[:, "GA"].X.toarray().ravel().tolist() == [4, 5, 0, 4]


def test_spots_outside_image_dropped_and_counted(tmp_path):
    root = _her2st(tmp_path, outside=True)
    with pytest.warns(UserWarning, match="1 of 4 spots lie outside the image"):
        a = S.read_her2st_section(root, "S1")
    assert a.n_obs == 3


def test_missing_image_section_is_kept_expression_only(tmp_path):
    root = _her2st(tmp_path)
    with pytest.warns(UserWarning, match="S2: no H&E image"):
        out = S.read_her2st(root, progress=False)
    assert set(out) == {"S1", "S2"}
    assert S.has_image(out["S1"]) and not S.has_image(out["S2"])
    with pytest.warns(UserWarning, match="1 sections skipped for lack of an H&E image: S2"):
        only = S.read_her2st(root, require_image=True, progress=False)
    assert list(only) == ["S1"]


def test_bad_section_does_not_stop_the_others(tmp_path):
    root = _her2st(tmp_path, bad_cell=True)
    with pytest.raises(InputError, match="non-numeric count in column 'GC'") as e:
        S.read_her2st_section(root, "S1")
    assert e.value.line == 4
    with pytest.warns(UserWarning) as rec:
        out = S.read_her2st(root, image=False, progress=False)
    msgs = [str(w.message) for w in rec]
    assert any("section S1 skipped" in m and ":4: non-numeric" in m for m in msgs)
    assert any("1 of 2 sections could not be read: S1" in m for m in msgs)
    assert list(out) == ["S2"]


@pytest.mark.parametrize("mode", ["RGBA", "L"])
def test_unexpected_colour_mode_is_converted(tmp_path, mode):
    root = _her2st(tmp_path, img_mode=mode)
    with pytest.warns(UserWarning, match=f"colour mode '{mode}' converted to RGB"):
        a = S.read_her2st_section(root, "S1", image_scale=1.0)
    img = a.uns["spatial"]["S1"]["images"]["hires"]
    assert img.shape == (H, W, 3)
    if mode == "L":
        assert (img[..., 0] == img[..., 2]).all()


def test_unreadable_image_is_input_error(tmp_path):
    f = tmp_path / "x.jpg"
    f.write_bytes(b"not an image")
    with pytest.raises(InputError, match="cannot read image"):
        S.load_image(f)


def test_log_normalize_and_select_genes(tmp_path):
    root = _her2st(tmp_path)
    a = S.read_her2st_section(root, "S2", image=False)
    S.log_normalize(a, target_sum=10)
    # spot 0 counts [1,2,0,3] total 6 -> log1p(c * 10/6)
    np.testing.assert_allclose(a.X[0].toarray().ravel(), np.log1p(np.array([1, 2, 0, 3]) * 10 / 6), rtol=1e-6)
    assert a.layers["counts"][0].toarray().ravel().tolist() == [1, 2, 0, 3]
    genes, stats = S.select_genes([a], n_genes=2, method="variable", min_spot_fraction=0.0)
    assert genes == stats.sort_values("variance", ascending=False).index[:2].tolist()
    top, _ = S.select_genes([a], n_genes=1, method="expressed", min_spot_fraction=0.0)
    assert top == [stats["mean"].idxmax()]
    with pytest.warns(UserWarning, match="1 of 2 genes are absent"):
        m = S.expression_matrix(a, ["GA", "NOPE"])
    assert (m[:, 1] == 0).all() and m.shape == (4, 2)


def _visium(tmp: Path, header=True):
    sp_dir = tmp / "spatial"
    mtx = tmp / "filtered_feature_bc_matrix"
    sp_dir.mkdir(parents=True)
    mtx.mkdir()
    barcodes = ["AAA-1", "CCC-1", "GGG-1"]
    m = sp.csr_matrix(np.array([[1, 0, 3], [2, 5, 0]]))                # genes x barcodes
    with gzip.open(mtx / "matrix.mtx.gz", "wb") as fh:
        scipy.io.mmwrite(fh, m)
    with gzip.open(mtx / "features.tsv.gz", "wt") as fh:
        fh.write("ENSG1\tGA\tGene Expression\nENSG2\tGB\tGene Expression\n")
    with gzip.open(mtx / "barcodes.tsv.gz", "wt") as fh:
        fh.write("\n".join(barcodes) + "\n")
    pos = pd.DataFrame({"barcode": barcodes + ["TTT-1"], "in_tissue": [1, 1, 0, 1], "array_row": [0, 1, 2, 3],
                        "array_col": [0, 1, 2, 3], "pxl_row_in_fullres": [80, 120, 10, 50],
                        "pxl_col_in_fullres": [120, 300, 10, 50]})
    name = "tissue_positions.csv" if header else "tissue_positions_list.csv"
    pos.to_csv(sp_dir / name, index=False, header=header)
    (sp_dir / "scalefactors_json.json").write_text(json.dumps(
        {"tissue_hires_scalef": 0.5, "spot_diameter_fullres": 30.0}))
    _image().resize((W // 2, H // 2)).save(sp_dir / "tissue_hires_image.png")
    return tmp


@pytest.mark.parametrize("header", [True, False])
def test_read_visium(tmp_path, header):
    folder = _visium(tmp_path / "lib1", header=header)
    with pytest.warns(UserWarning, match="1 of 3 barcodes are not in-tissue"):
        a = S.read_visium(folder)
    assert list(a.obs_names) == ["AAA-1", "CCC-1"]
    assert a.X.toarray().tolist() == [[1, 2], [0, 5]]
    np.testing.assert_allclose(a.obsm["spatial"], [[120, 80], [300, 120]])     # (x=col, y=row)
    assert a.uns["spatial"]["lib1"]["scalefactors"]["tissue_hires_scalef"] == 0.5
    p = P.extract_patches(a, size_px=20, out_px=4)
    assert p[0, ..., 2].mean() > 240                                   # AAA-1 on the blue square


def test_visium_without_positions_is_input_error(tmp_path):
    folder = _visium(tmp_path / "lib")
    (folder / "spatial" / "tissue_positions.csv").unlink()
    with pytest.raises(InputError, match="tissue_positions"):
        S.read_visium(folder)


def test_augment_patches():
    import torch

    x = torch.rand(4, 3, 8, 8) * 0.5 + 0.3
    same = P.augment_patches(x, flip=False, stain_sigma=0, stain_bias=0, brightness=0)
    torch.testing.assert_close(same, x)
    # HED round trip without jitter is the identity (up to clamping)
    rt = P.augment_patches(x, flip=False, stain_sigma=1e-9, stain_bias=0, brightness=0)
    torch.testing.assert_close(rt, x, atol=1e-4, rtol=1e-4)
    g = torch.Generator().manual_seed(0)
    y = P.augment_patches(x, generator=g, stain_sigma=0.2)
    assert y.shape == x.shape and 0 <= y.min() and y.max() <= 1
    assert (y - x).abs().mean() > 0.01


def test_read_string_descriptions(tmp_path):
    f = tmp_path / "info.txt.gz"
    with gzip.open(f, "wt") as fh:
        fh.write("#string_protein_id\tpreferred_name\tprotein_size\tannotation\n"
                 "9606.E1\tERBB2\t1255\tReceptor tyrosine-protein kinase erbB-2\n")
    assert S.read_string_descriptions(f) == {"ERBB2": "Receptor tyrosine-protein kinase erbB-2"}
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\n1\t2\n")
    with pytest.raises(InputError, match="not a STRING"):
        S.read_string_descriptions(bad)


HER2ST = Path("/work/shared/data/her2st")


def test_real_her2st_section_without_image():
    if not (HER2ST / "section_index.csv").exists():
        pytest.skip("HER2ST data not present")
    with pytest.warns(UserWarning, match="no H&E image"):
        a = S.read_her2st_section(HER2ST, "C1")
    assert a.n_obs == 176 and a.obs["patient"].iloc[0] == "C"


def test_read_visium_h5_matrix(tmp_path):
    import h5py

    folder = _visium(tmp_path / "lib")
    import shutil

    shutil.rmtree(folder / "filtered_feature_bc_matrix")
    m = sp.csc_matrix(np.array([[1, 0, 3], [2, 5, 0]]))                # genes x barcodes
    with h5py.File(folder / "filtered_feature_bc_matrix.h5", "w") as f:
        g = f.create_group("matrix")
        g["data"], g["indices"], g["indptr"] = m.data, m.indices, m.indptr
        g["shape"] = np.array(m.shape)
        g["barcodes"] = np.array([b"AAA-1", b"CCC-1", b"GGG-1"])
        g.create_group("features")["name"] = np.array([b"GA", b"GB"])
    with pytest.warns(UserWarning, match="not in-tissue"):
        a = S.read_visium(folder)
    assert a.X.toarray().tolist() == [[1, 2], [0, 5]]


def test_patch_helpers_are_reexported_from_spatial():
    assert S.extract_patches is P.extract_patches and S.augment_patches is P.augment_patches
