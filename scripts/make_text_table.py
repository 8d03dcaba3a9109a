#!/usr/bin/env python
"""Make ``text_table.safetensors`` beside a gtCLIP model: the joint-space text embeddings (fp16) of
every pathway text the package ships, so clustering a GO/DO result and ``gtclip describe`` never
encode them on first use.

Texts: each built-in library (`data.builtin.LIBRARIES`: GO_BP, GO_MF, GO_CC, DO; every set size) in the two forms the package
embeds: ``cluster``'s pathway text (:func:`contrastomics.cluster.pathways.pathway_text`) and
``GeneSetLibrary.texts(mode)`` with the model's text mode (``gtclip describe``). Deterministic for a
given model (sorted distinct texts).

Run: ``python scripts/make_text_table.py [--model FOLDER]`` (default: the shipped model).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from contrastomics.cluster.pathways import pathway_text
from contrastomics.data.builtin import LIBRARIES, load_library
from contrastomics.models.gtclip import DEFAULT_MODEL_DIR, GtClip
from contrastomics.models.text_table import TABLE_FILE, write_text_table


def shipped_texts(text_mode: str) -> set[str]:
    texts: set[str] = set()
    for name in LIBRARIES:
        lib = load_library(name, min_size=1, max_size=None)
        texts.update(pathway_text(t, n, lib, r) for r, (t, n) in enumerate(zip(lib.terms, lib.names)))
        texts.update(lib.texts(text_mode))
    return texts


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    args = ap.parse_args(argv)
    t0 = time.time()
    model = GtClip.from_pretrained(args.model)
    model.eval()
    texts = shipped_texts(model.config.text_mode)
    n = write_text_table(model, texts, args.model / TABLE_FILE)
    size = (args.model / TABLE_FILE).stat().st_size
    print(f"{n} texts -> {args.model / TABLE_FILE} ({size / 1e6:.1f} MB) in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
