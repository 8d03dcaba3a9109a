"""Models: one module per method (gsfm, text, gtclip, cal, comtip)."""
