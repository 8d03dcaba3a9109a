"""In-process CLI runs shared by the command-line tests (a plain module, imported by name)."""
from __future__ import annotations

from contrastomics.cli import main


def cli(capsys, *args) -> tuple[int, str]:
    """Run ``contrastomics ARGS`` in-process: ``(exit status, everything printed)``."""
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as e:
        code = e.code or 0
    got = capsys.readouterr()
    return code, got.out + got.err


def one_error_line(code: int, text: str, *needles: str) -> str:
    """Exit status 2, no traceback, exactly one ``error:`` line holding every needle; returns it."""
    assert code == 2 and "Traceback" not in text, text
    lines = [ln for ln in text.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, text
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]
