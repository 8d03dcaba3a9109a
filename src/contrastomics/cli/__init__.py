"""The ``contrastomics`` command line.

Each method has its own sub-command module (``cli/gsfm.py``...), imported lazily so that
``contrastomics --help`` stays fast. Every :class:`~contrastomics.errors.InputError` is printed as
one line ``error: FILE:LINE: problem`` with exit status 2, never a traceback; so is an
``OSError`` (a full disk while writing: ``error: cannot write FILE: No space left on device``).
"""
from __future__ import annotations

import logging
import os
import sys
import warnings

import typer
from rich.console import Console
from rich.markup import escape

from .. import __version__, _gc
from ..errors import InputError


def make_console(stderr: bool = True) -> Console:
    """A rich console that does not wrap long lines at 80 columns when its stream is a pipe or
    file (rich's width without a terminal): lines stay whole unless ``COLUMNS`` says otherwise."""
    probe = Console(stderr=stderr)
    if probe.is_terminal or os.environ.get("COLUMNS"):
        return probe
    return Console(stderr=stderr, width=10_000, soft_wrap=True)


console = make_console()

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Contrastive learning on gene sets, pathway text, interactions and spatial data.")


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"contrastomics {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """Contrastive learning on gene sets, pathway text, interactions and spatial data."""


def os_error_text(e: OSError) -> str:
    """An ``OSError`` as one line: ``FILE: problem`` (the message alone when it names no file)."""
    text = e.strerror or str(e) or type(e).__name__
    return f"{e.filename}: {text}" if e.filename else text


def _register() -> None:
    from . import cal, cluster, comtip, gsfm, gtclip

    app.add_typer(gsfm.app, name="gsfm", help="GSFM gene set foundation model: train, embed, predict.")
    app.add_typer(gtclip.app, name="gtclip", help="gtCLIP: align gene sets with pathway text.")
    app.add_typer(cal.app, name="cal", help="CAL: contrastive association learning on interactions.")
    app.add_typer(comtip.app, name="comtip", help="CoMTIP: image / gene-text pretraining for spatial data.")
    cluster.register(app)


def _showwarning(message, category, filename, lineno, file=None, line=None):
    console.print(f"[yellow]warning:[/yellow] {escape(str(message))}", soft_wrap=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``contrastomics`` script."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    warnings.showwarning = _showwarning
    if argv is None:  # the console script, a short run: the loaded built-in data are never scanned again
        _gc.freeze_after_loads()
    _register()
    try:
        app(args=argv, standalone_mode=True)
    except InputError as e:
        console.print(f"[red]error:[/red] {escape(str(e))}", soft_wrap=True)
        sys.exit(2)
    except OSError as e:  # a full disk, a vanished folder: one line, as for bad input
        console.print(f"[red]error:[/red] {escape(os_error_text(e))}", soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        console.print("[red]interrupted[/red]")
        sys.exit(130)
