"""Bounds on a Word document a user hands us (a notice template), checked before python-docx parses anything.

A ``.docx`` is a zip of XML parts, like an ``.xlsx`` (see :mod:`scoring.io.xlsx_guard`, whose ideas this follows
for a much smaller file): :func:`check_docx` refuses, in bounded time and memory,

1. a file over :data:`MAX_FILE_BYTES`, or one that is not a zip at all (a ``.doc`` of Word 97–2003, a PDF, text);
2. a zip of more than :data:`MAX_MEMBERS` parts, a part compressed other than stored/deflated, a part declaring
   more than :data:`MAX_MEMBER_BYTES` (all together :data:`MAX_TOTAL_BYTES`) or, above :data:`RATIO_FLOOR_BYTES`,
   expanding more than :data:`MAX_RATIO` times (a "zip bomb"); a zip without ``word/document.xml``;
3. every XML part (``.xml``, ``.rels``), streamed through expat up to its declared size without building a tree:
   no ``<!DOCTYPE>`` (so no entity expansion), nesting at most :data:`MAX_DEPTH`, at most :data:`MAX_ELEMENTS`
   elements in the whole document, and well-formed.

A refusal is an :class:`~scoring.errors.InputError` naming the file (and the part where there is one).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from xml.parsers import expat

from ..errors import InputError, Problem

__all__ = ["check_docx", "MAX_FILE_BYTES", "MAX_MEMBERS", "MAX_MEMBER_BYTES", "MAX_TOTAL_BYTES", "MAX_RATIO",
           "RATIO_FLOOR_BYTES", "MAX_DEPTH", "MAX_ELEMENTS"]

MiB = 1024 * 1024
MAX_FILE_BYTES = 10 * MiB      # a notice template (the shipped ones are ~37 KB; a letterhead image adds some)
MAX_MEMBERS = 300              # parts in the zip (Word writes a dozen or two)
MAX_MEMBER_BYTES = 32 * MiB    # one part, uncompressed
MAX_TOTAL_BYTES = 64 * MiB     # all parts, uncompressed
MAX_RATIO = 100                # uncompressed / compressed, for a part over RATIO_FLOOR_BYTES
RATIO_FLOOR_BYTES = 1 * MiB
MAX_DEPTH = 200                # XML nesting (a Word body with tables in tables stays well under 100)
MAX_ELEMENTS = 2_000_000       # XML elements in the whole document
_CHUNK = 64 * 1024


class _Refused(Exception):
    def __init__(self, part: str | None, message: str):
        super().__init__(message)
        self.part, self.message = part, message


def _mb(n: int) -> str:
    return f"{n / MiB:,.1f} MB" if n >= MiB else f"{n:,} bytes"


def check_docx(data: bytes, name: str) -> None:
    """Refuse ``data`` (the bytes of the file ``name``) unless it is a Word document within the bounds above."""
    try:
        _check(data)
    except _Refused as exc:
        raise InputError([Problem(name, None, exc.part or "(file)", exc.message)]) from None


def _check(data: bytes) -> None:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise _Refused(None, "not a Word document (.docx): no file content")
    if len(data) > MAX_FILE_BYTES:
        raise _Refused(None, f"the file is {_mb(len(data))}, over the limit of {_mb(MAX_FILE_BYTES)}")
    try:
        z = zipfile.ZipFile(io.BytesIO(bytes(data)))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise _Refused(None, "not a Word document (.docx, Word 2007 or later): save it in Word as "
                             "「Word 文書 (*.docx)」") from None
    infos = z.infolist()
    _directory(infos)
    names = {i.filename for i in infos}
    if "word/document.xml" not in names:
        raise _Refused(None, "not a Word document (.docx): the zip has no word/document.xml")
    elements = 0
    for info in infos:
        if info.filename.endswith((".xml", ".rels")) and not info.is_dir() and info.file_size:
            elements = _scan(z, info, elements)


def _directory(infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_MEMBERS:
        raise _Refused(None, f"the zip has {len(infos):,} parts, over the limit of {MAX_MEMBERS:,}: "
                             "not a Word document")
    total = 0
    for info in infos:
        part = info.filename[:80]
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _Refused(part, f"compression method {info.compress_type} is not one Word writes "
                                 "(stored or deflated only)")
        if info.file_size > MAX_MEMBER_BYTES:
            raise _Refused(part, f"this part expands to {_mb(info.file_size)}, over the limit of "
                                 f"{_mb(MAX_MEMBER_BYTES)}")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR_BYTES and ratio > MAX_RATIO:
            raise _Refused(part, f"this part expands {ratio:,.0f} times ({_mb(info.compress_size)} to "
                                 f"{_mb(info.file_size)}), over the limit of {MAX_RATIO}")
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise _Refused(part, f"the parts expand to over {_mb(MAX_TOTAL_BYTES)} together")


def _scan(z: zipfile.ZipFile, info: zipfile.ZipInfo, elements: int) -> int:
    """Stream one XML part through expat (never past its declared size); the running element count."""
    part = info.filename[:80]
    depth = 0

    def start(_name, _attrs):
        nonlocal depth, elements
        depth += 1
        elements += 1
        if depth > MAX_DEPTH:
            raise _Refused(part, f"XML nested over {MAX_DEPTH} levels deep")
        if elements > MAX_ELEMENTS:
            raise _Refused(part, f"over {MAX_ELEMENTS:,} XML elements in the document")

    def end(_name):
        nonlocal depth
        depth -= 1

    def doctype(*_args):
        raise _Refused(part, "a DTD (<!DOCTYPE …>) is not allowed in a Word document")

    p = expat.ParserCreate()
    p.StartElementHandler, p.EndElementHandler, p.StartDoctypeDeclHandler = start, end, doctype
    try:
        with z.open(info) as stream:
            read = 0
            while read < info.file_size:
                chunk = stream.read(min(_CHUNK, info.file_size - read))
                if not chunk:
                    break
                read += len(chunk)
                p.Parse(chunk, False)
            p.Parse(b"", True)
    except expat.ExpatError as exc:
        raise _Refused(part, f"not well-formed XML ({exc}): the document is damaged") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError) as exc:
        raise _Refused(part, f"not a readable Word document: {type(exc).__name__}: {exc}") from None
    return elements
