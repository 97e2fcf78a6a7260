"""The applicant's self-check as an Excel workbook (bytes), in the house style of the chair workbook
(:mod:`scoring.io.xlsx_style`: its header fill, border and number formats): bold header on the light-blue fill,
frozen header row with a filter, A4 landscape fitted to the page width, yen with thousands separators,
scores with 2 decimals, and every text a user wrote made formula-safe (:func:`scoring.io.safe_text`).
The workbook says on its first sheet that it is an estimate.
"""

from __future__ import annotations

from typing import Any, Iterable

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font
from openpyxl.utils import get_column_letter

from ..labels import label_of
from ..models import Proposal
from ..packs import CriteriaPack
from .safe import safe_text
from .xlsx_style import FILL_HEADER, MONEY_FMT, SCORE_FMT, THIN, print_setup, workbook_bytes, wl

HEADER_FILL = FILL_HEADER
HEADER_FONT = Font(bold=True)
TITLE_FONT = Font(bold=True, size=14)
WARN_FONT = Font(bold=True, color="C00000")
YEN_FORMAT = MONEY_FMT
SCORE_FORMAT = SCORE_FMT
WRAP = Alignment(wrap_text=True, vertical="top")


class _Labels:
    """``workbook.selfcheck.<key>`` in one language, as ``L["key"]``."""

    def __init__(self, lang: str):
        self.lang = lang

    def __getitem__(self, key: str) -> str:
        return wl(f"selfcheck.{key}", self.lang)


def _sheet(wb: Workbook, title: str, header: list[str], rows: Iterable[list[Any]], widths: list[int],
           formats: dict[int, str] | None = None, first: bool = False):
    ws = wb.active if first else wb.create_sheet()
    ws.title = title
    ws.append(header)
    for cell in ws[1]:
        cell.fill = HEADER_FILL
        cell.font = HEADER_FONT
        cell.border = Border(bottom=THIN)
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    for row in rows:
        ws.append([safe_text(v) if isinstance(v, str) else v for v in row])
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    for r in ws.iter_rows(min_row=2):
        for c in r:
            c.alignment = WRAP
            fmt = (formats or {}).get(c.column)
            if fmt and isinstance(c.value, (int, float)) and not isinstance(c.value, bool):
                c.number_format = fmt
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(ws.max_row, 2)}"
    print_setup(ws)
    return ws


