"""File helpers shared by every layer: transparent gzip, atomic writes, the cache folder."""
from __future__ import annotations

import contextlib
import gzip
import io
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

from .errors import InputError

GZIP_MAGIC = b"\x1f\x8b"


def cache_root() -> Path:
    """The cache folder: ``$CONTRASTOMICS_CACHE`` when set, else ``~/.cache/contrastomics``."""
    root = os.environ.get("CONTRASTOMICS_CACHE")
    return Path(root).expanduser() if root else Path.home() / ".cache" / "contrastomics"


def is_gzip(path: str | os.PathLike) -> bool:
    """True when the file starts with the gzip magic bytes, whatever its suffix."""
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def open_text(path: str | os.PathLike) -> IO[str]:
    """Open a text file for reading, gunzipping it when its bytes say it is gzip.

    UTF-8 (a BOM dropped), or UTF-16 / UTF-32 when a byte-order mark says so. Raises
    :class:`InputError` when the file is missing, a directory, empty, or UTF-16 without a BOM.
    """
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", p)
    if p.is_dir():
        raise InputError("is a folder, expected a file", p)
    if p.stat().st_size == 0:
        raise InputError("file is empty", p)
    gz = is_gzip(p)
    with (gzip.open(p, "rb") if gz else open(p, "rb")) as fh:
        encoding = _encoding(fh.read(64), p)
    if gz:
        return io.TextIOWrapper(gzip.open(p, "rb"), encoding=encoding, errors="replace")
    return open(p, encoding=encoding, errors="replace")


def _encoding(head: bytes, p: Path) -> str:
    """The text encoding the first bytes of a file say (UTF-8 unless a BOM names UTF-16/32)."""
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    n = len(head) // 2
    for zeros, text in ((head[1::2], head[0::2]), (head[0::2], head[1::2])):
        if n >= 4 and zeros[:n].count(0) >= 0.9 * n and text[:n].count(0) == 0:  # ASCII as UTF-16
            raise InputError("is UTF-16 text without a byte-order mark; save it as UTF-8", p)
    return "utf-8-sig"


def _umask_mode() -> int:
    """Permissions a plain ``open(path, "w")`` would give (mkstemp's temp files are 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", **kwargs) -> Iterator[IO]:
    """Write to a temporary file beside ``path`` and rename it into place on success.

    Nothing is left at ``path`` (and no temp file) when the body raises.
    """
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` for libraries that write files themselves
    (parquet, safetensors, PNG); it is renamed to ``path`` on success, removed on error."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.stem}.", suffix=p.suffix or ".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        if os.path.exists(tmp):
            os.chmod(tmp, _umask_mode())
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def check_output(path: str | os.PathLike, *, folder: bool, option: str = "--out") -> Path:
    """Fail before any work when ``path`` cannot be written: it is a file where a folder is
    expected (or the reverse), it lies under a file, or its nearest existing folder refuses a
    write (read-only place). Writes nothing that stays; returns the path."""
    p = Path(path).expanduser()
    what = "folder" if folder else "file"
    if p.exists() and p.is_dir() != folder:
        raise InputError(f"{option} {p} is a {'file' if folder else 'folder'}; give a {what} path")
    parent = p if (folder and p.exists()) else p.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"{option} {p} cannot be made: {parent} is a file, not a folder")
    try:  # os.access says yes to root even on a read-only mount: try a real write
        fd, probe = tempfile.mkstemp(dir=parent, prefix=".contrastomics-write-check.")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise InputError(f"{option} {p} cannot be written: {parent} refuses new files "
                         f"({e.strerror or type(e).__name__})") from None
    return p
