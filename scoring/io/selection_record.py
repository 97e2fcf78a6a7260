"""The selection record (選定結果・選定理由, decisions.md §4) as a printable Word document, and the publication
summary 採択一覧 (applicant, title, amount) as its own .xlsx or .csv — both from one
:class:`~scoring.decisions.Decisions` (the confirmed set: the store rebuilds it while the round is locked).

The document lists per proposal rank, scores, proposed and final decision, F and A, conditions, and then every
departure with its reason, who and when. Text is inserted as text (python-docx never interprets it); the .xlsx
cells are formula-safe (:func:`scoring.io.xlsx_style.text_cell`), the .csv too (:func:`scoring.io.safe.csv_bytes`).
"""

from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.shared import Mm, Pt
from openpyxl import Workbook
from openpyxl.styles import Font

from ..decisions import Decisions, outcome_label
from ..labels import label
from .decision_sheets import budget_text
from ..money import format_score, format_yen
from .safe import csv_bytes
from .xlsx_style import FILL_HEADER, MONEY_FMT, Styles, clean_text, num_cell, set_widths, text_cell, workbook_bytes

RECORD_COLUMNS = ["rank", "proposal_id", "title", "applicant", "base_score", "total_score", "proposed", "decision",
                  "funded", "awarded", "conditions"]
LIST_COLUMNS = ["proposal_id", "applicant", "title", "decision", "amount"]


def _score(x: float) -> str:
    return "—" if x != x else format_score(x)


def record_docx(d: Decisions, *, round_name: str, version: int | None = None, by: str | None = None,
                at: str | None = None, lang: str = "ja") -> bytes:
    """The selection record of ``d`` as .docx (A4 landscape): heading, round, programme, version (or 「案」),
    the budget line, one table row per proposal (final-rank order, then the others), the departures."""
    r = d.ranking
    doc = Document()
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.LANDSCAPE
    sec.page_width, sec.page_height = Mm(297), Mm(210)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(sec, side, Mm(15))
    doc.add_heading(label("decisions.title", lang), level=1)
    doc.add_paragraph(clean_text(label("record.round", lang, name=round_name)))
    doc.add_paragraph(clean_text(label("record.programme", lang,
                                       name=f"{r.pack.programme.code} {r.pack.programme.name.get(lang)}")))
    doc.add_paragraph(label("record.version", lang, version=version, by=by or "", at=at or "")
                      if version is not None else label("record.draft", lang))
    doc.add_paragraph(budget_text(d, lang))
    table = doc.add_table(rows=1, cols=len(RECORD_COLUMNS))
    table.style = "Table Grid"
    for cell, col in zip(table.rows[0].cells, RECORD_COLUMNS):
        cell.text = label(f"decisions.col.{col}", lang)
    money = (lambda x: f"{x:,}") if d.unit == "count" else (lambda x: f"{x:,}")
    for i in r.order.tolist():
        prop = r.table.proposals[i]
        values = [str(int(r.rank[i]) or "—"), prop.id, prop.title, prop.applicant.name, _score(float(r.base[i])),
                  _score(float(r.total[i])), outcome_label(int(d.proposed[i]), lang),
                  outcome_label(int(d.decision[i]), lang), money(int(d.funded[i])), money(int(d.awarded[i])),
                  d.conditions.get(i, "")]
        for cell, value in zip(table.add_row().cells, values):
            cell.text = clean_text(str(value))
    for row in table.rows:
        for cell in row.cells:
            for p in cell.paragraphs:
                for run in p.runs:
                    run.font.size = Pt(8)
    doc.add_heading(label("record.departures", lang), level=2)
    rows = [int(i) for i in r.order if d.departure[int(i)]]
    if not rows:
        doc.add_paragraph(label("record.no_departures", lang))
    for i in rows:
        prop = r.table.proposals[i]
        what = (f"{outcome_label(int(d.proposed[i]), lang)} → {outcome_label(int(d.decision[i]), lang)}"
                if d.decision[i] != d.proposed[i] else
                f"{label('outcome.reduced', lang)} {format_yen(int(d.funded[i]))} → {format_yen(int(d.awarded[i]))}")
        e = d.edits.get(i)
        doc.add_paragraph(clean_text(label("record.departure_line", lang, id=prop.id, title=prop.title, what=what,
                                           reason=d.reasons.get(i, ""), by=(e.by or "") if e else "",
                                           at=(e.at or "") if e else "")), style="List Bullet")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def adopted_rows(d: Decisions, lang: str = "ja") -> tuple[list[str], list[list]]:
    """採択一覧: the adopted and conditionally adopted proposals in final-rank order — proposal, applicant,
    title, decision, amount (yen; for a capacity pack the count 1)."""
    header = [label(f"record.list.{c}", lang) for c in LIST_COLUMNS]
    r = d.ranking
    adopted = d.adopted
    rows = [[r.table.proposals[i].id, r.table.proposals[i].applicant.name, r.table.proposals[i].title,
             outcome_label(int(d.decision[i]), lang), int(d.awarded[i])]
            for i in r.order.tolist() if adopted[i]]
    return header, rows


def adopted_list_csv(d: Decisions, lang: str = "ja") -> bytes:
    return csv_bytes(*adopted_rows(d, lang))


def adopted_list_xlsx(d: Decisions, lang: str = "ja") -> bytes:
    header, rows = adopted_rows(d, lang)
    wb = Workbook()
    ws = wb.active
    S = Styles(ws)
    ws.title = label("record.list_sheet", lang)
    set_widths(ws, [12, 28, 40, 14, 16])
    head = S.get(font=Font(bold=True), fill=FILL_HEADER)
    ws.append([text_cell(ws, S, h, head) for h in header])
    money_style = S.get(number_format=MONEY_FMT)
    for row in rows:
        ws.append([text_cell(ws, S, v) for v in row[:4]] + [num_cell(ws, row[4], money_style)])
    return workbook_bytes(wb)


__all__ = ["record_docx", "adopted_rows", "adopted_list_csv", "adopted_list_xlsx", "budget_text",
           "RECORD_COLUMNS", "LIST_COLUMNS"]
