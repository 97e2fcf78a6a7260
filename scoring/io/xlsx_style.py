"""The house style of every workbook Shinsa writes, and the one way its readers open a workbook.

Shared by :mod:`scoring.io.chair_workbook`, :mod:`scoring.io.score_sheets`, :mod:`scoring.io.intake`,
:mod:`scoring.io.analysis_sheet` and :mod:`scoring.io.selfcheck_sheet`: fills, borders and number formats;
cell writers that never make a formula; column widths and A4-landscape print setup; the workbook's labels
(``workbook.*`` of ``scoring/vocabulary/workbook.yaml``); and :func:`open_workbook`, which reads a path, bytes
or a binary file object alike — after :func:`scoring.io.xlsx_guard.check_xlsx` has bounded what it may expand to.

Security: every text cell a user wrote (titles, names, comments, reasons) is stored as a string cell, never as a
formula, and a text that starts with ``= + - @``, tab or CR (:data:`scoring.io.FORMULA_PREFIXES`) also gets
Excel's quote-prefix flag so that editing the cell keeps it text (OWASP formula injection).
"""

from __future__ import annotations

import io
import os
from copy import copy
from typing import IO, Any, Sequence, Union

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter

from ..errors import InputError, Problem
from ..labels import label
from .safe import FORMULA_PREFIXES
from .xlsx_guard import XlsxScan, check_xlsx

__all__ = ["MONEY_FMT", "SCORE_FMT", "RATIO_FMT", "FILL_SELECTED", "FILL_WAITLIST", "FILL_HEADER", "FILL_COI",
           "FILL_BLOCK", "FILL_INPUT", "THICK", "THIN", "Styles", "clean_text", "text_cell", "num_cell",
           "set_widths", "print_setup", "table_sheet", "wl", "workbook_bytes", "XlsxSource", "source_name",
           "open_workbook", "find_sheet"]

MONEY_FMT = "#,##0"
SCORE_FMT = "0.00"
RATIO_FMT = "0.00"

FILL_SELECTED = PatternFill("solid", fgColor="E2EFDA")
FILL_WAITLIST = PatternFill("solid", fgColor="FFF2CC")
FILL_HEADER = PatternFill("solid", fgColor="DDEBF7")
FILL_COI = PatternFill("solid", fgColor="D9D9D9")
FILL_BLOCK = PatternFill("solid", fgColor="F2F2F2")
FILL_INPUT = PatternFill("solid", fgColor="FFFFE0")
THICK = Side(style="thick", color="C00000")
THIN = Side(style="thin", color="808080")


def wl(key: str, lang: str = "ja", **fmt: object) -> str:
    """The workbook label ``workbook.<key>`` (scoring/vocabulary/workbook.yaml) in ``lang``."""
    return label(f"workbook.{key}", lang, **fmt)


# --- cells --------------------------------------------------------------------------------------------------------

def clean_text(text: str) -> str:
    """Characters XML cannot hold are dropped; Excel's cell limit is 32,767 characters."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)[:32767]


class Styles:
    """Style arrays built once per workbook and shared by the cells (fast, and write-only friendly)."""

    def __init__(self, ws):
        self._ws = ws
        self._cache: dict = {}
        self._quoted: dict = {}

    def get(self, **kw):
        """The style array of a cell with the attributes ``kw`` (font=…, fill=…, number_format=…)."""
        key = tuple(sorted((k, repr(v)) for k, v in kw.items()))
        st = self._cache.get(key)
        if st is None:
            c = Cell(self._ws, row=1, column=1)
            for k, v in kw.items():
                setattr(c, k, v)
            st = c._style
            self._cache[key] = st
        return st

    def quoted(self, style):
        """``style`` with Excel's quote-prefix flag (the cell stays text when edited)."""
        key = id(style)
        q = self._quoted.get(key)
        if q is None:
            q = copy(style) if style is not None else StyleArray()
            q.quotePrefix = 1
            self._quoted[key] = q
        return q


