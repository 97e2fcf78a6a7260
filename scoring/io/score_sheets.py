"""Offline score sheets (評価シート): one reviewer's sheet out (:func:`score_sheet`), filled sheets back in
(:func:`read_score_sheets`), and the hidden fingerprint that proves a sheet is as issued — signed with HMAC-SHA256
when the committee's key ``SHINSA_SHEET_KEY`` is set. Layout and checks: ``docs/excel.md``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation

from ..aggregate import conflict_pairs
from ..errors import InputError, Problem
from ..models import Proposal, Reviewer, ReviewRow
from ..packs import pack_to_dict
from ..table import ProposalTable
from .safe import FORMULA_PREFIXES
from .xlsx_style import (FILL_BLOCK, FILL_HEADER, FILL_INPUT, THIN, XlsxSource, clean_text, open_workbook,
                         print_setup, set_widths, source_name, wl, workbook_bytes)

__all__ = ["score_sheet", "read_score_sheets", "pack_hash", "SCORE_SHEET", "FINGERPRINT_SHEET", "SHEET_FORMAT",
           "SHEET_KEY_ENV", "SIGNED", "UNSIGNED"]

SCORE_SHEET = "評価"
FINGERPRINT_SHEET = "_fingerprint"
SHEET_FORMAT = "shinsa-score-sheet/1"
_GRID_OFFSET = 10          # the expected-cell grid starts on row 11 of the fingerprint sheet
_HEADER_ROW = 7
_COLS = [wl(f"score_sheet.col.{k}") for k in ("id", "item", "criterion", "points", "value", "comment", "guide")]
_C_ID, _C_ITEM, _C_LABEL, _C_POINTS, _C_VALUE, _C_COMMENT, _C_GUIDE = range(1, 8)
_STATUS_ITEM = "status"
_STATUS_WORDS = {"提出": "submitted", "提出済み": "submitted", "submitted": "submitted", "submit": "submitted",
                 "下書き": "draft", "draft": "draft", "": "draft"}


SHEET_KEY_ENV = "SHINSA_SHEET_KEY"


def _sheet_key() -> bytes | None:
    """The committee's secret for signing score sheets (``SHINSA_SHEET_KEY``), or None: unsigned sheets."""
    key = os.environ.get(SHEET_KEY_ENV, "")
    return key.encode("utf-8") if key else None


def _digest(payload: list, key: bytes | None) -> str:
    """The fingerprint digest: HMAC-SHA256 with the committee's key when there is one (nobody without the key
    can make a sheet that imports — e.g. one altered to name another reviewer), else plain SHA-256 (detects
    accidental and casual edits only)."""
    blob = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    if key is not None:
        return hmac.new(key, blob, hashlib.sha256).hexdigest()
    return hashlib.sha256(blob).hexdigest()


