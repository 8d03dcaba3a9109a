"""gtCLIP: gene sets and pathway text in one embedding space (config, architecture, inference).

Two towers, open_clip style: a GSFM encoder (:mod:`.gsfm`) -> dropout -> Linear for gene sets, and
a sentence-transformers model (:class:`~contrastomics.models.text.TextEncoder`, frozen and cached by
default) -> Linear -> GELU -> dropout -> Linear for texts; both L2-normalised, learnable logit
scale. A folder holds ``config.json`` (``model_type: "gtclip"``), ``model.safetensors`` and
``vocab.txt``; a fine-tuned text encoder adds only its top layers as a delta over the installed base
(``text_encoder_delta.safetensors``). Details in ``docs/gtclip.md``; training in
:mod:`contrastomics.training.gtclip`.
"""
from __future__ import annotations

import copy
import math
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import InputError
from .base import (ModelConfig, Pretrained, read_vocab, register_model, save_model_folder, share_like_umask,
                   swap_folder)
from .gsfm import GSFM, GSFMConfig, SPECIAL_TOKENS
from .numpy_tower import gene_index_of, warn_vocabulary
from .text import DEFAULT_TEXT_MODEL, TextEncoder, check_delta_base
from .text_table import read_text_table, text_digest
from .text_finetune import DELTA_FILE, read_delta, write_delta

#: Folder of the model shipped inside the package (``contrastomics gtclip train --preset default``).
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[1] / "assets" / "models" / "gtclip-default"

TEXT_MODES = ("both", "title", "description")
TEXT_HEADS = ("mlp", "residual")


