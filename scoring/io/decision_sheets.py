"""The selection record (選定結果) as a workbook sheet: per proposal rank, scores, the computed, proposed and final
decision, F and A, reduction, reserve position, conditions, departure and reason (who and when where recorded)
— decisions.md §4. Every text cell is formula-safe (:func:`scoring.io.xlsx_style.text_cell`).

``decision_sheet`` adds the sheet to any workbook (the chair workbook may carry it); ``decisions_workbook`` is
the workbook of ``python -m scoring decide --format xlsx``.
"""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from ..decisions import Decisions, outcome_label
from ..labels import label
from ..models import DECISION_LABELS
from ..money import format_yen
from ..ranking import DECISION_CODES
from .xlsx_style import (FILL_HEADER, FILL_SELECTED, FILL_WAITLIST, MONEY_FMT, SCORE_FMT, Styles, num_cell,
                         set_widths, table_sheet, text_cell, workbook_bytes)

COLUMNS = ["rank", "proposal_id", "title", "applicant", "base_score", "total_score", "computed", "proposed",
           "decision", "funded", "awarded", "reduced", "reserve", "conditions", "departure", "reason", "by", "at"]
WIDTHS = [5, 10, 28, 18, 8, 8, 12, 12, 12, 14, 14, 6, 6, 24, 6, 30, 10, 16]


def budget_text(d: Decisions, lang: str = "ja") -> str:
    """The budget line of a decided set: total, awarded and remaining (yen, or a count)."""
    total = d.budget_total
    if total is None:
        return label("decisions.no_budget", lang)
    fmt = (lambda x: f"{x:,}") if d.unit == "count" else format_yen
    return label("decisions.budget", lang, total=fmt(int(total)), awarded=fmt(d.awarded_total),
                 remaining=fmt(int(d.remaining)))


def decision_sheet(ws, d: Decisions, lang: str = "ja") -> None:
    """Fill ``ws`` (an empty worksheet) with the selection record of ``d``: a header row, one row per proposal
    in final-rank order then the others, and the budget line under the table."""
    S = Styles(ws)
    r = d.ranking
    ws.title = label("decisions.sheet", lang)
    set_widths(ws, WIDTHS)
    n = r.table.n
    table_sheet(ws, n, len(COLUMNS), "C2")
    head = S.get(font=Font(bold=True), fill=FILL_HEADER, alignment=Alignment(wrap_text=True, vertical="top"))
    ws.append([text_cell(ws, S, label(f"decisions.col.{c}", lang), head) for c in COLUMNS])
    styles = {}
    for key, fill in (("plain", None), ("adopted", FILL_SELECTED), ("reserve", FILL_WAITLIST)):
        kw = {"fill": fill} if fill is not None else {}
        styles[key] = {"t": S.get(alignment=Alignment(wrap_text=True, vertical="top"), **kw),
                       "m": S.get(number_format=MONEY_FMT, **kw), "s": S.get(number_format=SCORE_FMT, **kw),
                       "n": S.get(**kw) if kw else None}
    yes = label("decisions.yes", lang)
    adopted, reduced, departure = d.adopted, d.reduced, d.departure
    for i in r.order.tolist():
        prop = r.table.proposals[i]
        kind = "adopted" if adopted[i] else "reserve" if d.position[i] else "plain"
        st = styles[kind]
        ja, en = DECISION_LABELS[DECISION_CODES[int(r.decision[i])]]
        edit = d.edits.get(i)
        ws.append([
            num_cell(ws, int(r.rank[i]) or None, st["n"]),
            text_cell(ws, S, prop.id, st["t"]),
            text_cell(ws, S, prop.title, st["t"]),
            text_cell(ws, S, prop.applicant.name, st["t"]),
            num_cell(ws, float(r.base[i]), st["s"]),
            num_cell(ws, float(r.total[i]), st["s"]),
            text_cell(ws, S, ja if lang == "ja" else en, st["t"]),
            text_cell(ws, S, outcome_label(int(d.proposed[i]), lang), st["t"]),
            text_cell(ws, S, outcome_label(int(d.decision[i]), lang), st["t"]),
            num_cell(ws, int(d.funded[i]), st["m"]),
            num_cell(ws, int(d.awarded[i]), st["m"]),
            text_cell(ws, S, yes if reduced[i] else "", st["t"]),
            num_cell(ws, int(d.position[i]) or None, st["n"]),
            text_cell(ws, S, d.conditions.get(i, ""), st["t"]),
            text_cell(ws, S, yes if departure[i] else "", st["t"]),
            text_cell(ws, S, d.reasons.get(i, ""), st["t"]),
            text_cell(ws, S, (edit.by or "") if edit else "", st["t"]),
            text_cell(ws, S, (edit.at or "") if edit else "", st["t"]),
        ])
    ws.append([])
    ws.append([text_cell(ws, S, budget_text(d, lang), S.get(font=Font(bold=True)))])


def decisions_workbook(d: Decisions, lang: str = "ja") -> bytes:
    """A workbook with the one sheet 「選定結果」."""
    wb = Workbook()
    decision_sheet(wb.active, d, lang)
    return workbook_bytes(wb)


__all__ = ["decision_sheet", "decisions_workbook", "COLUMNS"]
