"""Small widgets shared by every page: money display, the error boundary, the page's language and focus outline.

The charts' Plotly theme is :mod:`app.chart_theme` (imported by the modules that draw charts: the login page does
not load Plotly).
"""

from __future__ import annotations

import functools
import json
import logging
import traceback
import uuid
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

import streamlit as st

from scoring.money import format_man_oku, format_score, format_yen

from .i18n import current_lang, t
from .kept import Kept

log = logging.getLogger("shinsa.app")


def english(lang: str | None = None) -> bool:
    """Whether money and dates are shown the English way (``lang`` or the session's language)."""
    return (lang or current_lang()) == "en"


def yen(amount: int | None, lang: str | None = None) -> str:
    """``148000000`` → ``148,000,000円`` in Japanese, ``¥148,000,000`` in English."""
    if amount is not None and english(lang):
        return money(amount, "en")
    return format_yen(amount)


def man_oku(amount: int | None, lang: str | None = None) -> str:
    """``148000000`` → ``1億4,800万円`` (summaries) in Japanese, ``¥148,000,000`` in English (issue 14 §10)."""
    if amount is not None and english(lang):
        return money(amount, "en")
    return format_man_oku(amount)


def yen_both(amount: int | None, lang: str | None = None) -> str:
    """``148,000,000円（1億4,800万円）``; plain yen below 1万円; ``¥148,000,000`` in English."""
    if amount is None:
        return "—"
    if english(lang):
        return money(amount, "en")
    if abs(int(amount)) < 10_000:
        return format_yen(amount)
    return f"{format_yen(amount)}（{format_man_oku(amount)}）"


def money(amount: int | None, lang: str | None = None) -> str:
    """An amount for a reader: ``1億4,800万円`` in Japanese, ``¥148,000,000`` in English."""
    if amount is None:
        return "—"
    if english(lang):
        return f"-¥{-int(amount):,}" if int(amount) < 0 else f"¥{int(amount):,}"
    return format_man_oku(amount)


def plain(text: str, limit: int = 80) -> str:
    """A value from outside (the address) quoted in a message: cut to ``limit`` characters, Markdown off."""
    text = text if len(text) <= limit else text[:limit] + "…"
    return "".join("\\" + c if c in "\\`*_{}[]()#+!<>|~:$" else c for c in text)


def score(value: float | None) -> str:
    """Scores are shown with 2 decimals, round half up (selection.md, Rounding for display)."""
    return format_score(value)


def _log_failure(where: str, exc: BaseException) -> str:
    """Log where a page failed — exception type and code locations only, never the message or values,
    which may hold what a user typed. Returns a short id the user can quote."""
    incident = uuid.uuid4().hex[:8]
    frames = "; ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}"
                       for f in traceback.extract_tb(exc.__traceback__))
    log.error("page error %s in %s: %s at %s", incident, where, type(exc).__name__, frames)
    return incident


@contextmanager
def error_boundary(where: str = "page") -> Iterator[None]:
    """Run a block; on an exception show a friendly message (no traceback) and log it without user data.

    Streamlit's own control flow (rerun, stop, switch_page) derives from BaseException and passes through.
    """
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - the boundary exists to catch everything a page raises
        incident = _log_failure(where, exc)
        st.error(t("common.error.unexpected", incident=incident), icon="⚠️")


F = TypeVar("F", bound=Callable)