class ResidualTextHead(nn.Module):
    """Text head ``x + f(x)`` (``f``: Linear -> GELU -> dropout -> Linear, its last layer zero at
    init): a new tower starts exactly at the base encoder's geometry and training adds a
    correction. Needs ``embed_dim == text_dim``."""

    def __init__(self, dim: int, hidden: int, dropout: float):
        super().__init__()
        self.f = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, dim))
        nn.init.zeros_(self.f[-1].weight)
        nn.init.zeros_(self.f[-1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.f(x)


@dataclass
class GtClipConfig(ModelConfig):
    """gtCLIP hyper-parameters (defaults: the published architecture with our CPU-sized gene tower).

    ``gene_tower``: :class:`GSFMConfig` fields of the gene-set encoder (``vocab_size`` is set
    from the vocabulary). ``trainable_gsfm_layers``: how many of the encoder's weight layers
    (the gene-input layer included), from the top, are trained (a large number trains all; 0
    freezes it). ``text_encoder``: the base
    sentence-transformers model (alias, hub id or folder; a path relative to the model folder is
    resolved there). ``text_mode``: which pathway text the model was trained on.
    ``trainable_text_layers``: how many of the text encoder's top transformer layers are (or were)
    fine-tuned; ``text_delta``: written on save when they were, naming the base they are a delta
    over (``base`` model id, ``hidden_size``, ``num_layers``, ``layers``, ``base_fingerprint``) and
    the delta file's ``sha1``; empty for a frozen text encoder. ``text_head``: ``"mlp"`` (the
    published head) or ``"residual"`` (:class:`ResidualTextHead`, needs ``embed_dim == text_dim``).
    """

    embed_dim: int = 128
    text_encoder: str = DEFAULT_TEXT_MODEL
    text_dim: int = 384
    text_hidden: int = 256
    dropout: float = 0.15
    init_temperature: float = 0.0154
    max_logit_scale: float = 100.0
    text_mode: str = "both"
    text_head: str = "mlp"
    gene_tower: dict = field(default_factory=lambda: {"d_model": 256, "hidden_dims": [512]})
    trainable_gsfm_layers: int = 4
    trainable_text_layers: int = 0
    text_delta: dict = field(default_factory=dict)
    has_decoder: bool = True
    pooling: str = "sum"
    init_std: float | None = None
    gene_init: str = "random"
    model_type: str = "gtclip"
    training: dict = field(default_factory=dict)

    display_name: ClassVar[str] = "gtCLIP"

    def __post_init__(self):
        if self.text_mode not in TEXT_MODES:
            raise InputError(f"text_mode must be one of {', '.join(TEXT_MODES)}, not {self.text_mode!r}")
        if self.text_head not in TEXT_HEADS:
            raise InputError(f"text_head must be one of {', '.join(TEXT_HEADS)}, not {self.text_head!r}")
        if self.pooling not in {"sum", "mean"}:
            raise InputError(f"pooling must be 'sum' (GSFM multi-hot) or 'mean', not {self.pooling!r}")
        if not 0 < self.init_temperature < 1:
            raise InputError(f"init_temperature must be in (0, 1), not {self.init_temperature}")
        if int(self.trainable_text_layers) < 0:
            raise InputError(f"trainable_text_layers must be >= 0, not {self.trainable_text_layers}")


@register_model
class GtClip(Pretrained, nn.Module):
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

    config_class = GtClipConfig

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
        if config.text_head == "residual":
            if config.embed_dim != config.text_dim:
                raise InputError(f"text_head 'residual' needs embed_dim == text_dim, got {config.embed_dim} and "
                                 f"{config.text_dim}")
            self.text_proj = ResidualTextHead(config.text_dim, config.text_hidden, config.dropout)
        else:
            self.text_proj = nn.Sequential(nn.Linear(config.text_dim, config.text_hidden), nn.GELU(),
                                           nn.Dropout(config.dropout),
                                           nn.Linear(config.text_hidden, config.embed_dim))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / config.init_temperature)))
        self._text_encoder: TextEncoder | None = None
        self._text_delta: dict | None = None  # fine-tuned text layers read from a folder, applied on first use
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

    def vocabulary(self) -> tuple[dict[str, int], int]:
        """``(gene index, number of genes)`` of the gene tower, as the NumPy tower reads it."""
        return gene_index_of(self.vocab), len(self.genes)

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
            if self._text_delta is not None:
                enc.apply_delta(self._text_delta, self.config.text_delta, self._folder)
            self._text_encoder = enc
        return self._text_encoder

    @property
    def cache_key(self) -> str | None:
        """Extra identity for embedding caches (``cluster.embed.model_key``): the fine-tuned text
        layers' fingerprint, so their vectors never mix with the base encoder's; ``None`` (the
        model's weights alone) for a frozen text encoder."""
        if self.config.text_delta.get("sha1"):
            return f"gtclip+text-delta-{self.config.text_delta['sha1'][:16]}"
        enc = self._text_encoder
        return f"gtclip+text-{enc.delta_id}" if enc is not None and enc.delta_id else None

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
        warn_vocabulary(unknown, empty, len(self.genes))
        if not out:
            return np.zeros((0, self.config.embed_dim), np.float32)
        return torch.cat(out).numpy().astype(np.float32)

    @torch.no_grad()
    def embed_texts(self, texts: Sequence[str], batch_size: int = 64, progress: bool = True) -> np.ndarray:
        """Embed pathway texts: ``(n, embed_dim)`` float32, L2-normalised.

        Texts in the table shipped beside the model (every built-in GO/DO text; GO, Hallmark,
        Reactome, KEGG and WikiPathways names: :mod:`~contrastomics.models.text_table`) are read from it; the others are encoded, the base
        encoder's vectors coming from its on-disk cache (a text is never encoded twice).
        """
        texts = list(texts)
        table = read_text_table(self)
        keys = [text_digest(t).hex() for t in texts] if table else []
        todo = [i for i, k in enumerate(keys) if k not in table] if table else list(range(len(texts)))
        out = np.zeros((len(texts), self.config.embed_dim), np.float32)
        if todo:
            feats = self.text_encoder.encode([texts[i] for i in todo], batch_size=batch_size, progress=progress,
                                             normalize=True)
            out[todo] = self.project_text_features(feats)
        for i, k in enumerate(keys):
            if k in table:
                out[i] = table[k]
        return out

    @torch.no_grad()
    def project_text_features(self, features: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Cached base-encoder embeddings ``(n, text_dim)`` -> shared space ``(n, embed_dim)``."""
        self.eval()
        dev = self.logit_scale.device
        x = torch.as_tensor(np.asarray(features, np.float32))
        out = [self.encode_text_features(x[s:s + batch_size].to(dev)).cpu() for s in range(0, len(x), batch_size)]
        return torch.cat(out).numpy() if out else np.zeros((0, self.config.embed_dim), np.float32)

    def search(self, query: str, library, top: int = 10):
        """Text -> the ``top`` sets of ``library`` ranked by gene content (not by their names):
        DataFrame ``rank, score, term, name, n_genes``."""
        if not query.strip():
            raise InputError("empty query text")
        s = self.embed_gene_sets(library) @ self.embed_texts([query], progress=False)[0]
        return _ranking(s, library, top, sizes=True)

    def describe(self, genes: Sequence[str], library, top: int = 10):
        """Gene set -> the ``top`` nearest pathway texts of ``library`` (by text, not by gene
        overlap): DataFrame ``rank, score, term, name``; ``attrs["n_unknown"]`` counts unknown genes."""
        emb = self.embed_gene_sets([list(genes)])
        if self.last_report.get("empty_sets"):
            raise InputError(f"none of the {len(genes)} genes is in the model vocabulary (e.g. {list(genes)[:5]})")
        df = _ranking(self.embed_texts(library.texts(self.config.text_mode)) @ emb[0], library, top)
        df.attrs["n_unknown"] = self.last_report["n_unknown"]
        return df

    # ------------------------------------------------------------------ save / load
    def save_pretrained(self, path: str | os.PathLike, half: bool = False, include_decoder: bool = True) -> None:
        """Write ``model.safetensors`` (fp16 with ``half=True``), ``config.json`` and ``vocab.txt``
        to the folder ``path`` atomically. ``include_decoder=False`` drops the GSFM decoder (only
        needed for training) to make the folder small. Fine-tuned text layers are written as a
        delta over the installed base (``text_encoder_delta.safetensors``, fp16, the base named in
        ``config.text_delta``), never the whole text encoder."""
        model = self
        if not include_decoder and self.gene_tower.decoder is not None:
            with self._without_text_top():  # the encoder is shared, not copied
                model = copy.deepcopy(self, memo={id(self._text_encoder): self._text_encoder})
            model.gene_tower.decoder = None
            model.config = GtClipConfig(**{**self.config.to_dict(), "has_decoder": False})
        enc = self._text_encoder
        if enc is not None and enc.delta_layers:
            tensors, record = enc.delta_state()
        elif self._text_delta is not None:  # loaded from a folder, encoder never used: copy the delta
            tensors, record = self._text_delta, dict(self.config.text_delta)
        else:
            with model._without_text_top():
                save_model_folder(model, path, half=half)
            return
        live_config = model.config
        model.config = GtClipConfig(**{**live_config.to_dict(), "text_delta": record,
                                       "trainable_text_layers": len(record["layers"])})
        dest = Path(path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.stage."))
        try:
            with model._without_text_top():
                save_model_folder(model, stage / "m", half=half)
            write_delta(stage / "m" / DELTA_FILE, tensors, record)
            share_like_umask(stage / "m")
            swap_folder(stage / "m", dest)
        finally:
            model.config = live_config
            shutil.rmtree(stage, ignore_errors=True)

    @contextmanager
    def _without_text_top(self):
        """Hide the fine-tuning view of the text layers (:mod:`contrastomics.training.gtclip`
        registers them as ``text_top`` while training) from the saved state."""
        top = self._modules.pop("text_top", None)
        try:
            yield
        finally:
            if top is not None:
                self._modules["text_top"] = top

    @classmethod
    def build_from_folder(cls, config: GtClipConfig, folder: Path, state: dict) -> "GtClip":
        """(:meth:`Pretrained.from_pretrained` hook) A frozen model in eval mode over ``vocab.txt``;
        a relative ``config.text_encoder`` is resolved in ``folder``."""
        config.trainable_gsfm_layers = 0
        model = cls(config, read_vocab(folder, "gtCLIP"))
        model._folder = folder
        if config.text_delta:
            f = folder / config.text_delta.get("file", DELTA_FILE)
            check_delta_base(config.text_delta, config.text_encoder, folder / "config.json")
            model._text_delta = read_delta(f, config.text_delta)
        return model.eval()

    @classmethod
    def load_default(cls) -> "GtClip":
        """The gtCLIP model shipped inside the package (see ``docs/gtclip.md`` for how it was trained)."""
        if not (DEFAULT_MODEL_DIR / "model.safetensors").exists():
            raise InputError("the default gtCLIP model is not installed in this package; train it with "
                             "`contrastomics gtclip train --preset default` or pass a model folder",
                             DEFAULT_MODEL_DIR)
        return cls.from_pretrained(DEFAULT_MODEL_DIR)

    @classmethod
    def load(cls, name_or_path: str | os.PathLike | None = None) -> "GtClip":
        """``None``/``"default"`` -> the shipped model (:meth:`load_default`); otherwise a folder or hub id."""
        if name_or_path is None or str(name_or_path) == "default":
            return cls.load_default()
        return cls.from_pretrained(name_or_path)


def _ranking(scores: np.ndarray, library, top: int, sizes: bool = False):
    """The ``top`` terms of ``library`` by ``scores`` ``(n_sets,)``, best first."""
    import pandas as pd

    idx = scores.argsort()[::-1][:top]
    df = pd.DataFrame({"rank": np.arange(1, len(idx) + 1), "score": scores[idx],
                       "term": [library.terms[i] for i in idx], "name": [library.names[i] for i in idx]})
    if sizes:
        df["n_genes"] = [library.sizes[i] for i in idx]
    return df


def load_default() -> GtClip:
    """Module-level alias of :meth:`GtClip.load_default`."""
    return GtClip.load_default()


def load_model(name_or_path: str | os.PathLike | None = None) -> GtClip:
    """Deprecated alias of :meth:`GtClip.load` (the generic loader is
    :func:`contrastomics.models.load_model`)."""
    return GtClip.load(name_or_path)


# ---------------------------------------------------------------------- deprecated aliases
_MOVED = dict.fromkeys(("GtClipTrainConfig", "library_token_ids", "init_from_text", "param_groups", "train_gtclip"),
                       "contrastomics.training.gtclip")


def __getattr__(name):
    """Deprecated aliases of the training names that moved to :mod:`contrastomics.training.gtclip`."""
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
