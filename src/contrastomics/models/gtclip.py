"""gtCLIP: gene sets and pathway text in one embedding space (paper 000).

Two towers, open_clip style:

- gene-set tower: a :class:`~contrastomics.models.gsfm.GSFM` encoder (optionally initialised from a
  pretrained GSFM or from the training texts; its last ``trainable_gsfm_layers`` weight layers
  train) -> dropout -> Linear to ``embed_dim`` (published 256 -> 128);
- text tower: a sentence-transformers model (:class:`~contrastomics.models.text.TextEncoder`,
  frozen by default, its embeddings cached on disk) -> Linear -> GELU -> dropout -> Linear
  (published 768 -> 256 -> 128).

Both outputs are L2-normalised; the logit scale is ``exp(t)`` with ``t`` learnable (initial
temperature 0.0154, clamped to a scale of at most 100). The GSFM decoder is kept for the auxiliary
reconstruction loss (``recon_weight``); a model saved with ``include_decoder=False`` drops it to
stay small (the shipped default does).

A model folder holds ``config.json`` (:class:`GtClipConfig`, ``model_type: "gtclip"``),
``model.safetensors`` (gene tower + projection heads + logit scale) and ``vocab.txt`` (GSFM
layout). The base text encoder is not saved unless it was fine-tuned (then it goes to the
sub-folder ``text_encoder/``); otherwise ``config.text_encoder`` names it (default: the packaged
MiniLM), so the shipped model stays a few MB.
"""
from __future__ import annotations

import json
import math
import os
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import InputError
from .gsfm import GSFM, GSFMConfig, SPECIAL_TOKENS, load_weights, read_config, resolve_model_folder, save_model_folder
from .text import DEFAULT_TEXT_MODEL, TextEncoder

#: Folder of the model shipped inside the package (``contrastomics gtclip train --preset default``).
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[1] / "assets" / "models" / "gtclip-default"

TEXT_MODES = ("both", "title", "description")


@dataclass
class GtClipConfig:
    """gtCLIP hyper-parameters (defaults: the published architecture with our CPU-sized gene tower).

    ``gene_tower``: :class:`GSFMConfig` fields of the gene-set encoder (``vocab_size`` is set
    from the vocabulary). ``trainable_gsfm_layers``: how many of the encoder's weight layers
    (the gene-input layer included), from the top, are trained (a large number trains all; 0
    freezes it). ``text_encoder``: the base
    sentence-transformers model (alias, hub id or folder; a path relative to the model folder is
    resolved there). ``text_mode``: which pathway text the model was trained on.
    """

    embed_dim: int = 128
    text_encoder: str = DEFAULT_TEXT_MODEL
    text_dim: int = 384
    text_hidden: int = 256
    dropout: float = 0.15
    init_temperature: float = 0.0154
    max_logit_scale: float = 100.0
    text_mode: str = "both"
    gene_tower: dict = field(default_factory=lambda: {"d_model": 256, "hidden_dims": [512]})
    trainable_gsfm_layers: int = 4
    trainable_text_layers: int = 0
    has_decoder: bool = True
    pooling: str = "sum"
    init_std: float | None = None
    gene_init: str = "random"
    model_type: str = "gtclip"
    training: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.text_mode not in TEXT_MODES:
            raise InputError(f"text_mode must be one of {', '.join(TEXT_MODES)}, not {self.text_mode!r}")
        if self.pooling not in {"sum", "mean"}:
            raise InputError(f"pooling must be 'sum' (GSFM multi-hot) or 'mean', not {self.pooling!r}")
        if not 0 < self.init_temperature < 1:
            raise InputError(f"init_temperature must be in (0, 1), not {self.init_temperature}")

    @classmethod
    def from_dict(cls, d: dict) -> "GtClipConfig":
        if d.get("model_type") != "gtclip":
            raise InputError(f"this folder holds a {d.get('model_type', 'unknown')!r} model, not a gtCLIP model "
                             "(config.json model_type must be 'gtclip')")
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def to_dict(self) -> dict:
        return asdict(self)


