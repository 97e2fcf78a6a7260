"""Bounds on a Word document a user hands us (a notice template), checked before python-docx parses anything.

A ``.docx`` is a zip of XML parts, like an ``.xlsx`` (see :mod:`scoring.io.xlsx_guard`, whose ideas this follows
for a much smaller file): :func:`check_docx` refuses, in bounded time and memory — steps 1 and 2 by the one bounded
zip reader (:func:`scoring.io.bounded.open_zip`, with :data:`LIMITS` and :data:`WORDING`), which also reads every
part in step 3 never past its declared size —

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

import zipfile
from xml.parsers import expat

from ..errors import InputError, Problem
from .bounded import BoundedZip, ZipLimits, ZipRefused, ZipWording, open_zip

__all__ = ["check_docx", "LIMITS", "WORDING", "MAX_FILE_BYTES", "MAX_MEMBERS", "MAX_MEMBER_BYTES", "MAX_TOTAL_BYTES",
           "MAX_RATIO",
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

LIMITS = ZipLimits(members=MAX_MEMBERS, member_bytes=MAX_MEMBER_BYTES, total_bytes=MAX_TOTAL_BYTES, ratio=MAX_RATIO,
                   ratio_floor=RATIO_FLOOR_BYTES, file_bytes=MAX_FILE_BYTES)
"""The zip bounds of a notice template, checked by the shared reader (:func:`scoring.io.bounded.open_zip`)."""
WORDING = ZipWording(
    file_bytes="the file is {size}, over the limit of {limit}",
    not_zip="not a Word document (.docx, Word 2007 or later): save it in Word as 「Word 文書 (*.docx)」",
    members="the zip has {n:,} parts, over the limit of {limit:,}: not a Word document",
    method="compression method {method} is not one Word writes (stored or deflated only)",
    member_bytes="this part expands to {size}, over the limit of {limit}",
    ratio="this part expands {ratio:,.0f} times ({packed} to {size}), over the limit of {limit}",
    total="the parts expand to over {limit} together",
    unreadable="not a readable Word document: {type}: {error}")


class _Refused(Exception):
    def __init__(self, part: str | None, message: str):
        super().__init__(message)
        self.part, self.message = part, message


def check_docx(data: bytes, name: str) -> None:
    """Refuse ``data`` (the bytes of the file ``name``) unless it is a Word document within the bounds above."""
    try:
        _check(data)
    except _Refused as exc:
        raise InputError([Problem(name, None, exc.part or "(file)", exc.message)]) from None
    except ZipRefused as exc:
        raise InputError([Problem(name, None, exc.entry[:80] if exc.entry else "(file)", exc.message)]) from None


def _check(data: bytes) -> None:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise _Refused(None, "not a Word document (.docx): no file content")
    z = open_zip(data, LIMITS, WORDING)
    z.check_all()
    if "word/document.xml" not in {i.filename for i in z.infos}:
        raise _Refused(None, "not a Word document (.docx): the zip has no word/document.xml")
    elements = 0
    for info in z.infos:
        if info.filename.endswith((".xml", ".rels")) and not info.is_dir() and info.file_size:
            elements = _scan(z, info, elements)


def _scan(z: BoundedZip, info: zipfile.ZipInfo, elements: int) -> int:
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
        for chunk in z.chunks(info):
            p.Parse(chunk, False)
        p.Parse(b"", True)
    except expat.ExpatError as exc:
        raise _Refused(part, f"not well-formed XML ({exc}): the document is damaged") from None
    return elements
