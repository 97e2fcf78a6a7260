"""The chair workbook's two sheets of the hearing stage (stages.md; docs/excel.md "Hearing stage sheets"), added by
:func:`scoring.io.chair_workbook.chair_workbook` when the ranking is a
:class:`~scoring.hearing_ranking.HearingRanking`:

- 「ヒアリング対象」: every proposal that qualified at the document stage, in document rank order — its document rank,
  applicant, S_d, and whether it is shortlisted by the method, added or removed by the chair (with the reason,
  who and when, in the committee's time zone) or left out;
- 「ヒアリング審査」: the shortlisted proposals in final order — final rank, S_d, B_d, B_h, S, counted hearing
  reviews, the final decision, the funded amount and the funding line (selected rows green, waitlisted yellow,
  a thick red line under the last selected one, as on 採択候補一覧).

Labels from ``scoring/vocabulary/workbook.yaml`` (sheet names in Japanese, columns in the workbook's language);
every text is a formula-safe string cell (:func:`scoring.io.xlsx_style.text_cell`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

import numpy as np
from openpyxl.styles import Alignment, Border

from ..labels import label_of
from ..models import Decision
from .clock import local_tz
from .xlsx_style import (FILL_SELECTED, FILL_WAITLIST, MONEY_FMT, SCORE_FMT, THICK, Styles, num_cell, set_widths,
                         table_sheet, text_cell, wl)

__all__ = ["write_hearing_sheets", "SHORTLIST_SHEET", "HEARING_SHEET"]

SHORTLIST_SHEET, HEARING_SHEET = wl("sheet.shortlist"), wl("sheet.hearing")
_DECISIONS = list(Decision)


def _when(at: str | None) -> str:
    """An edit's time (ISO, UTC) in the committee's time zone, to the minute."""
    if not at:
        return ""
    try:
        t = datetime.fromisoformat(at)
    except ValueError:
        return at
    return (t.astimezone(local_tz()) if t.tzinfo is not None else t).strftime("%Y-%m-%d %H:%M")


def write_hearing_sheets(sheet: Callable, styles: Styles, header: Callable, ranking, lang: str = "ja") -> None:
    """Add 「ヒアリング対象」 and 「ヒアリング審査」 for ``ranking`` (a HearingRanking): ``sheet(name)`` makes a sheet
    (the workbook's prefix and banner), ``header(ws, labels)`` writes the header row in the workbook's style."""
    _shortlist_sheet(sheet(SHORTLIST_SHEET), styles, header, ranking, lang)
    _hearing_sheet(sheet(HEARING_SHEET), styles, header, ranking, lang)


def _shortlist_sheet(ws, S: Styles, header, r, lang: str) -> None:
    cols = ["document_rank", "id", "title", "applicant", "document_total", "shortlist_status", "edit_reason",
            "edit_by", "edit_at"]
    set_widths(ws, [8, 10, 30, 18, 12, 20, 40, 12, 16])
    doc = r.document
    rows = [int(i) for i in doc.order.tolist() if doc.rank[i] > 0]
    table_sheet(ws, len(rows), len(cols), "C2")
    header(ws, [wl(f"col.{c}", lang) for c in cols])
    score = S.get(number_format=SCORE_FMT)
    wrap = S.get(alignment=Alignment(wrap_text=True, vertical="top"))
    short = S.get(fill=FILL_SELECTED)
    props = r.table.proposals
    for i in rows:
        edit = r.edits.get(i)
        if edit is not None:
            status = "added" if edit.action == "add" else "removed"
        else:
            status = "cut" if r.shortlisted[i] else "out"
        ws.append([
            num_cell(ws, int(doc.rank[i])),
            text_cell(ws, S, str(r.table.ids[i])),
            text_cell(ws, S, props[i].title, wrap),
            text_cell(ws, S, props[i].applicant.name, wrap),
            num_cell(ws, float(doc.total[i]), score),
            text_cell(ws, S, wl(f"shortlist.{status}", lang), short if r.shortlisted[i] else None),
            text_cell(ws, S, edit.reason if edit is not None else "", wrap),
            text_cell(ws, S, (edit.by or "") if edit is not None else ""),
            text_cell(ws, S, _when(edit.at) if edit is not None else ""),
        ])


def _hearing_sheet(ws, S: Styles, header, r, lang: str) -> None:
    cap = r.pack.is_capacity
    cols = ["final_rank", "id", "title", "applicant", "document_total", "base", "hearing_score", "final_score",
            "n_hearing_reviews", "decision", "waitlist", "funded_n" if cap else "funded",
            "cumulative_n" if cap else "cumulative", "budget_line", "reasons"]
    set_widths(ws, [7, 10, 30, 18, 12, 10, 12, 10, 9, 14, 7, 15, 15, 12, 46])
    rank = np.asarray(r.rank)
    shortlisted = np.nonzero(np.asarray(r.shortlisted))[0]
    ranked = sorted((int(i) for i in shortlisted if rank[i] > 0), key=lambda i: rank[i])
    rest = sorted((int(i) for i in shortlisted if rank[i] == 0), key=lambda i: str(r.table.ids[i]))
    rows = ranked + rest
    table_sheet(ws, len(rows), len(cols), "C2")
    header(ws, [wl(f"col.{c}", lang) for c in cols])
    line = r.funding_line
    line_row = int(r.order[line - 1]) if line else -1
    dec = np.asarray(r.decision)
    hb, nh = np.asarray(r.hearing_base), np.asarray(r.hearing_agg.n_reviews)
    props = r.table.proposals
    for i in rows:
        kw = {}
        if dec[i] == _DECISIONS.index(Decision.selected):
            kw["fill"] = FILL_SELECTED
        elif dec[i] == _DECISIONS.index(Decision.waitlisted):
            kw["fill"] = FILL_WAITLIST
        if i == line_row:
            kw["border"] = Border(bottom=THICK)
        plain = S.get(**kw) if kw else None
        score = S.get(number_format=SCORE_FMT, **kw)
        money = S.get(number_format=MONEY_FMT, **kw)
        wrap = S.get(alignment=Alignment(wrap_text=True, vertical="top"), **kw)
        ws.append([
            num_cell(ws, int(rank[i]) or None, plain),
            text_cell(ws, S, str(r.table.ids[i]), plain),
            text_cell(ws, S, props[i].title, wrap),
            text_cell(ws, S, props[i].applicant.name, wrap),
            num_cell(ws, float(r.document.total[i]), score),
            num_cell(ws, float(r.base[i]), score),
            num_cell(ws, float(hb[i]), score),
            num_cell(ws, float(r.total[i]), score),
            num_cell(ws, int(nh[i]), plain),
            text_cell(ws, S, label_of("decision", _DECISIONS[int(dec[i])], lang), plain),
            num_cell(ws, int(r.waitlist_position[i]) or None, plain),
            num_cell(ws, int(r.funded[i]), money),
            num_cell(ws, int(r.cumulative[i]) or None, money),
            text_cell(ws, S, wl("shortlist.line", lang) if i == line_row else "", plain),
            text_cell(ws, S, " / ".join(r.reasons(i, lang)), wrap),
        ])
