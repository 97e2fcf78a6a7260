"""Bounds on what a workbook a user hands us may expand to, checked before openpyxl parses anything.

An ``.xlsx`` is a zip of XML parts; a 1.5 MB upload can hold a part that inflates to gigabytes (a "zip bomb"),
a sheet whose cells reach row 1,048,576, a merged range over the whole sheet (which openpyxl expands cell by
cell) or a DTD whose entities multiply. :func:`check_xlsx` refuses all of these in bounded time and memory:

Steps 1 and 2 are the one bounded zip reader's (:func:`scoring.io.bounded.open_zip`, with :func:`zip_limits` and
:data:`WORDING`), which also reads every part in step 3 never past its declared size.

1. the file itself: at most :data:`MAX_FILE_BYTES`; its zip directory at most :data:`MAX_DIRECTORY_BYTES` (read
   from the end-of-directory record before :mod:`zipfile` parses the directory);
2. the zip directory: at most :data:`MAX_MEMBERS` members, each stored or deflated, each declaring at most
   :data:`MAX_MEMBER_BYTES` uncompressed (all together :data:`MAX_TOTAL_BYTES`) and, above
   :data:`RATIO_FLOOR_BYTES`, expanding at most :data:`MAX_RATIO` times. A declared size is not trusted: every
   XML part is then read through a stream that stops at the declared size (and :mod:`zipfile` itself never
   yields more than the declared size), so a part that lies about its size is refused or cut short, never
   inflated further;
3. every XML part, streamed through expat without building a tree: no ``<!DOCTYPE>`` (so no entity expansion),
   nesting at most :data:`MAX_DEPTH`, at most :data:`MAX_ELEMENTS` elements in the workbook; in a sheet, no cell
   beyond row :data:`MAX_ROWS` or column :data:`MAX_COLUMNS`, a used range (as the cells say — the sheet's own
   ``<dimension>`` is never trusted) and merged/hyperlinked ranges of at most :data:`MAX_CELLS` cells; the text of
   one cell or shared string at most :data:`MAX_CELL_CHARS` characters (Excel's own limit).

A refusal is an :class:`~scoring.errors.InputError` naming the file, the part (and the cell where there is one)
and the limit — the command line exits 2 and the app shows the message. The limits a committee could need more
of are read from environment variables at each call (``SHINSA_XLSX_MAX_*``, see :data:`ENV_LIMITS`).

The scan also returns, per sheet, the formula cells that have no saved value (:class:`XlsxScan`), so that a
reader opening the workbook with ``data_only=True`` can tell such a cell from a blank one.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Union
from xml.parsers import expat

from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.cell import coordinate_to_tuple

from ..errors import InputError, Problem
from .bounded import (ZIP_DIRECTORY_BYTES, ZIP_RATIO, ZIP_RATIO_FLOOR_BYTES, BoundedZip, ZipLimits, ZipRefused,
                      ZipWording, open_zip)

__all__ = ["check_xlsx", "XlsxScan", "xlsx_limit", "zip_limits", "WORDING", "ENV_LIMITS", "MAX_FILE_BYTES",
           "MAX_DIRECTORY_BYTES", "MAX_MEMBERS", "MAX_MEMBER_BYTES", "MAX_TOTAL_BYTES", "MAX_RATIO", "RATIO_FLOOR_BYTES",
           "MAX_ROWS", "MAX_COLUMNS", "MAX_CELLS", "MAX_CELL_CHARS", "MAX_DEPTH", "MAX_ELEMENTS"]

MiB = 1024 * 1024
MAX_FILE_BYTES = 32 * MiB          # the .xlsx file as given (the app's upload limit is 20 MB)
MAX_DIRECTORY_BYTES = ZIP_DIRECTORY_BYTES   # the zip's central directory (an Excel workbook's is a few KB)
MAX_MEMBERS = 1000                 # parts in the zip (Excel: a dozen plus a few per sheet)
MAX_MEMBER_BYTES = 64 * MiB        # one part, uncompressed
MAX_TOTAL_BYTES = 128 * MiB        # all parts, uncompressed
MAX_RATIO = ZIP_RATIO              # uncompressed / compressed, for a part over RATIO_FLOOR_BYTES (Excel: ~5–30)
RATIO_FLOOR_BYTES = ZIP_RATIO_FLOOR_BYTES
MAX_ROWS = 100_000                 # the last row a sheet may use
MAX_COLUMNS = 1_000                # the last column a sheet may use (ALL)
MAX_CELLS = 1_000_000              # a sheet's used range (rows × columns), and its merged/hyperlinked ranges
MAX_CELL_CHARS = 32_767            # one cell's or shared string's text, as in Excel
MAX_DEPTH = 64                     # XML nesting (a sheet is ~6 deep)
MAX_ELEMENTS = 5_000_000           # XML elements in the whole workbook

#: The limits a committee may raise (or lower) through the environment: variable → default.
ENV_LIMITS = {
    "SHINSA_XLSX_MAX_FILE_BYTES": MAX_FILE_BYTES,
    "SHINSA_XLSX_MAX_MEMBER_BYTES": MAX_MEMBER_BYTES,
    "SHINSA_XLSX_MAX_TOTAL_BYTES": MAX_TOTAL_BYTES,
    "SHINSA_XLSX_MAX_RATIO": MAX_RATIO,
    "SHINSA_XLSX_MAX_ROWS": MAX_ROWS,
    "SHINSA_XLSX_MAX_COLUMNS": MAX_COLUMNS,
    "SHINSA_XLSX_MAX_CELLS": MAX_CELLS,
}

_R_ID = "http://schemas.openxmlformats.org/officeDocument/2006/relationships id"
_EXCEL_ROWS, _EXCEL_COLS = 1_048_576, 16_384
_CELL_REF = re.compile(r"([A-Z]{1,3})([0-9]+)")   # what Excel writes; anything else goes the slow way
_LOCAL: dict[str, str] = {}                        # "namespace local" → "local", filled as names are seen


def _local(name: str) -> str:
    local = name.rsplit(" ", 1)[-1]
    if len(_LOCAL) < 10_000:
        _LOCAL[name] = local
    return local

Source = Union[str, os.PathLike, bytes, bytearray, IO[bytes], tuple]


def xlsx_limit(env: str) -> int:
    """The limit ``env`` (one of :data:`ENV_LIMITS`): the environment's value, else the default."""
    raw = os.environ.get(env, "").strip().replace("_", "")
    if not raw:
        return ENV_LIMITS[env]
    if not raw.isdigit() or int(raw) < 1:
        raise InputError([Problem(env, None, "(setting)", f"must be a positive whole number, not {raw[:40]!r}")])
    return int(raw)