def text_cell(ws, styles: Styles, value: Any, style=None) -> Cell | str | None:
    """A string cell that can never be a formula (for ``ws.append``; works in write-only mode)."""
    if value is None or value == "":
        if style is None:
            return None
        c = Cell(ws, row=1, column=1)
        c._style = style
        return c
    s = clean_text(str(value))
    if style is None and not s.startswith(FORMULA_PREFIXES):
        return s  # a plain str never becomes a formula unless it starts with "="
    c = Cell(ws, row=1, column=1)
    c._value = s
    c.data_type = "s"
    if s.startswith(FORMULA_PREFIXES):
        c._style = styles.quoted(style)
    elif style is not None:
        c._style = style
    return c


def num_cell(ws, value: Any, style=None) -> Cell | Any:
    """A number cell (None and NaN: empty); floats keep every bit."""
    if value is None or (isinstance(value, float) and value != value):
        if style is None:
            return None
        c = Cell(ws, row=1, column=1)
        c._style = style
        return c
    if isinstance(value, float):
        # openpyxl writes floats with 16 significant digits; repr keeps every bit (full precision)
        c = Cell(ws, row=1, column=1)
        c._value = repr(value)
        c.data_type = "n"
        if style is not None:
            c._style = style
        return c
    if style is None:
        return value
    c = Cell(ws, row=1, column=1)
    c._value = value
    c.data_type = "n"
    c._style = style
    return c


# --- sheets -------------------------------------------------------------------------------------------------------

def set_widths(ws, widths: Sequence[float]) -> None:
    """Column widths from column A on."""
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = w


def print_setup(ws, title_rows: str | None = "1:1") -> None:
    """A4 landscape, one page wide, ``title_rows`` repeated on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = 9  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if title_rows:
        ws.print_title_rows = title_rows


def table_sheet(ws, n_rows: int, n_cols: int, freeze: str = "A2") -> None:
    """A table with its header on row 1: frozen panes, filters on every column, print setup."""
    ws.freeze_panes = freeze
    ws.auto_filter.ref = f"A1:{get_column_letter(n_cols)}{max(n_rows + 1, 2)}"
    print_setup(ws)


def workbook_bytes(wb: Workbook) -> bytes:
    """The .xlsx file of ``wb``."""
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def find_sheet(wb, aliases: Sequence[str], key=lambda s: s) -> str | None:
    """The name of the first sheet of ``wb`` that one of ``aliases`` names (compared through ``key``)."""
    names = {key(n): n for n in wb.sheetnames}
    for a in aliases:
        if key(a) in names:
            return names[key(a)]
    return None


# --- reading ------------------------------------------------------------------------------------------------------

#: What a reader accepts: a path, the file's bytes, a binary file object (its ``.name`` names it in messages,
#: as Streamlit's uploads have), or a ``(name, bytes | file object)`` pair.
XlsxSource = Union[str, os.PathLike, bytes, bytearray, IO[bytes], tuple]


def source_name(source: XlsxSource, default: str = "(upload)") -> str:
    """The name a problem of ``source`` is reported under: the path, the pair's name, the file object's name."""
    if isinstance(source, tuple):
        return str(source[0])
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    if isinstance(source, (bytes, bytearray)):
        return default
    name = getattr(source, "name", None)
    return str(name) if isinstance(name, (str, os.PathLike)) and str(name) else default


def open_workbook(source: XlsxSource, src: str, **load_kw) -> tuple[Any, list[Problem], XlsxScan | None]:
    """``(workbook, [], scan)``, or ``(None, [problem], None)`` when ``source`` is missing, not a readable .xlsx,
    or beyond a bound of :mod:`scoring.io.xlsx_guard` (checked before openpyxl parses anything)."""
    try:
        checked, scan = check_xlsx(source, src)
    except InputError as exc:
        return None, exc.problems, None
    try:
        return load_workbook(checked, **load_kw), [], scan
    except FileNotFoundError:
        return None, [Problem(src, None, "(file)", "file not found")], None
    except Exception as exc:  # zip/xml errors: not a workbook
        return None, [Problem(src, None, "(file)", f"not a readable .xlsx workbook: {type(exc).__name__}: {exc}")], None