class GtClip(nn.Module):
    """gene-set / text dual encoder.

    Parameters
    ----------
    config
        :class:`GtClipConfig`.
    vocab
        Gene vocabulary of the gene-set tower (``<unk>``, ``<pad>`` first, as in GSFM).
    gsfm
        Optional pretrained :class:`GSFM` whose weights initialise the gene tower (its vocabulary
        wins over ``vocab``).
    """

    def __init__(self, config: GtClipConfig, vocab: Sequence[str] | None = None, gsfm: GSFM | None = None):
        super().__init__()
        self.config = config
        if gsfm is None:
            if vocab is None:
                raise ValueError("give a vocabulary or a pretrained GSFM")
            vocab = list(vocab)
            if list(vocab[:2]) != list(SPECIAL_TOKENS):
                vocab = list(SPECIAL_TOKENS) + [g for g in vocab if g not in SPECIAL_TOKENS]
            gcfg = GSFMConfig.from_dict({**config.gene_tower, "vocab_size": len(vocab), "model_type": "gsfm"})
            gsfm = GSFM(gcfg, vocab)
            if config.init_std:
                # embedding-style init of the gene rows (nn.Linear's default, +-1/sqrt(vocab), leaves
                # a set's signal far below the bias for small sets)
                nn.init.normal_(gsfm.encoder.layers[0].weight, std=config.init_std)
        config.gene_tower = {k: v for k, v in gsfm.config.to_dict().items() if k != "depth"}
        self.gene_tower = gsfm
        if not config.has_decoder:
            self.gene_tower.decoder = None
        d_gene = gsfm.config.d_model
        self.gene_proj = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(d_gene, config.embed_dim))
        self.text_proj = nn.Sequential(nn.Linear(config.text_dim, config.text_hidden), nn.GELU(),
                                       nn.Dropout(config.dropout), nn.Linear(config.text_hidden, config.embed_dim))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / config.init_temperature)))
        self._text_encoder: TextEncoder | None = None
        self._folder: Path | None = None
        self.last_report: dict = {}
        self.set_trainable(config.trainable_gsfm_layers)

    # ------------------------------------------------------------------ properties
    @property
    def vocab(self) -> list[str]:
        return self.gene_tower.vocab

    @property
    def genes(self) -> list[str]:
        return self.gene_tower.genes

    @property
    def text_encoder_name(self) -> str:
        """The base text encoder (alias, hub id or folder) whose embeddings feed the text head."""
        return self.config.text_encoder

    @property
    def text_encoder(self) -> TextEncoder:
        """The base text encoder, loaded on first use (so loading the model stays fast)."""
        if self._text_encoder is None:
            name = self.config.text_encoder
            if self._folder is not None and (self._folder / name).is_dir():
                name = str(self._folder / name)
            enc = TextEncoder(name)
            if enc.dim != self.config.text_dim:
                raise InputError(f"text encoder {name!r} gives {enc.dim}-d embeddings but this gtCLIP model "
                                 f"expects {self.config.text_dim}-d")
            self._text_encoder = enc
        return self._text_encoder

    def attach_text_encoder(self, encoder: TextEncoder) -> None:
        """Use an already-loaded text encoder (e.g. one being fine-tuned)."""
        self._text_encoder = encoder

    def set_trainable(self, k: int) -> None:
        """Train the last ``k`` weight layers of the GSFM encoder, counting the gene-input layer
        (``vocab x width`` gene rows) as the first one: with GSFM's vocab -> 128 -> 256 encoder,
        ``k = 1`` trains the 128 -> 256 layer and keeps the gene rows as initialised, ``k >= 2``
        trains the gene rows too."""
        linears = [m for m in self.gene_tower.encoder.layers if isinstance(m, nn.Linear) or hasattr(m, "weight_t")]
        for p in self.gene_tower.parameters():
            p.requires_grad = False
        for m in linears[len(linears) - min(k, len(linears)):] if k > 0 else []:
            for p in m.parameters():
                p.requires_grad = True
        # The decoder stays frozen: it is the pretrained GSFM's, and the reconstruction loss through
        # it anchors the encoder to gene content (and skips a vocab-wide optimizer update per step).

    # ------------------------------------------------------------------ forward
    def encode_gene_sets(self, indices: torch.Tensor, offsets: torch.Tensor, return_hidden: bool = False):
        """Token ids + offsets (from :meth:`GSFM.tokenize`) -> normalised ``(n, embed_dim)``."""
        if self.config.pooling == "mean":
            # average instead of sum the first layer's gene rows: activations no longer grow with
            # set size (5 to 500 genes), which otherwise dominates the representation
            layers = self.gene_tower.encoder.layers
            h = F.embedding_bag(indices, layers[0].weight.T, offsets, mode="mean") + layers[0].bias
            h = layers[1:](h)
        else:
            h = self.gene_tower.encode(indices, offsets)
        z = F.normalize(self.gene_proj(h), dim=-1)
        return (z, h) if return_hidden else z

    def encode_text_features(self, features: torch.Tensor) -> torch.Tensor:
        """Base text-encoder embeddings ``(n, text_dim)`` -> normalised ``(n, embed_dim)``."""
        return F.normalize(self.text_proj(features), dim=-1)

    def scale(self) -> torch.Tensor:
        return self.logit_scale.exp().clamp(max=self.config.max_logit_scale)

    def decode_columns(self, h: torch.Tensor, columns: torch.Tensor | None = None) -> torch.Tensor:
        """GSFM decoder logits ``(b, len(columns))`` for some vocabulary columns only (all when
        ``None``): the last layer is a vocab-wide matmul, so sampling columns makes it cheap."""
        layers = self.gene_tower.decoder.layers
        if columns is None:
            return layers(h)
        last: nn.Linear = layers[-1]
        return F.linear(layers[:-1](h), last.weight[columns], last.bias[columns])

    def forward(self, indices: torch.Tensor, offsets: torch.Tensor, text_features: torch.Tensor,
                recon_columns: torch.Tensor | None = None) -> dict:
        """Returns ``{"gene": (b, d), "text": (b, d), "logit_scale": (), "recon_logits"}`` where
        ``recon_logits`` is ``(b, len(recon_columns))`` (``(b, vocab)`` when ``None``), or ``None``
        without a decoder."""
        gene, h = self.encode_gene_sets(indices, offsets, return_hidden=True)
        recon = self.decode_columns(h, recon_columns) if self.gene_tower.decoder is not None else None
        return {"gene": gene, "text": self.encode_text_features(text_features), "logit_scale": self.scale(),
                "recon_logits": recon}

    # ------------------------------------------------------------------ user API
    @torch.no_grad()
    def embed_gene_sets(self, gene_sets, batch_size: int = 512) -> np.ndarray:
        """Embed gene sets into the shared space.

        Parameters
        ----------
        gene_sets
            Lists of gene symbols, or a :class:`~contrastomics.data.genesets.GeneSetLibrary`.
        batch_size
            Sets per forward pass.

        Returns
        -------
        np.ndarray
            ``(n_sets, embed_dim)`` float32, L2-normalised rows. Symbols outside the model
            vocabulary are ignored and counted in :attr:`last_report` (``n_unknown``,
            ``unknown`` {symbol: count}, ``empty_sets`` rows with no known gene) with a warning.
        """
        if hasattr(gene_sets, "gene_sets"):
            gene_sets = gene_sets.gene_sets
        if isinstance(gene_sets, (str, bytes)):
            raise InputError("expected a list of gene sets (lists of symbols), got one string")
        gene_sets = [s if isinstance(s, (list, tuple)) else list(s) for s in gene_sets]
        self.eval()
        dev = self.logit_scale.device
        out, unknown, empty = [], {}, []
        for s in range(0, len(gene_sets), batch_size):
            idx, off, rep = self.gene_tower.tokenize(gene_sets[s:s + batch_size])
            for g, c in rep["unknown"].items():
                unknown[g] = unknown.get(g, 0) + c
            empty += [s + r for r in rep["empty_sets"]]
            out.append(self.encode_gene_sets(idx.to(dev), off.to(dev)).float().cpu())
        self.last_report = {"n_sets": len(gene_sets), "n_unknown": sum(unknown.values()), "unknown": unknown,
                            "empty_sets": empty}
        if unknown:
            warnings.warn(f"{sum(unknown.values())} gene occurrence(s) ({len(unknown)} distinct symbols, e.g. "
                          f"{', '.join(list(unknown)[:5])}) are not in the gtCLIP vocabulary "
                          f"({len(self.genes)} genes) and were ignored", stacklevel=2)
        if empty:
            warnings.warn(f"{len(empty)} gene set(s) have no gene in the vocabulary; their embeddings carry no "
                          f"gene information (rows {empty[:5]})", stacklevel=2)
        if not out:
            return np.zeros((0, self.config.embed_dim), np.float32)
        return torch.cat(out).numpy().astype(np.float32)

    @torch.no_grad()
    def embed_texts(self, texts: Sequence[str], batch_size: int = 64, progress: bool = True) -> np.ndarray:
        """Embed pathway texts: ``(n, embed_dim)`` float32, L2-normalised.

        The base encoder's vectors come from the on-disk cache (a text is never encoded twice).
        """
        feats = self.text_encoder.encode(texts, batch_size=batch_size, progress=progress, normalize=True)
        return self.project_text_features(feats)

    @torch.no_grad()
    def project_text_features(self, features: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Cached base-encoder embeddings ``(n, text_dim)`` -> shared space ``(n, embed_dim)``."""
        self.eval()
        dev = self.logit_scale.device
        x = torch.as_tensor(np.asarray(features, np.float32))
        out = [self.encode_text_features(x[s:s + batch_size].to(dev)).cpu() for s in range(0, len(x), batch_size)]
        return torch.cat(out).numpy() if out else np.zeros((0, self.config.embed_dim), np.float32)

    # ------------------------------------------------------------------ save / load
    def save_pretrained(self, path: str | os.PathLike, half: bool = False, include_decoder: bool = True) -> None:
        """Write ``model.safetensors`` (fp16 with ``half=True``), ``config.json`` and ``vocab.txt``
        to the folder ``path`` atomically. ``include_decoder=False`` drops the GSFM decoder (only
        needed for training) to make the folder small. A fine-tuned text encoder is written to
        ``path/text_encoder``."""
        import copy
        import shutil
        import tempfile

        model = self
        if not include_decoder and self.gene_tower.decoder is not None:
            model = copy.deepcopy(self)
            model.gene_tower.decoder = None
            model.config = GtClipConfig(**{**self.config.to_dict(), "has_decoder": False})
        enc = self._text_encoder
        if enc is not None and enc.trainable_layers > 0:
            tmp = Path(tempfile.mkdtemp(prefix=".gtclip-text."))
            try:
                enc.save(tmp / "text_encoder")
                extra = {str(p.relative_to(tmp)): p for p in (tmp / "text_encoder").rglob("*") if p.is_file()}
                model.config = GtClipConfig(**{**model.config.to_dict(), "text_encoder": "text_encoder",
                                               "trainable_text_layers": 0})
                save_model_folder(model, path, half=half)
                dest = Path(path) / "text_encoder"
                shutil.copytree(tmp / "text_encoder", dest)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            return
        save_model_folder(model, path, half=half)

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, device: str = "cpu") -> "GtClip":
        """Load a gtCLIP model from a local folder or a Hugging Face hub id (same code path)."""
        folder = resolve_model_folder(name_or_path)
        cfg = read_config(folder)
        config = GtClipConfig.from_dict(cfg)
        vocab_file = folder / "vocab.txt"
        if not vocab_file.exists():
            raise InputError("model folder has no vocab.txt", folder)
        vocab = vocab_file.read_text().splitlines()
        config.trainable_gsfm_layers = 0
        model = cls(config, vocab)
        load_weights(model, folder, device)
        model._folder = folder
        model.eval()
        return model

    @classmethod
    def load_default(cls) -> "GtClip":
        """The gtCLIP model shipped inside the package (see ``docs/gtclip.md`` for how it was trained)."""
        if not (DEFAULT_MODEL_DIR / "model.safetensors").exists():
            raise InputError("the default gtCLIP model is not installed in this package; train it with "
                             "`contrastomics gtclip train --preset default` or pass a model folder",
                             DEFAULT_MODEL_DIR)
        return cls.from_pretrained(DEFAULT_MODEL_DIR)


def load_default() -> GtClip:
    """Module-level alias of :meth:`GtClip.load_default`."""
    return GtClip.load_default()


def load_model(name_or_path: str | os.PathLike | None = None) -> GtClip:
    """``None``/``"default"`` -> the shipped model; otherwise a folder or hub id."""
    if name_or_path is None or str(name_or_path) == "default":
        return GtClip.load_default()
    return GtClip.from_pretrained(name_or_path)


# ---------------------------------------------------------------------- training
@dataclass
class GtClipTrainConfig:
    """Training settings; learning rates default to the published ones (model card DaveLab/gtCLIP).

    ``lr_gsfm``: trainable GSFM layers; ``lr_text``: fine-tuned text layers; ``lr_proj``:
    projection heads and the temperature. ``overlap_weight`` 0 gives hard InfoNCE.
    """

    epochs: int = 30
    batch_size: int = 64
    lr_proj: float = 3.35e-4
    lr_gsfm: float = 2e-5
    lr_text: float = 5.67e-5
    weight_decay: float = 0.01
    warmup_steps: int = 450
    overlap_weight: float = 0.15
    similarity: str = "jaccard"
    recon_weight: float = 0.274
    recon_negatives: int = 1024
    gene_dropout: float = 0.0
    patience: int | None = 5
    seed: int = 0
    device: str = "cpu"
    progress: bool = True
    checkpoint_dir: str | None = None
    resume: bool = False
    max_steps: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class _SetTextDataset(torch.utils.data.Dataset):
    """Row ``i``: the set's vocabulary ids and its text feature row (or its text)."""

    def __init__(self, sets: list[np.ndarray], text_features: np.ndarray | None, texts: list[str] | None):
        self.sets, self.text_features, self.texts = sets, text_features, texts

    def __len__(self) -> int:
        return len(self.sets)

    def __getitem__(self, i: int):
        t = self.text_features[i] if self.text_features is not None else self.texts[i]
        return self.sets[i], t


def library_token_ids(model: GtClip, library) -> tuple[list[np.ndarray], dict]:
    """Map each set of a ``GeneSetLibrary`` onto the model vocabulary: list of id arrays, and a
    report of unknown genes (``n_unknown`` occurrences, ``empty_sets`` rows)."""
    gi = model.gene_tower.gene_index
    col = np.array([gi.get(g, gi.get(str(g).upper(), -1)) for g in library.genes], dtype=np.int64)
    m = library.membership
    sets, n_unknown, empty = [], 0, []
    for i in range(len(library)):
        j = col[m.indices[m.indptr[i]:m.indptr[i + 1]]]
        n_unknown += int((j < 0).sum())
        s = np.unique(j[j >= 0])
        if len(s) == 0:
            empty.append(i)
        sets.append(s)
    return sets, {"n_unknown": n_unknown, "empty_sets": empty}


def init_from_text(model: GtClip, sets: list[np.ndarray], text_features: np.ndarray) -> None:
    """Initialise the gene tower's first layer from the training texts.

    Each gene's row starts as the mean base-text embedding of the training sets that contain it
    (a gene is described by the pathways it belongs to), projected on the top principal axes
    of those gene vectors and scaled to unit variance. With mean pooling, a new set then starts
    near the average description of its genes' pathways; training refines it. Uses training
    data only.
    """
    import scipy.sparse as sp

    first: nn.Linear = model.gene_tower.encoder.layers[0]
    width, vocab = first.weight.shape
    rows = np.repeat(np.arange(len(sets)), [len(s) for s in sets])
    m = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, np.concatenate(sets))), shape=(len(sets), vocab))
    counts = np.asarray(m.sum(axis=0)).ravel()
    g = np.asarray(m.T @ text_features, np.float32) / np.maximum(counts, 1)[:, None]
    seen = counts > 0
    centred = g[seen] - g[seen].mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    w = np.zeros((vocab, width), np.float32)
    k = min(width, vt.shape[0])
    w[seen, :k] = centred @ vt[:k].T
    w[seen] /= max(float(w[seen].std()), 1e-6)
    with torch.no_grad():
        first.weight.copy_(torch.from_numpy(w.T))
        first.bias.zero_()