@dataclass
class XlsxScan:
    """What the scan saw that a reader needs: formula cells without a saved value, by sheet name."""

    uncached: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)  # sheet → (row, col) → formula


class _Refused(Exception):
    def __init__(self, where: str | None, message: str):
        super().__init__(message)
        self.where, self.message = where, message


def check_xlsx(source: Source, src: str) -> tuple[Union[str, io.BytesIO], XlsxScan]:
    """``source`` checked against every bound above: ``(what to give openpyxl, the scan)``.

    Raises :class:`InputError` naming ``src`` when the file is missing, not a zip, or beyond a bound.
    """
    opened = _materialise(source, src)
    try:
        fh = open(opened, "rb") if isinstance(opened, str) else opened
    except FileNotFoundError:
        raise InputError([Problem(src, None, "(file)", "file not found")]) from None
    except OSError as exc:
        raise InputError([Problem(src, None, "(file)", f"cannot read the file: {exc}")]) from None
    try:
        scan = _check(fh, src)
    except _Refused as exc:
        raise InputError([Problem(src, exc.where, "(file)", exc.message)]) from None
    finally:
        if fh is not opened:
            fh.close()
        else:
            fh.seek(0)
    return opened, scan


def _materialise(source: Source, src: str) -> Union[str, io.BytesIO]:
    """A path, or the content in memory (a file object is read, at most one byte over the file limit)."""
    if isinstance(source, tuple):
        source = source[1]
    if isinstance(source, (str, os.PathLike)):
        return str(Path(source))
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source))
    cap = xlsx_limit("SHINSA_XLSX_MAX_FILE_BYTES")
    data = source.read(cap + 1)
    if isinstance(data, str):
        raise InputError([Problem(src, None, "(file)", "not a readable .xlsx workbook: opened as text")])
    return io.BytesIO(bytes(data))


