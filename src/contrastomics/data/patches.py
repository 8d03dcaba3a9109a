"""Image patches of spatial spots: which spatial library of an AnnData to use, square crops
centred on the spots (:func:`extract_patches`) and training augmentation of patch batches
(:func:`augment_patches`: flips, 90 degree rotations, HED stain jitter, brightness)."""
from __future__ import annotations

import numpy as np

from ..errors import InputError


def spatial_library(adata, library_id: str | None = None, required: bool = True) -> str | None:
    """The key of ``adata.uns['spatial']`` to use: ``library_id`` when given, else the only one.

    With several libraries and no ``library_id`` (or an unknown one) it raises
    :class:`InputError` when ``required``, else returns ``None``."""
    libs = list(adata.uns.get("spatial", {}))
    if library_id is not None:
        if library_id not in libs:
            if required:
                raise InputError(f"no spatial library {library_id!r} in the AnnData (have {libs})")
            return None
        return library_id
    if len(libs) == 1:
        return libs[0]
    if required:
        raise InputError(f"AnnData has {len(libs)} spatial libraries {libs}; pass library_id")
    return None



def extract_patches(adata, size_px: float = 224.0, out_px: int = 48, library_id: str | None = None,
                    progress: bool = False) -> np.ndarray:
    """Crop a square around every spot and resize it: ``uint8`` ``(n_spots, out_px, out_px, 3)``.

    Parameters
    ----------
    size_px
        Side of the crop in **full-resolution** pixels (224 px = ~155 um on HER2ST, centred on the
        100 um spot, as ST-Net/BLEEP crop). Parts of the crop beyond the image border are white.
    out_px
        Side of the returned patch; the default 48 px keeps CPU training cheap.
    """
    from PIL import Image

    lib = spatial_library(adata, library_id)
    entry = adata.uns["spatial"][lib]
    if "hires" not in entry.get("images", {}):
        raise InputError(f"section {lib!r} has no image; cannot extract patches")
    img = entry["images"]["hires"]
    sf = float(entry["scalefactors"]["tissue_hires_scalef"])
    h, w = img.shape[:2]
    half = size_px * sf / 2
    xy = np.asarray(adata.obsm["spatial"], dtype=np.float64) * sf
    out = np.empty((len(xy), out_px, out_px, 3), dtype=np.uint8)
    pil = Image.fromarray(img)
    it = range(len(xy))
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc=f"patches {lib}", leave=False)
    for i in it:
        x, y = xy[i]
        box = (x - half, y - half, x + half, y + half)
        if box[0] >= 0 and box[1] >= 0 and box[2] <= w and box[3] <= h:
            patch = pil.resize((out_px, out_px), Image.BILINEAR, box=box)
        else:  # beyond the border is white glass, not black
            x0, y0 = int(np.floor(box[0])), int(np.floor(box[1]))
            x1, y1 = int(np.ceil(box[2])) + 1, int(np.ceil(box[3])) + 1
            canvas = np.full((y1 - y0, x1 - x0, 3), 255, dtype=np.uint8)
            sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
            if sx1 > sx0 and sy1 > sy0:
                canvas[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = img[sy0:sy1, sx0:sx1]
            patch = Image.fromarray(canvas).resize(
                (out_px, out_px), Image.BILINEAR,
                box=(box[0] - x0, box[1] - y0, box[2] - x0, box[3] - y0))
        out[i] = np.asarray(patch)
    return out


# Ruifrok & Johnston stain vectors (rows: haematoxylin, eosin, DAB) in optical-density space.
RGB_FROM_HED = np.array([[0.65, 0.70, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]], dtype=np.float32)
HED_FROM_RGB = np.linalg.inv(RGB_FROM_HED).astype(np.float32)


def augment_patches(x, generator=None, flip: bool = True, stain_sigma: float = 0.05,
                    stain_bias: float = 0.02, brightness: float = 0.1):
    """Random flips / 90 degree rotations, HED stain jitter and brightness on a batch of patches.

    ``x`` is a float tensor ``(B, 3, H, W)`` in [0, 1]. Stain jitter (Tellez et al. 2018) scales
    and shifts each stain's optical density by ``1 + N(0, stain_sigma)`` and ``N(0, stain_bias)``,
    per image, which mimics lab-to-lab staining differences better than RGB jitter.
    """
    import torch

    b = x.shape[0]
    g = generator
    if flip:
        k = int(torch.randint(0, 4, (1,), generator=g))
        x = torch.rot90(x, k, dims=(2, 3))
        if bool(torch.rand(1, generator=g) < 0.5):
            x = x.flip(3)
    if stain_sigma > 0 or stain_bias > 0:
        od = -torch.log(x.clamp(1 / 255, 1.0))  # (B,3,H,W)
        hed = torch.einsum("bchw,cd->bdhw", od, torch.as_tensor(HED_FROM_RGB, dtype=x.dtype, device=x.device))
        alpha = 1 + stain_sigma * torch.randn(b, 3, 1, 1, generator=g).to(x)
        beta = stain_bias * torch.randn(b, 3, 1, 1, generator=g).to(x)
        hed = hed * alpha + beta
        od = torch.einsum("bdhw,dc->bchw", hed, torch.as_tensor(RGB_FROM_HED, dtype=x.dtype, device=x.device))
        x = torch.exp(-od).clamp(0, 1)
    if brightness > 0:
        x = (x * (1 + brightness * (2 * torch.rand(b, 1, 1, 1, generator=g).to(x) - 1))).clamp(0, 1)
    return x