def _collate(vocab_size: int, gene_dropout: float = 0.0, seed: int = 0):
    """Batch -> ``(indices, offsets, target, text)``; ``target`` is the full sets' multi-hot
    ``(b, vocab)``, while ``indices`` keep each gene with probability ``1 - gene_dropout``
    (at least one per set): the tower learns to embed a set from part of it, as GSFM does."""
    rng = np.random.default_rng(seed)

    def collate(batch):
        sets, texts = zip(*batch)
        lens = [len(s) for s in sets]
        full = torch.from_numpy(np.concatenate(sets)).long()
        rows = torch.repeat_interleave(torch.arange(len(sets)), torch.tensor(lens))
        target = torch.zeros(len(sets), vocab_size)
        target[rows, full] = 1.0
        if gene_dropout > 0:
            sets = [s[rng.random(len(s)) >= gene_dropout] if len(s) > 1 else s for s in sets]
            sets = [s if len(s) else b[0][:1] for s, b in zip(sets, batch)]
            lens = [len(s) for s in sets]
        offsets = torch.tensor(np.concatenate([[0], np.cumsum(lens)[:-1]]), dtype=torch.long)
        indices = torch.from_numpy(np.concatenate(sets)).long()
        if isinstance(texts[0], str):
            return indices, offsets, target, list(texts)
        return indices, offsets, target, torch.from_numpy(np.stack(texts)).float()
    return collate