def zip_limits() -> ZipLimits:
    """The zip bounds of a workbook, those a committee may change read from the environment now."""
    return ZipLimits(members=MAX_MEMBERS, member_bytes=xlsx_limit("SHINSA_XLSX_MAX_MEMBER_BYTES"),
                     total_bytes=xlsx_limit("SHINSA_XLSX_MAX_TOTAL_BYTES"), ratio=xlsx_limit("SHINSA_XLSX_MAX_RATIO"),
                     ratio_floor=RATIO_FLOOR_BYTES, file_bytes=xlsx_limit("SHINSA_XLSX_MAX_FILE_BYTES"),
                     directory_bytes=MAX_DIRECTORY_BYTES)


WORDING = ZipWording(
    file_bytes="the file is {size}, over the limit of {limit} (SHINSA_XLSX_MAX_FILE_BYTES)",
    directory="the zip directory is {size}, over the limit of {limit}: not an Excel workbook",
    not_zip="not a readable .xlsx workbook: {type}: {error}",
    members="the zip has {n:,} parts, over the limit of {limit:,}: not an Excel workbook",
    method="compression method {method} is not one Excel writes (stored or deflated only)",
    member_bytes="this part expands to {size}, over the limit of {limit} (SHINSA_XLSX_MAX_MEMBER_BYTES)",
    ratio="this part expands {ratio:,.0f} times ({packed} to {size}), over the limit of {limit} "
          "(SHINSA_XLSX_MAX_RATIO)",
    total="the parts expand to over {limit} together (SHINSA_XLSX_MAX_TOTAL_BYTES)",
    unreadable="not a readable .xlsx workbook: {type}: {error}")
"""What the shared zip reader says of a workbook beyond a zip bound."""


def _check(fh: IO[bytes], src: str) -> XlsxScan:
    try:
        z = open_zip(fh, zip_limits(), WORDING)
        z.check_all()
    except ZipRefused as exc:
        raise _Refused(exc.entry[:80] if exc.entry else None, exc.message) from None
    infos = z.infos
    scanner = _Scanner()
    # relationships first, then the workbook part they name: a refusal in a sheet can then name the sheet
    rels = [i for i in infos if i.filename.endswith(".rels")]
    for info in rels:
        scanner.scan_member(z, info)
    roots = set(scanner.rels.get("", {}).values())
    for info in [i for i in infos if i.filename in roots] + [i for i in infos if i not in rels
                                                               and i.filename not in roots]:
        scanner.scan_member(z, info)
    return scanner.result()