def pack_hash(pack) -> str:
    """SHA-256 of the pack's canonical content: a sheet made for another content of the same id and version
    is refused."""
    blob = json.dumps(pack_to_dict(pack), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _canon(value: Any) -> str:
    """What a locked cell holds, as text, so that 20 and 20.0 compare equal."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(float(value))
    return str(value)


def _h(value: Any) -> str:
    return hashlib.sha256(_canon(value).encode("utf-8")).hexdigest()[:16]


def _conflicted_ids(proposals: Sequence[Proposal], reviewer: Reviewer) -> set[str]:
    table = ProposalTable.from_proposals(list(proposals))
    return {str(table.ids[p]) for _, p in conflict_pairs(table, [reviewer])}


@dataclass
class _Layout:
    """The cells of one score sheet: every locked value, and where the input cells are."""

    cells: dict[tuple[int, int], Any]
    inputs: dict[tuple[int, int], tuple[str, str, str]]  # (row, col) → (proposal id, item, kind)
    max_row: int


def _score_layout(pack, proposals: Sequence[Proposal], reviewer: Reviewer, lang: str = "ja",
                  stage: str = "document") -> _Layout:
    """The cells of a sheet; ``stage`` ``hearing``: the pack's hearing criteria (items ``hearing:<id>``), no bonus."""
    hearing = stage == "hearing"
    criteria = pack.hearing.criteria if hearing else pack.criteria
    cells: dict[tuple[int, int], Any] = {}
    inputs: dict[tuple[int, int], tuple[str, str, str]] = {}
    scale = " ／ ".join(f"{s.level}：{s.label.get(lang)}（配点×{s.ratio:.2f}）" for s in sorted(pack.scale, key=lambda s: -s.level))
    cells[(1, 1)] = "ヒアリング評価シート（オフライン記入用）" if hearing else "評価シート（オフライン記入用）"
    cells[(2, 1)], cells[(2, 2)], cells[(2, 3)] = "委員", reviewer.reviewer_id, reviewer.name or ""
    cells[(3, 1)], cells[(3, 2)], cells[(3, 3)] = "評価パック", f"{pack.id}（版 {pack.version}）", \
        f"{pack.programme.code} {pack.programme.name.get(lang)}"
    cells[(4, 1)], cells[(4, 3)] = "評価尺度", scale
    cells[(5, 1)], cells[(5, 3)] = "記入方法", (
        "黄色のセルだけ記入できます。「評価」は一覧から選び、「所見」は自由記述です。提案ごとの「状態」を"
        "「提出」にすると評価が確定し（全項目の記入が必要）、「下書き」は集計に含まれません。"
        "行・列の追加や削除、記入欄以外の変更をしたシートは取り込めません。")
    for k, name in enumerate(_COLS, 1):
        cells[(_HEADER_ROW, k)] = name
    row = _HEADER_ROW + 1
    for p in proposals:
        cells[(row, _C_ID)] = p.id
        cells[(row, _C_ITEM)] = _STATUS_ITEM
        cells[(row, _C_LABEL)] = f"提案名：{p.title}　／　申請者：{p.applicant.name}"
        cells[(row, _C_POINTS)] = "状態→"
        cells[(row, _C_GUIDE)] = "状態：「下書き」または「提出」"
        inputs[(row, _C_VALUE)] = (p.id, _STATUS_ITEM, "status")
        row += 1
        for c in criteria:
            item = f"hearing:{c.id}" if hearing else c.id
            cells[(row, _C_ID)] = p.id
            cells[(row, _C_ITEM)] = item
            cells[(row, _C_LABEL)] = c.label.get(lang)
            cells[(row, _C_POINTS)] = float(c.points)
            cells[(row, _C_GUIDE)] = "\n".join(f"{lv}：{c.guidance[lv].get(lang)}"
                                               for lv in sorted(c.guidance, reverse=True))
            inputs[(row, _C_VALUE)] = (p.id, item, "level")
            inputs[(row, _C_COMMENT)] = (p.id, item, "comment")
            row += 1
        for b in ([] if hearing else pack.judged_bonuses):
            item = f"bonus:{b.id}"
            cells[(row, _C_ID)] = p.id
            cells[(row, _C_ITEM)] = item
            cells[(row, _C_LABEL)] = f"加点：{b.label.get(lang)}"
            cells[(row, _C_POINTS)] = float(b.points)
            cells[(row, _C_GUIDE)] = "該当する＝1、該当しない＝0（過半数の委員が該当とした場合に加点）"
            inputs[(row, _C_VALUE)] = (p.id, item, "mark")
            inputs[(row, _C_COMMENT)] = (p.id, item, "comment")
            row += 1
    return _Layout(cells, inputs, row - 1)


def _fingerprint_rows(pack, reviewer_id: str, ids: Sequence[str], layout: _Layout,
                      key: bytes | None, stage: str = "document") -> tuple[list[list], str]:
    grid = []
    for r in range(1, layout.max_row + 1):
        line = []
        for c in range(1, len(_COLS) + 1):
            line.append("*" if (r, c) in layout.inputs else _h(layout.cells.get((r, c))))
        grid.append(line)
    head = [SHEET_FORMAT, pack.id, pack.version, pack_hash(pack), reviewer_id, ";".join(ids),
            str(layout.max_row)] + ([stage] if stage != "document" else [])
    return grid, _digest([head, grid], key)


# row 9 ("signature": hmac-sha256 / sha256) was added later; a sheet without it is an unsigned one. Row 10
# ("stage") is written on hearing sheets only (and then signed with the rest): a sheet without it is a document one
_FP_KEYS = ["format", "pack", "pack_version", "pack_hash", "reviewer_id", "proposal_ids", "max_row", "digest",
            "signature", "stage"]
STAGES = ("document", "hearing")
SIGNED, UNSIGNED = "hmac-sha256", "sha256"


def score_sheet(pack, proposals: Sequence[Proposal], reviewer: Reviewer, conflicts: Iterable[str] | None = None,
                *, assigned: Iterable[str] | None = None, lang: str = "ja", stage: str = "document") -> bytes:
    """One reviewer's offline score sheet (.xlsx bytes) for the proposals of ``pack``.

    Conflicted proposals — ``conflicts`` (ids), by default those the reviewer's declared conflicts hit (by
    proposal id or organisation name) — are never included. ``assigned`` restricts the sheet to those ids.
    ``stage`` ``hearing``: a hearing score sheet — the pack's hearing criteria (items ``hearing:<id>``), no bonus
    marks, the stage signed into the fingerprint (give the shortlist as ``assigned``).
    """
    if stage not in STAGES or (stage == "hearing" and pack.hearing is None):
        raise InputError([Problem("(arguments)", None, "--stage", f"pack {pack.id} has no hearing section"
                                  if stage == "hearing" else f"{str(stage)[:40]!r} is not one of {list(STAGES)}")])
    mine = [p for p in proposals if p.pack == pack.id]
    coi = set(conflicts) if conflicts is not None else _conflicted_ids(mine, reviewer)
    if assigned is not None:
        want = set(assigned)
        mine = [p for p in mine if p.id in want]
    mine = [p for p in mine if p.id not in coi]
    layout = _score_layout(pack, mine, reviewer, lang, stage)

    wb = Workbook()
    ws = wb.active
    ws.title = SCORE_SHEET
    wrap_top = Alignment(wrap_text=True, vertical="top")
    bold = Font(bold=True)
    inputs = layout.inputs
    for (r, c), v in layout.cells.items():
        cell = ws.cell(row=r, column=c)
        if isinstance(v, str):
            cell.value = clean_text(v)
            cell.data_type = "s"
            if v.startswith(FORMULA_PREFIXES):
                cell.quotePrefix = True
        else:
            cell.value = v
        cell.alignment = wrap_top
    for c in range(1, len(_COLS) + 1):
        h = ws.cell(row=_HEADER_ROW, column=c)
        h.font = bold
        h.fill = FILL_HEADER
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    for r in range(2, 6):
        ws.cell(row=r, column=1).font = bold
    ws.merge_cells(start_row=4, start_column=3, end_row=4, end_column=7)
    ws.merge_cells(start_row=5, start_column=3, end_row=5, end_column=7)
    ws.row_dimensions[5].height = 45
    levels = ",".join(str(s.level) for s in sorted(pack.scale, key=lambda s: -s.level))
    dv_level = DataValidation(type="list", formula1=f'"{levels}"', allow_blank=True, showErrorMessage=True,
                              errorTitle="評価", error=f"評価は {levels} から選んでください")
    dv_mark = DataValidation(type="list", formula1='"1,0"', allow_blank=True, showErrorMessage=True,
                             errorTitle="加点", error="1（該当）または 0（非該当）を選んでください")
    dv_status = DataValidation(type="list", formula1='"下書き,提出"', allow_blank=True, showErrorMessage=True,
                               errorTitle="状態", error="「下書き」または「提出」を選んでください")
    unlocked = Protection(locked=False)
    for (r, c), (_, _, kind) in inputs.items():
        cell = ws.cell(row=r, column=c)
        cell.protection = unlocked
        cell.fill = FILL_INPUT
        cell.border = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
        cell.alignment = wrap_top
        ref = cell.coordinate
        if kind == "level":
            dv_level.add(ref)
        elif kind == "mark":
            dv_mark.add(ref)
        elif kind == "status":
            dv_status.add(ref)
            cell.value = "下書き"
            cell.data_type = "s"
            for cc in range(1, len(_COLS) + 1):
                if (r, cc) not in inputs:
                    ws.cell(row=r, column=cc).fill = FILL_BLOCK
                    ws.cell(row=r, column=cc).font = bold
    for dv in (dv_level, dv_mark, dv_status):
        if dv.sqref:
            ws.add_data_validation(dv)
    set_widths(ws, [12, 22, 40, 7, 9, 50, 80])
    ws.freeze_panes = ws.cell(row=_HEADER_ROW + 1, column=1).coordinate
    print_setup(ws, f"{_HEADER_ROW}:{_HEADER_ROW}")
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.selectLockedCells = False
    ws.protection.selectUnlockedCells = False

    key = _sheet_key()
    grid, digest = _fingerprint_rows(pack, reviewer.reviewer_id, [p.id for p in mine], layout, key, stage)
    fp = wb.create_sheet(FINGERPRINT_SHEET)
    values = [SHEET_FORMAT, pack.id, pack.version, pack_hash(pack), reviewer.reviewer_id,
              ";".join(p.id for p in mine), str(layout.max_row), digest, SIGNED if key else UNSIGNED] \
        + ([stage] if stage != "document" else [])
    for k, (key, v) in enumerate(zip(_FP_KEYS, values), 1):
        fp.cell(row=k, column=1, value=key)
        c = fp.cell(row=k, column=2)
        c.value = clean_text(v)
        c.data_type = "s"
    for r, line in enumerate(grid, _GRID_OFFSET + 1):
        for c, v in enumerate(line, 1):
            fp.cell(row=r, column=c, value=v)
    fp.sheet_state = "veryHidden"
    fp.protection.sheet = True
    wb.security = WorkbookProtection(lockStructure=True)
    return workbook_bytes(wb)


def _addr(sheet: str, row: int, col: int) -> str:
    return f"{sheet}!{get_column_letter(col)}{row}"


def _level_of(value: Any) -> int | None:
    """A level as people leave it in a cell: 4, 4.0, "4", "４", "4 優れている"; None if unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        s = unicodedata.normalize("NFKC", value).strip()
        m = re.fullmatch(r"(-?\d+)(?:\.0+)?", s) or re.match(r"(\d+)[\s:：]", s)
        return int(m.group(1)) if m else None
    return None


def _show(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _canon(value)


def read_score_sheets(sources: Sequence[XlsxSource], pack, proposals: Sequence[Proposal],
                      reviewers: Sequence[Reviewer] | None = None, *, stage: str = "document",
                      shortlist: Iterable[str] | None = None) -> list[ReviewRow]:
    """Filled score sheets back into review rows; every problem of every file at once, with the cell address.

    Each of ``sources`` is a path, the file's bytes, a binary file object (an upload: its ``.name`` names it in
    messages) or a ``(name, bytes | file object)`` pair; problems name the path, the pair's or the object's
    name, or ``(upload)`` for bare bytes.

    Refused: a sheet whose locked cells, rows or hidden fingerprint were altered; a sheet made for another pack
    (id, version or content) or for a reviewer not in ``reviewers``; a level outside the scale; a proposal
    not in ``proposals`` or one the reviewer is conflicted on; a submitted review with a blank level; the same
    reviewer and proposal in two files. ``stage``: the sheets' stage — a sheet of the other stage is refused;
    ``hearing`` rows are items ``hearing:<id>``, and a filled review of a proposal not in ``shortlist`` is refused.
    """
    problems: list[Problem] = []
    out: list[ReviewRow] = []
    by_id = {p.id: p for p in proposals}
    known_reviewers = {r.reviewer_id: r for r in reviewers} if reviewers is not None else None
    seen: dict[tuple[str, str], str] = {}
    short = None if shortlist is None else set(shortlist)
    for source in sources:
        rows, probs = _read_one_sheet(source, pack, by_id, known_reviewers, seen, stage, short)
        problems.extend(probs)
        out.extend(rows)
    if problems:
        raise InputError(problems)
    return out


def _read_one_sheet(source: XlsxSource, pack, by_id: dict[str, Proposal], known_reviewers,
                    seen, stage: str = "document", shortlist: set[str] | None = None) -> tuple[list, list]:
    src = source_name(source)
    P: list[Problem] = []
    wb, opened, _ = open_workbook(source, src, data_only=False)
    if wb is None:
        return [], opened
    if SCORE_SHEET not in wb.sheetnames or FINGERPRINT_SHEET not in wb.sheetnames:
        missing = [s for s in (SCORE_SHEET, FINGERPRINT_SHEET) if s not in wb.sheetnames]
        return [], [Problem(src, None, "(sheet)", f"not a Shinsa score sheet: sheet(s) {missing} missing "
                                                  f"(sheets: {wb.sheetnames})")]
    fp, ws = wb[FINGERPRINT_SHEET], wb[SCORE_SHEET]
    head = {key: fp.cell(row=k, column=2).value for k, key in enumerate(_FP_KEYS, 1)}
    head = {k: "" if v is None else str(v) for k, v in head.items()}
    fa = lambda key: _addr(FINGERPRINT_SHEET, _FP_KEYS.index(key) + 1, 2)  # noqa: E731
    if head["format"] != SHEET_FORMAT:
        return [], [Problem(src, fa("format"), "format", f"unknown score-sheet format {head['format']!r}")]
    try:
        max_row = int(head["max_row"])
    except ValueError:
        max_row = -1
    if not 1 <= max_row <= max(ws.max_row, fp.max_row):  # the rows it names must be there to check
        return [], [Problem(src, fa("max_row"), "fingerprint", "the hidden fingerprint sheet was altered")]
    ncol = len(_COLS)
    grid = [[fp.cell(row=_GRID_OFFSET + r, column=c).value or "" for c in range(1, ncol + 1)]
            for r in range(1, max_row + 1)]
    ids = [x for x in head["proposal_ids"].split(";") if x]
    check = [head["format"], head["pack"], head["pack_version"], head["pack_hash"], head["reviewer_id"],
             head["proposal_ids"], head["max_row"]] + ([head["stage"]] if head["stage"] else [])
    key = _sheet_key()
    signed = head["signature"] == SIGNED
    if key is not None and not signed:
        return [], [Problem(src, fa("signature"), "fingerprint",
                            f"the sheet is not signed with the committee's key ({SHEET_KEY_ENV} is set); issue a "
                            "new sheet with `template`")]
    if key is None and signed:
        return [], [Problem(src, fa("signature"), "fingerprint",
                            f"the sheet is signed: set {SHEET_KEY_ENV} to the key it was issued with")]
    if not hmac.compare_digest(_digest([check, grid], key), head["digest"]):
        return [], [Problem(src, fa("digest"), "fingerprint",
                            "the hidden fingerprint sheet was altered; issue a new sheet with `template`"
                            + (" (or it was signed with another key)" if key is not None else ""))]
    sheet_stage = head["stage"] or "document"
    if sheet_stage != stage:
        return [], [Problem(src, fa("stage"), "stage", f"this is a {sheet_stage} score sheet, not a {stage} one: "
                                                       f"import it with --stage {sheet_stage}")]
    if head["pack"] != pack.id:
        P.append(Problem(src, fa("pack"), "pack", f"the sheet was made for pack {head['pack']!r}, not {pack.id!r}"))
    elif head["pack_version"] != pack.version:
        P.append(Problem(src, fa("pack_version"), "pack",
                         f"the sheet was made for version {head['pack_version']!r} of pack {pack.id}, not "
                         f"{pack.version!r}"))
    elif head["pack_hash"] != pack_hash(pack):
        P.append(Problem(src, fa("pack_hash"), "pack",
                         f"pack {pack.id} {pack.version} was changed since the sheet was issued "
                         "(criteria, scale or guidance differ); issue new sheets"))
    rid = head["reviewer_id"]
    reviewer = None
    if known_reviewers is not None:
        reviewer = known_reviewers.get(rid)
        if reviewer is None:
            P.append(Problem(src, _addr(SCORE_SHEET, 2, 2), "reviewer_id",
                             f"reviewer {rid!r} of this sheet is not in the reviewers file"))
    # every locked cell must be as issued
    altered = []
    for r in range(1, max_row + 1):
        for c in range(1, ncol + 1):
            exp = grid[r - 1][c - 1]
            if exp == "*":
                continue
            v = ws.cell(row=r, column=c).value
            if _h(v) != exp:
                altered.append((r, c, v))
    extra = []
    for row in ws.iter_rows(min_row=1, max_row=max(ws.max_row, max_row), max_col=max(ws.max_column, ncol)):
        for cell in row:
            if cell.value is None or cell.value == "":
                continue
            if cell.row > max_row or cell.column > ncol:
                extra.append(cell)
    for r, c, v in altered[:50]:
        P.append(Problem(src, _addr(SCORE_SHEET, r, c), "structure",
                         f"locked cell was altered (now {_canon(v)[:60]!r}); rows, columns and locked cells "
                         "must stay as issued"))
    if len(altered) > 50:
        P.append(Problem(src, None, "structure", f"… and {len(altered) - 50} more altered cells"))
    for cell in extra[:20]:
        P.append(Problem(src, f"{SCORE_SHEET}!{cell.coordinate}", "structure",
                         f"content outside the issued layout ({_canon(cell.value)[:60]!r}): rows or columns were "
                         "added or moved"))
    if P:
        return [], P  # a sheet that is not as issued is not read further

    levels = sorted(pack.levels)
    conflicted = _conflicted_ids([by_id[i] for i in ids if i in by_id], reviewer) if reviewer else set()
    per_prop: dict[str, dict] = {}
    # walk the issued rows (the layout is verified, so column B says what each row is)
    for r in range(_HEADER_ROW + 1, max_row + 1):
        pid = str(ws.cell(row=r, column=_C_ID).value)
        item = str(ws.cell(row=r, column=_C_ITEM).value)
        d = per_prop.setdefault(pid, {"status": None, "status_row": r, "items": []})
        if item == _STATUS_ITEM:
            d["status"] = ws.cell(row=r, column=_C_VALUE).value
            d["status_row"] = r
        else:
            d["items"].append((r, item, ws.cell(row=r, column=_C_VALUE).value,
                               ws.cell(row=r, column=_C_COMMENT).value))
    rows: list[ReviewRow] = []
    for pid, d in per_prop.items():
        srow = d["status_row"]
        raw_status = "" if d["status"] is None else unicodedata.normalize("NFKC", str(d["status"])).strip()
        status = _STATUS_WORDS.get(raw_status.lower(), _STATUS_WORDS.get(raw_status))
        if status is None:
            P.append(Problem(src, _addr(SCORE_SHEET, srow, _C_VALUE), "status",
                             f"{raw_status!r} is not 下書き (draft) or 提出 (submitted)"))
            continue
        filled = [(r, item, v, cm) for r, item, v, cm in d["items"]
                  if (v is not None and str(v).strip() != "") or (cm is not None and str(cm).strip() != "")]
        if not filled and status == "draft":
            continue
        p = by_id.get(pid)
        if p is None:
            P.append(Problem(src, _addr(SCORE_SHEET, srow, _C_ID), "proposal_id",
                             f"{pid!r} is not a proposal in the proposals file"))
            continue
        if p.pack != pack.id:
            P.append(Problem(src, _addr(SCORE_SHEET, srow, _C_ID), "proposal_id",
                             f"{pid!r} belongs to pack {p.pack!r}, not {pack.id!r}"))
            continue
        if pid in conflicted:
            first = filled[0][0] if filled else srow
            P.append(Problem(src, _addr(SCORE_SHEET, first, _C_VALUE), "proposal_id",
                             f"reviewer {rid!r} has a conflict of interest with {pid!r}; this review cannot be "
                             "imported"))
            continue
        if shortlist is not None and pid not in shortlist:
            P.append(Problem(src, _addr(SCORE_SHEET, srow, _C_ID), "proposal_id",
                             f"{pid!r} is not on the hearing shortlist: its hearing review cannot be imported"))
            continue
        key = (rid, pid)
        if key in seen:
            P.append(Problem(src, _addr(SCORE_SHEET, srow, _C_ID), "proposal_id",
                             f"review by {rid!r} of {pid!r} is also in {seen[key]}"))
            continue
        seen[key] = src
        for r, item, v, cm in d["items"]:
            is_bonus = item.startswith("bonus:")
            comment = "" if cm is None else str(cm)
            blank = v is None or str(v).strip() == ""
            if blank:
                if status == "submitted" and not is_bonus:
                    P.append(Problem(src, _addr(SCORE_SHEET, r, _C_VALUE), "value",
                                     f"submitted review of {pid!r} has no level for {item!r}"))
                elif comment.strip():
                    P.append(Problem(src, _addr(SCORE_SHEET, r, _C_VALUE), "value",
                                     f"a comment on {item!r} of {pid!r} needs a level (or mark) beside it"))
                continue
            level = _level_of(v)
            allowed = [0, 1] if is_bonus else levels
            if level is None or level not in allowed:
                what = "a bonus mark is 1 or 0" if is_bonus else f"is not a level of the scale {levels}"
                P.append(Problem(src, _addr(SCORE_SHEET, r, _C_VALUE), "value", f"{_show(v)!r}: {what}"
                                 if is_bonus else f"{_show(v)!r} {what}"))
                continue
            rows.append(ReviewRow(reviewer_id=rid, proposal_id=pid, item=item, value=level, status=status,
                                  comment=comment))
    return (rows if not P else []), P

