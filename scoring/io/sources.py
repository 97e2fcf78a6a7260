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
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO, Union

from ..errors import InputError, Problem

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
               error: type[InputError] = InputError) -> bytes:
    """The whole content of ``source``; a missing file is ``(file): file not found``, an unreadable one
    ``(file): {failure}: …`` — raised as ``error`` (an :class:`InputError`) naming ``name``."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    try:
        data = Path(source).read_bytes() if is_path(source) else source.read()
    except FileNotFoundError:
        raise error([Problem(name, None, "(file)", "file not found")]) from None
    except OSError as exc:
        raise error([Problem(name, None, "(file)", f"{failure}: {exc}")]) from None
    if isinstance(data, str):  # a text-mode file object: already decoded
        return data.encode("utf-8")
    return bytes(data)


def read_text(source: Source, name: str, failure: str = "cannot read as UTF-8 text",
              error: type[InputError] = InputError) -> str:
    """``source`` as UTF-8 text (a BOM, as Excel writes it, is dropped); problems as in :func:`read_bytes`."""
    data = read_bytes(source, name, failure, error)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error([Problem(name, None, "(file)", f"{failure}: {exc}")]) from None


def suffix(source: Source, name: str) -> str:
    """The lower-case file extension of a path, else of the name given for the content (``""`` if none)."""
    return Path(str(source) if is_path(source) else name).suffix.lower()


__all__ = ["Source", "is_path", "source_name", "read_bytes", "read_text", "suffix"]