def param_groups(model: GtClip, tc: GtClipTrainConfig, text_encoder: TextEncoder | None = None) -> list[dict]:
    """Optimizer groups with the published learning rates (empty groups left out)."""
    gene = [p for p in model.gene_tower.parameters() if p.requires_grad]
    proj = [*model.gene_proj.parameters(), *model.text_proj.parameters(), model.logit_scale]
    groups = [{"params": proj, "lr": tc.lr_proj, "name": "projection"}]
    if gene:
        groups.append({"params": gene, "lr": tc.lr_gsfm, "name": "gsfm"})
    if text_encoder is not None and text_encoder.parameters():
        groups.append({"params": text_encoder.parameters(), "lr": tc.lr_text, "name": "text"})
    for g in groups:
        g["foreach"] = True  # one multi-tensor update instead of a Python loop per parameter
    return groups


def train_gtclip(library, config: GtClipConfig | None = None, train_config: GtClipTrainConfig | None = None, *,
                 text_features: np.ndarray | None = None, gsfm: GSFM | None = None,
                 text_encoder: TextEncoder | None = None, eval_fn=None, genes: Sequence[str] | None = None):
    """Train gtCLIP on the gene sets and texts of a ``GeneSetLibrary``.

    Parameters
    ----------
    library
        Training sets; their texts are ``library.texts(config.text_mode)``.
    config, train_config
        Model and training settings.
    text_features
        ``(n_sets, text_dim)`` base-encoder embeddings of the library's texts (normalised), e.g.
        from :meth:`TextEncoder.encode` (cached). Computed here when ``None`` and the text encoder
        is frozen.
    gsfm
        Pretrained GSFM initialising the gene tower (copied, not modified); ``None`` starts from
        random weights over ``genes`` (default: the library's genes).
    text_encoder
        Base text encoder (default: ``config.text_encoder``); fine-tuned when
        ``config.trainable_text_layers > 0``.
    eval_fn
        ``eval_fn(model) -> {"val_r5": ...}`` run after each epoch; drives early stopping
        (``patience``) and best-weight restoring (see
        :func:`contrastomics.evaluate.retrieval.retrieval_eval_fn`).

    Returns
    -------
    (GtClip, TrainResult)
    """
    import copy

    from ..losses import GtClipLoss
    from ..training.loop import TrainConfig, fit

    config = config or GtClipConfig()
    tc = train_config or GtClipTrainConfig()
    if len(library) == 0:
        raise InputError("the training library has no gene sets")
    finetune = config.trainable_text_layers > 0
    if text_encoder is None and (finetune or text_features is None):
        text_encoder = TextEncoder(config.text_encoder, trainable_layers=config.trainable_text_layers)
    if text_encoder is not None:
        text_encoder.set_trainable_layers(config.trainable_text_layers)
        config.text_dim = text_encoder.dim
    texts = library.texts(config.text_mode)
    if not finetune and text_features is None:
        text_features = text_encoder.encode(texts, progress=tc.progress)
    if text_features is not None:
        text_features = np.asarray(text_features, np.float32)
        if text_features.shape != (len(library), config.text_dim):
            raise InputError(f"text_features has shape {text_features.shape}, expected "
                             f"({len(library)}, {config.text_dim})")
    torch.manual_seed(tc.seed)
    model = GtClip(config, vocab=list(genes) if genes is not None else library.genes,
                   gsfm=copy.deepcopy(gsfm) if gsfm is not None else None)
    if text_encoder is not None:
        model.attach_text_encoder(text_encoder)
    if gsfm is None and tc.recon_weight > 0 and model.gene_tower.decoder is not None:
        # no pretrained decoder to anchor to: the decoder learns with the encoder
        for p in model.gene_tower.decoder.parameters():
            p.requires_grad = config.trainable_gsfm_layers > 0
    sets, report = library_token_ids(model, library)
    if config.gene_init == "text" and gsfm is None and text_features is not None:
        init_from_text(model, sets, text_features)
    keep = [i for i, s in enumerate(sets) if len(s) > 0]
    if report["empty_sets"]:
        warnings.warn(f"{len(report['empty_sets'])} training set(s) have no gene in the vocabulary and were "
                      "skipped", stacklevel=2)
    data = _SetTextDataset([sets[i] for i in keep],
                           text_features[keep] if text_features is not None and not finetune else None,
                           [texts[i] for i in keep] if finetune else None)
    loss_fn = GtClipLoss(tc.overlap_weight, tc.similarity, tc.recon_weight)

    vocab_size = model.gene_tower.config.vocab_size
    use_recon = tc.recon_weight > 0 and model.gene_tower.decoder is not None
    gen = torch.Generator().manual_seed(tc.seed)

    def step(m, batch):
        indices, offsets, target, text = batch
        core = m.module if hasattr(m, "module") else m
        if isinstance(text, list):
            text = core._text_encoder.forward(text)
        cols = None
        if use_recon:
            # the batch's genes + random negatives: an unbiased-enough BCE at a fraction of the cost
            neg = torch.randint(2, vocab_size, (tc.recon_negatives,), generator=gen)
            pos = target.any(dim=0).nonzero().squeeze(1).cpu()  # every gene of the full sets
            cols = torch.unique(torch.cat([pos, neg])).to(indices.device)
        out = m(indices, offsets, text, recon_columns=cols)
        recon = out["recon_logits"] if use_recon else None
        return loss_fn(out["gene"], out["text"], out["logit_scale"], target, recon,
                       target[:, cols] if use_recon else None)

    fit_cfg = TrainConfig(epochs=tc.epochs, batch_size=tc.batch_size, lr=tc.lr_proj, weight_decay=tc.weight_decay,
                          warmup_steps=tc.warmup_steps, seed=tc.seed, device=tc.device, drop_last=True,
                          checkpoint_dir=tc.checkpoint_dir, resume=tc.resume,
                          monitor="val_r5" if eval_fn is not None else None, patience=tc.patience,
                          progress=tc.progress, max_steps=tc.max_steps)
    if finetune:
        text_encoder.model.train()
    result = fit(model, data, step, fit_cfg, collate_fn=_collate(vocab_size, tc.gene_dropout, tc.seed),
                 param_groups=param_groups(model, tc, text_encoder if finetune else None), eval_fn=eval_fn)
    if finetune:
        text_encoder.model.eval()
    model.eval()
    model.config.training = {**tc.to_dict(), "n_train_sets": len(data), "best_epoch": result.best_epoch,
                             "best_val_r5": result.best, "steps": result.steps,
                             "seconds": round(result.seconds, 1)}
    return model, result
