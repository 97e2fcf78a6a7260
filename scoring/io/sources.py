"""Where an input comes from: a path, or the bytes of an upload — the one convention of every reader here.

A *source* is one of

- ``str`` or :class:`os.PathLike` (e.g. :class:`~pathlib.Path`): a **path** to a file (a ``str`` is never the
  content itself); messages name it as written (``str(path)``);
- ``bytes`` / ``bytearray`` / ``memoryview``: the **content** of a file (e.g. ``UploadedFile.getvalue()``);
- a binary file object (anything with ``read()`` returning bytes: ``open(..., "rb")``, :class:`io.BytesIO`,
  Streamlit's ``UploadedFile``): read whole from its current position.

Every reader takes a keyword-only ``name=`` for its messages (``file:row:field: message``). Without it a path
is named by itself, a file object by its ``.name`` attribute when it has one (uploads and open files do), and
anything else by the reader's placeholder such as ``(proposals)``. Nothing is written to a temporary file.

A reader takes at most ``limit`` bytes (:data:`scoring.io.bounded.LIMITS`: 32 MiB for a table, 512 KiB for a
pack) and refuses a larger file without reading the rest of it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO, Union

from ..errors import InputError, Problem
from . import bounded

Source = Union[str, os.PathLike, bytes, bytearray, memoryview, BinaryIO]


def is_path(source: Source) -> bool:
    """True for a path (``str`` or path-like), False for content (bytes or a file object)."""
    return isinstance(source, (str, os.PathLike))


def source_name(source: Source, name: str | None = None, default: str = "(upload)") -> str:
    """How messages name ``source``: ``name`` if given, else the path, the file object's ``.name``, ``default``."""
    if name is not None:
        return str(name)
    if is_path(source):
        return str(source)
    given = getattr(source, "name", None)
    return given if isinstance(given, str) and given else default


def read_bytes(source: Source, name: str, failure: str = "cannot read as UTF-8 text",
               error: type[InputError] = InputError, limit: int | None = None) -> bytes:
    """The whole content of ``source``; a missing file is ``(file): file not found``, an unreadable one
    ``(file): {failure}: …``, one of more than ``limit`` bytes (default: ``LIMITS.file_bytes``)
    ``(file): larger than …`` — raised as ``error`` (an :class:`InputError`) naming ``name``. At most
    ``limit + 1`` bytes are ever read."""
    if limit is None:
        limit = bounded.LIMITS.file_bytes
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = source
    else:
        try:
            if is_path(source):
                with open(source, "rb") as fh:
                    data = fh.read(limit + 1)
            else:
                data = source.read(limit + 1)
        except FileNotFoundError:
            raise error([Problem(name, None, "(file)", "file not found", "file.not_found")]) from None
        except (OSError, ValueError) as exc:  # ValueError: a closed file object
            raise error([Problem(name, None, "(file)", f"{failure}: {exc}")]) from None
        if isinstance(data, str):  # a text-mode file object: already decoded
            data = data.encode("utf-8")
    if len(data) > limit:
        raise error([Problem(name, None, "(file)", f"larger than {_size(limit)}: refused (the limit of "
                                                   f"this kind of file)", "file.too_large", {"limit": _size(limit)})])
    return bytes(data)


def _size(n: int) -> str:
    if n % 2**20 == 0:
        return f"{n // 2**20} MiB"
    return f"{n // 2**10} KiB" if n % 2**10 == 0 else f"{n:,} bytes"


def read_text(source: Source, name: str, failure: str = "cannot read as UTF-8 text",
              error: type[InputError] = InputError, limit: int | None = None) -> str:
    """``source`` as UTF-8 text (a BOM, as Excel writes it, is dropped); problems as in :func:`read_bytes`."""
    data = read_bytes(source, name, failure, error, limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error([Problem(name, None, "(file)", f"{failure}: {exc}", "file.not_utf8")]) from None


def suffix(source: Source, name: str) -> str:
    """The lower-case file extension of a path, else of the name given for the content (``""`` if none)."""
    return Path(str(source) if is_path(source) else name).suffix.lower()


__all__ = ["Source", "is_path", "source_name", "read_bytes", "read_text", "suffix"]
