"""Writing safely: user text made inert for spreadsheets, CSV bytes Excel reads, whole-file writes.

:func:`safe_text` guards a text that starts like a formula (OWASP CSV/formula injection) with ``'``;
:func:`unguard_text` removes that one guard when our own CSV is read back, so export ∘ import is the identity.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: Any) -> Any:
    """Text a user wrote, made inert for spreadsheets (OWASP CSV/formula injection): prefix with '."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def unguard_text(value: Any) -> Any:
    """The inverse of :func:`safe_text` for our own CSV files: ``'=…`` read back as ``=…``.

    So that exporting and re-importing a round is the identity even for text that starts like a formula.
    (A text that itself starts with an apostrophe followed by ``= + - @`` loses that apostrophe: documented.)
    """
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write a whole file or nothing: a temporary file beside it, then rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=str(path.parent or "."))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def csv_bytes(header: list[str], rows: Iterable[list]) -> bytes:
    """A UTF-8 CSV (with a BOM so that Excel reads Japanese) whose text cells are formula-safe."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([safe_text(v) if isinstance(v, str) else ("" if v is None else v) for v in r])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


__all__ = ["FORMULA_PREFIXES", "safe_text", "unguard_text", "write_atomic", "csv_bytes"]
