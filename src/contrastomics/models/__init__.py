"""Models: one module per method (gsfm, text, gtclip, cal, comtip); :func:`load_model` loads any
saved model by its ``model_type``; shared save/load lives in :mod:`.base`."""
from .base import ModelConfig, Pretrained, load_model, register_model

__all__ = ["ModelConfig", "Pretrained", "load_model", "register_model"]