def selfcheck_workbook(pack: CriteriaPack, proposal: Proposal, result: dict, notes: dict[str, str] | None = None,
                       lang: str = "ja") -> bytes:
    """The workbook of one self-check (the dict of :func:`scoring.selfcheck.self_check`)."""
    L = _Labels(lang)
    notes = notes or {}
    f, s = result["funding"], result["scoring"]
    wb = Workbook()

    members = "、".join(f"{m.name}（{label_of('kind', m.kind, lang)}）" for m in proposal.consortium) if proposal.consortium else "—"
    rows: list[list[Any]] = [
        [L["title"], ""],
        [L["notice"], ""],
        [L["programme"], f"{pack.programme.code} {pack.programme.name.get(lang)}"],
        [L["pack_version"], f"{pack.id} {pack.version}"],
        [L["proposal_id"], proposal.id],
        [L["proposal_title"], proposal.title],
        [L["applicant"], proposal.applicant.name],
        [L["applicant_kind"], label_of("kind", proposal.applicant.kind, lang)],
        [L["consortium"], members],
    ]
    if f["mode"] == "subsidy":
        rows += [[L["eligible_cost"], f["eligible_cost_yen"]], [L["grant"], f["grant_yen"]]]
        if f.get("local_share"):
            rows.append([L["local_share"], f["local_share"]["share_yen"]])
    elif f["mode"] == "requested":
        rows += [[L["requested"], f["requested_yen"]], [L["funded"], f["funded_yen"]]]
        if f["cap_yen"] is not None:
            rows.append([L["cap"], f["cap_yen"]])
        rows.append([L["capped"], L["yes"] if f["capped"] else L["no"]])
    rows += [
        [L["eligible"], L["ok"] if result["eligible"] else L["ng"]],
        [L["base"], s["base"]], [L["bonus_pts"], s["bonus"]], [L["total"], s["total"]],
        [L["pass_line"], s["pass_line"]], [L["floor"], s["criterion_floor"]],
        [L["standing"], L[f"standing.{s['standing']}"]],
    ]
    ws = _sheet(wb, L["summary"], [L["item"], L["value"]], rows, [28, 80], first=True)
    ws["A2"].font = TITLE_FONT
    ws["A3"].font = WARN_FONT
    money_labels = {L[k] for k in ("requested", "funded", "cap", "eligible_cost", "grant", "local_share")}
    score_labels = {L[k] for k in ("base", "bonus_pts", "total", "pass_line", "floor")}
    for r in ws.iter_rows(min_row=2):
        if r[0].value in money_labels and isinstance(r[1].value, int):
            r[1].number_format = YEN_FORMAT
        elif r[0].value in score_labels and isinstance(r[1].value, (int, float)):
            r[1].number_format = SCORE_FORMAT

    _sheet(wb, L["eligibility"], [L["rule"], L["status"], L["reason"], L["advice"], L["condition"]],
           ([e["label"], label_of("status", e["status"], lang), e["reason"], e["advice"], e["condition"]] for e in result["eligibility"]),
           [30, 12, 70, 60, 40])

    weakest = {w["id"]: w for w in result["weakest"]}
    _sheet(wb, L["criteria"], [L["criterion"], L["points"], L["level"], L["ratio"], L["score"], L["below_floor"],
                               L["guidance"], L["note"], L["next"]],
           ([c["label"], c["points"], f"{c['level']} {c['level_label']}" if c["level"] else "", c["ratio"], c["score"],
             L["yes"] if c["below_floor"] else "", c["guidance"], notes.get(c["id"], ""),
             weakest[c["id"]]["next_guidance"] if c["id"] in weakest else ""] for c in s["criteria"]),
           [36, 8, 16, 8, 8, 10, 50, 40, 50], {2: SCORE_FORMAT, 4: SCORE_FORMAT, 5: SCORE_FORMAT})

    if s["bonus_items"]:
        _sheet(wb, L["bonus"], [L["bonus_item"], L["bonus_max"], L["awarded"], L["reason"]],
               ([b["label"], b["points"], b["awarded_points"], b["reason"]] for b in s["bonus_items"]),
               [40, 8, 8, 80], {2: SCORE_FORMAT, 3: SCORE_FORMAT})

    flags: dict[int, list[str]] = {}
    for fl in result["expense_flags"]:
        flags.setdefault(fl["line"], []).append(f"{fl['label']}: {fl['message']}")
    _sheet(wb, L["costs"], [L["line"], L["item"], L["cat"], L["amount"], L["unit_price"], L["life"], L["years"],
                            L["reason_lease"], L["flags"]],
           ([n, c.item, c.category.value, c.amount_yen, c.unit_price_yen, c.useful_life_years, c.years,
             c.cannot_lease_reason or "", "\n".join(flags.get(n, []))]
            for n, c in enumerate(proposal.cost_lines, start=1)),
           [6, 36, 14, 16, 14, 12, 8, 30, 60], {4: YEN_FORMAT, 5: YEN_FORMAT})

    share = f.get("local_share")
    if share:
        ws = _sheet(wb, L["local"], [L["bond"], L["applies_to"], L["appropriation"], L["tax_rate"], L["bond_yen"],
                                     L["tax_yen"], L["net"]],
                    ([b["name"], b["applies_to"], b["appropriation_rate"], b["grant_tax_measure_rate"], b["bond_yen"],
                      b["tax_measure_yen"], b["net_burden_yen"]] for b in share["bonds"]),
                    [28, 44, 10, 12, 16, 16, 16], {3: "0%", 4: "0.0%", 5: YEN_FORMAT, 6: YEN_FORMAT, 7: YEN_FORMAT})
        ws.append([])
        ws.append([L["local_share"], "", "", "", share["share_yen"]])
        ws.cell(ws.max_row, 5).number_format = YEN_FORMAT
        ws.append([L["provisional"].format(label=share["label"])])
        ws.cell(ws.max_row, 1).font = WARN_FONT

    return workbook_bytes(wb)


__all__ = ["selfcheck_workbook"]