class _Scanner:
    """Streams every XML part through expat, counting; nothing but counters and small tables is kept."""

    def __init__(self) -> None:
        self.max_rows = xlsx_limit("SHINSA_XLSX_MAX_ROWS")
        self.max_cols = xlsx_limit("SHINSA_XLSX_MAX_COLUMNS")
        self.max_cells = xlsx_limit("SHINSA_XLSX_MAX_CELLS")
        self.elements = 0
        self.uncached: dict[str, dict[tuple[int, int], str]] = {}   # part → cells
        self.sheets: list[tuple[str, str, str]] = []                 # (workbook part, sheet name, r:id)
        self.rels: dict[str, dict[str, str]] = {}                    # source part → r:id → target part

    # --- one part ---------------------------------------------------------------------------------------------
    def scan_member(self, z: BoundedZip, info: zipfile.ZipInfo) -> None:
        if info.is_dir() or info.file_size == 0:
            return
        self.part = info.filename
        try:
            self._start_part()
            for chunk in z.chunks(info):   # never past the declared size (nor does zipfile read past it)
                self.parser.Parse(chunk, False)
            self.parser.Parse(b"", True)
        except ZipRefused as exc:
            raise _Refused(info.filename[:80], exc.message) from None
        except expat.ExpatError:
            # not XML (an image, printer settings) or not well-formed (a VML drawing): openpyxl's parser, expat
            # too, would stop at the same place; everything before it was checked
            return

    def _start_part(self) -> None:
        p = expat.ParserCreate(namespace_separator=" ")
        p.buffer_text = True
        p.StartElementHandler = self._start
        p.EndElementHandler = self._end
        p.CharacterDataHandler = self._text
        p.StartDoctypeDeclHandler = self._doctype
        self.parser = p
        self.depth = 0
        self.in_data = False
        self.row = self.col = 0
        self.used_rows = self.used_cols = 0
        self.ranges = 0
        self.cell: list | None = None     # the <c> being read: [row, column, type, formula | None, value | None]
        self.inside = ""                  # the element whose text comes next: "f", "v", "t" …
        self.string: int | None = None    # characters of the <si>/<is> being read
        self.shared = 0                   # <si> elements so far (shared strings are numbered from 0)
        self.text = 0                     # characters of the current element
        self.head = ""                    # the first characters of the string or cell being read

    def _where(self, cell: str | None = None) -> str:
        """``応募!C2`` for a sheet the workbook names, else the part (``xl/worksheets/sheet9.xml!C2``)."""
        part = self._titles().get(self.part) or self.part[:80]
        return part + (f"!{cell}" if cell else "")

    def _titles(self) -> dict[str, str]:
        """Sheet part → the sheet's name, as far as the workbook and its relationships were read."""
        out = {}
        for book, name, rid in self.sheets:
            part = self.rels.get(book, {}).get(rid)
            if part:
                out[part] = name[:31]
        return out

    def _cell_ref(self) -> str | None:
        return f"{get_column_letter(min(self.cell[1], _EXCEL_COLS))}{self.cell[0]}" if self.cell else None

    # --- expat handlers (hot: a sheet calls them for every cell) ------------------------------------------------
    def _doctype(self, *args) -> None:
        raise _Refused(self._where(), "a DTD (<!DOCTYPE …>) is not allowed in a workbook")

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        self.elements += 1
        if self.depth > MAX_DEPTH:
            raise _Refused(self._where(), f"XML nested over {MAX_DEPTH} levels deep")
        if self.elements > MAX_ELEMENTS:
            raise _Refused(self._where(), f"over {MAX_ELEMENTS:,} XML elements in the workbook")
        local = _LOCAL.get(name) or _local(name)
        self.inside = local
        self.text = 0
        if self.in_data:
            if local == "c":
                ref = attrs.get("r")
                if ref:
                    row, self.col = self._position(ref)
                else:
                    row, self.col = self.row, self.col + 1
                self.cell = [row, self.col, attrs.get("t", "n"), None, None]
                self.head = ""
                self._bound(row, self.col)
            elif self.cell is not None:
                if local == "v":
                    self.cell[4] = ""
                elif local == "f":
                    self.cell[3] = ""
                elif local == "is":
                    self.string = 0
            elif local == "row":
                self.row = self._row_number(attrs["r"]) if "r" in attrs else self.row + 1
                self.col = 0
                self._bound(self.row, 1)
        elif local == "sheetData":
            self.in_data = True
        elif local == "si":
            self.string = 0
            self.head = ""
            self.shared += 1
        elif local in ("mergeCell", "hyperlink") and "ref" in attrs:
            self.ranges += _area(attrs["ref"])
            if self.ranges > self.max_cells:
                raise _Refused(self._where(attrs["ref"][:40]), f"merged or hyperlinked ranges cover over "
                                                               f"{self.max_cells:,} cells (SHINSA_XLSX_MAX_CELLS)")
        elif local == "sheet" and "name" in attrs:
            self.sheets.append((self.part, attrs["name"], attrs.get(_R_ID, "")))
        elif local == "Relationship" and attrs.get("TargetMode", "Internal") == "Internal":
            self._relationship(attrs.get("Id", ""), attrs.get("Target", ""))

    def _position(self, ref: str) -> tuple[int, int]:
        """(row, column) of ``<c r=…>`` as openpyxl reads it."""
        m = _CELL_REF.fullmatch(ref)
        if m:
            return int(m.group(2)), column_index_from_string(m.group(1))
        try:
            return coordinate_to_tuple(ref)
        except (ValueError, TypeError, UnboundLocalError):
            raise _Refused(self._where(), f"cell reference {ref[:20]!r} is not one: not a readable .xlsx "
                                          "workbook") from None

    def _row_number(self, r: str) -> int:
        """``<row r=…>`` as openpyxl reads it (``"5"``, ``"5.0"``)."""
        try:
            return int(r)
        except ValueError:
            try:
                val = float(r)
            except ValueError:
                val = float("nan")
            if val.is_integer():
                return int(val)
        raise _Refused(self._where(), f"row number {r[:20]!r} is not a whole number: not a readable .xlsx workbook")

    def _bound(self, row: int, col: int) -> None:
        if row > self.used_rows:
            if row > self.max_rows:
                raise _Refused(self._where(self._cell_ref()), f"row {row:,} is beyond the limit of "
                                                              f"{self.max_rows:,} rows (SHINSA_XLSX_MAX_ROWS)")
            self.used_rows = row
        elif col <= self.used_cols:
            return
        if col > self.used_cols:
            if col > self.max_cols:
                raise _Refused(self._where(self._cell_ref()), f"column {col:,} is beyond the limit of "
                                                              f"{self.max_cols:,} columns (SHINSA_XLSX_MAX_COLUMNS)")
            self.used_cols = col
        if self.used_rows * self.used_cols > self.max_cells:
            raise _Refused(self._where(self._cell_ref()), f"the sheet's used range A1:"
                                                          f"{get_column_letter(self.used_cols)}{self.used_rows} is "
                                                          f"over {self.max_cells:,} cells (SHINSA_XLSX_MAX_CELLS)")

    def _text(self, data: str) -> None:
        n = len(data)
        self.text += n
        if len(self.head) < 40:
            self.head += data[:40]
        if self.string is not None:
            self.string += n
            if self.string > MAX_CELL_CHARS:
                what = f"cell {self._cell_ref()}" if self.cell else f"shared string {self.shared - 1}"
                raise _Refused(self._where(self._cell_ref()), f"{what} has over {MAX_CELL_CHARS:,} characters "
                                                              f"(Excel's limit for a cell), starting {self.head!r}")
        elif self.cell is not None:
            if self.text > MAX_CELL_CHARS:
                raise _Refused(self._where(self._cell_ref()), f"cell {self._cell_ref()} has over "
                                                              f"{MAX_CELL_CHARS:,} characters (Excel's limit for a "
                                                              f"cell), starting {self.head!r}")
            if self.inside == "f" and len(self.cell[3]) < 80:
                self.cell[3] += data[:80]
            elif self.inside == "v" and not self.cell[4]:
                self.cell[4] = data[:1]

    def _end(self, name: str) -> None:
        self.depth -= 1
        self.text = 0
        self.inside = ""
        local = _LOCAL.get(name) or _local(name)
        if local == "c" and self.cell is not None:
            row, col, kind, formula, value = self.cell
            if formula is not None and (value is None or (value == "" and kind != "str")):
                self.uncached.setdefault(self.part, {})[(row, col)] = formula[:80]
            self.cell = None
        elif local == "si" or (local == "is" and self.cell is not None):
            self.string = None
        elif local == "sheetData":
            self.in_data = False

    def _relationship(self, rid: str, target: str) -> None:
        folder, base = posixpath.split(self.part)
        if posixpath.basename(folder) != "_rels" or not base.endswith(".rels"):
            return
        source_dir = posixpath.dirname(folder)
        resolved = target.lstrip("/") if target.startswith("/") else \
            posixpath.normpath(posixpath.join(source_dir, target))
        self.rels.setdefault(posixpath.join(source_dir, base[:-5]), {})[rid] = resolved

    def result(self) -> XlsxScan:
        titles = self._titles()
        return XlsxScan(uncached={titles[part]: cells for part, cells in self.uncached.items() if part in titles})


def _area(ref: str) -> int:
    """Cells in a range list such as ``A1:C3 E5`` (a whole row or column counts as Excel's full extent)."""
    total = 0
    for part in ref.split():
        a, _, b = part.partition(":")
        (c1, r1), (c2, r2) = _corner(a, False), _corner(b or a, True)
        total += (abs(r2 - r1) + 1) * (abs(c2 - c1) + 1)
    return total


def _corner(ref: str, end: bool) -> tuple[int, int]:
    """(column, row) of one end of a range; a missing part reaches the sheet's edge (or starts at 1)."""
    m = re.match(r"^\$?([A-Za-z]{0,3})\$?(\d*)$", ref)
    if not m or not (m.group(1) or m.group(2)):
        return (_EXCEL_COLS, _EXCEL_ROWS) if end else (1, 1)
    col = column_index_from_string(m.group(1).upper()) if m.group(1) else (_EXCEL_COLS if end else 1)
    row = int(m.group(2)) if m.group(2) else (_EXCEL_ROWS if end else 1)
    return col, row