def guarded(where: str) -> Callable[[F], F]:
    """Decorator form of :func:`error_boundary` for a page's ``render()``."""
    def deco(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with error_boundary(where):
                return fn(*args, **kwargs)
        return wrapper  # type: ignore[return-value]
    return deco


# Material icons render with Streamlit's own font (colour emoji may be missing on a server's fonts)
STATUS_ICONS = {"pass": ":material/check_circle:", "fail": ":material/cancel:", "needs_check": ":material/help:",
                "conditional": ":material/rule:"}
# the same statuses coloured, where a rule's status heads a box of its own (提案の詳細)
STATUS_BADGES = {"pass": ":green[:material/check_circle:]", "fail": ":red[:material/cancel:]",
                 "needs_check": ":orange[:material/help:]", "conditional": ":blue[:material/info:]"}


# Streamlit draws a file uploader's button ("Upload") and its drop hint ("Drag and drop a file here", "Limit
# 200MB per file") in English with no parameter to change them; in Japanese they are replaced by CSS with the
# catalog's words (issue 14 §10). The label above the uploader says which file to give, in either language.
_UPLOADER_CSS = """<style>
[data-testid="stFileUploaderDropzone"] button {font-size: 0 !important;}
[data-testid="stFileUploaderDropzone"] button::after {content: "%(button)s"; font-size: 0.875rem;}
[data-testid="stFileUploaderDropzoneInstructions"] {font-size: 0 !important;}
[data-testid="stFileUploaderDropzoneInstructions"] * {font-size: 0 !important;}
[data-testid="stFileUploaderDropzoneInstructions"]::after {content: "%(drop)s"; font-size: 0.875rem;}
</style>"""


def uploader_texts() -> None:
    """Put the file uploaders of this page in the reader's language (Japanese: by CSS; English as drawn)."""
    if current_lang() != "ja":
        return
    drop = t("common.upload.drop", mb=st.get_option("server.maxUploadSize"))
    st.html(_UPLOADER_CSS % {"button": t("common.upload.button"), "drop": drop})


# Streamlit serves every page as <html lang="en"> and has no option to change it (streamlit/streamlit#15726):
# a screen reader would read the Japanese interface with an English voice (WCAG 2.1 SC 3.1.1). The script sets
# the document's language to the interface language; the shell draws it on every run, so it follows the sidebar's
# language switch at once. The style gives everything focused from the keyboard one clear outline (SC 2.4.7):
# Streamlit's own focus marks are a faint ring, a border colour, or nothing (a radio option's input is clipped
# to 1 px, so its label carries the outline; react-aria marks it data-focus-visible). A component drawn in a shadow
# root (the PDF viewer beside the score form) takes the focus inside it, where the page's CSS cannot reach: its host
# — the innermost element of the page holding the focus — carries the outline instead.
FOCUS_COLOUR = "#0b57d0"   # 6.3:1 on white, 6.0:1 on the sidebar's #f8f8f7 (SC 1.4.11 asks 3:1)
_PAGE_SETUP = """<style>
:focus-visible { outline: 2px solid %(colour)s !important; outline-offset: 2px; }
label[data-focus-visible] { outline: 2px solid %(colour)s; outline-offset: 2px; border-radius: 4px; }
div:focus-within:not(:has(:focus-within)) { outline: 2px solid %(colour)s !important; outline-offset: 2px; }
.st-key-rv_amounts [data-testid="stMetricValue"], .st-key-rv_amounts [data-testid="stMetricValue"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; font-size: 1.75rem; }
</style><script>document.documentElement.lang = %(lang)s;</script>"""


def page_setup(lang: str) -> None:
    """Declare ``lang`` ("ja" / "en") as the page's language (``<html lang>``) and draw keyboard focus clearly."""
    st.html(_PAGE_SETUP % {"colour": FOCUS_COLOUR, "lang": json.dumps(lang)}, unsafe_allow_javascript=True)


# --- large tables: the Arrow table of the same content made once (issue 15) ---------------------------------

_arrow_tables = Kept(16)


def arrow_table(columns: tuple[str, ...], rows: tuple[tuple, ...]):
    """The Arrow table that ``st.dataframe(pd.DataFrame(rows, columns=columns))`` would send, made once per content
    and kept for the next run and session (the last few contents): Streamlit sends a ``pyarrow.Table`` as it is,
    so the bytes, the columns and their order are the same — only the pandas frame and its conversion, most of a
    run of 進捗 with its 500 proposal columns, are not redone. ``rows`` is the whole content (the key)."""
    def build():
        import pandas as pd
        from streamlit import dataframe_util

        return dataframe_util.convert_pandas_df_to_arrow_table(pd.DataFrame(list(rows), columns=list(columns)))
    return _arrow_tables.get((columns, rows), build)
