"""The intake list (応募一覧.xlsx): the empty template with its 説明 sheet (:func:`intake_template`) and the
filled list back as validated proposals (:func:`read_intake`). Columns: ``docs/excel.md`` and ``formats.md``.

The column labels and the accepted spellings of kinds, technologies and cost categories below are the file
format (what people type into the list), not display labels: they stay here, beside the reader.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from pydantic import ValidationError

from ..errors import InputError, Problem, problems_from_validation
from ..models import CostCategory, MemberKind, Proposal, Technology
from ..money import MoneyError, parse_yen
from ..packs import SHIPPED_PACKS
from .packs import load_pack
from .xlsx_style import FILL_HEADER, XlsxSource, find_sheet, open_workbook, print_setup, workbook_bytes
from .xlsx_style import source_name as name_of_source  # read_intake's keyword is source_name

__all__ = ["read_intake", "intake_template", "IntakeColumn", "PROPOSAL_COLUMNS", "MEMBER_COLUMNS", "COST_COLUMNS",
           "INTAKE_SHEETS", "KIND_LABELS", "TECH_LABELS", "CATEGORY_LABELS"]


@dataclass(frozen=True)
class IntakeColumn:
    key: str
    label: str          # the Japanese header the template writes
    required: bool
    kind: str           # text | id | money | number | member_kind | technologies | category
    note: str = ""


PROPOSAL_COLUMNS = [
    IntakeColumn("id", "提案ID", True, "id", "一意の提案番号（例 L4-003）"),
    IntakeColumn("pack", "評価パック", True, "id", "評価パックID（例 autonomous_l4）"),
    IntakeColumn("title", "提案名", False, "text"),
    IntakeColumn("applicant_name", "申請者名", True, "text", "代表申請者（コンソーシアムの構成員として数えます）"),
    IntakeColumn("applicant_kind", "申請者種別", True, "member_kind"),
    IntakeColumn("prefecture", "都道府県", False, "text"),
    IntakeColumn("municipality", "市区町村", False, "text"),
    IntakeColumn("requested_yen", "申請額", False, "money", "円。1,500万円・1.5億円・全角数字も可"),
    IntakeColumn("eligible_cost_yen", "補助対象経費", False, "money", "円（補助事業のみ）"),
    IntakeColumn("technologies", "技術", False, "technologies", "複数は「;」「、」で区切る"),
    IntakeColumn("summary", "概要", False, "text"),
]
MEMBER_COLUMNS = [
    IntakeColumn("proposal_id", "提案ID", True, "id", "応募シートの提案ID"),
    IntakeColumn("name", "構成員名", True, "text"),
    IntakeColumn("kind", "種別", True, "member_kind"),
    IntakeColumn("role", "役割", False, "text"),
]
COST_COLUMNS = [
    IntakeColumn("proposal_id", "提案ID", True, "id", "応募シートの提案ID"),
    IntakeColumn("item", "費目", False, "text"),
    IntakeColumn("category", "区分", True, "category"),
    IntakeColumn("amount_yen", "金額", True, "money", "円"),
    IntakeColumn("unit_price_yen", "単価", False, "money", "円"),
    IntakeColumn("useful_life_years", "耐用年数", False, "number", "年"),
    IntakeColumn("years", "年数", False, "number", "リース・利用の年数"),
    IntakeColumn("cannot_lease_reason", "リースできない理由", False, "text"),
]
INTAKE_SHEETS = {  # canonical name → (aliases, columns)
    "応募": (("応募", "proposals"), PROPOSAL_COLUMNS),
    "構成員": (("構成員", "members", "consortium"), MEMBER_COLUMNS),
    "経費": (("経費", "cost_lines", "costs"), COST_COLUMNS),
}
IGNORED_HEADERS = ("備考", "memo", "note", "notes")
FACT_PREFIXES = ("fact:", "事実:")

KIND_LABELS = {
    MemberKind.local_government: ("地方公共団体", "市区町村", "市町村", "自治体"),
    MemberKind.prefecture: ("都道府県",),
    MemberKind.company: ("企業", "民間企業", "株式会社"),
    MemberKind.startup: ("スタートアップ",),
    MemberKind.local_ict_company: ("地域ICT企業", "地元ICT企業"),
    MemberKind.university: ("大学", "大学等"),
    MemberKind.financial_institution: ("金融機関",),
    MemberKind.npo: ("NPO", "NPO法人"),
    MemberKind.organization: ("団体", "法人・団体"),
    MemberKind.other: ("その他",),
}
TECH_LABELS = {
    Technology.local5g: ("ローカル5G",), Technology.wifi_halow: ("Wi-Fi HaLow", "HaLow"),
    Technology.wifi7: ("Wi-Fi 7",), Technology.wifi6e: ("Wi-Fi 6E",),
    Technology.satellite_direct: ("衛星ダイレクト通信", "衛星ダイレクト"), Technology.apn: ("APN",),
    Technology.haps: ("HAPS",), Technology.lpwa: ("LPWA",), Technology.wifi: ("Wi-Fi",), Technology.lte: ("LTE",),
    Technology.other: ("その他",),
}
CATEGORY_LABELS = {
    CostCategory.lease: ("リース",), CostCategory.purchase: ("購入", "買取"),
    CostCategory.service: ("役務費", "役務"), CostCategory.licence: ("ライセンス", "license"),
    CostCategory.travel: ("旅費",), CostCategory.utilities: ("光熱水費",),
    CostCategory.rental_cloud: ("レンタル・クラウド", "レンタル", "クラウド"), CostCategory.other: ("その他",),
}
_TRUE = {"true", "yes", "y", "はい", "有", "あり", "○", "〇", "該当", "1"}
_FALSE = {"false", "no", "n", "いいえ", "無", "なし", "×", "非該当", "0"}


def _q(value: Any, limit: int = 80) -> str:
    """A value quoted in a message: at most ``limit`` characters of it (a cell may hold 32,767)."""
    return repr(value if not isinstance(value, str) or len(value) <= limit else value[:limit] + "…")


def _key(text: Any) -> str:
    s = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return re.sub(r"[\s_\-・･]", "", s)


def _enum_lookup(labels: dict) -> dict[str, str]:
    out = {}
    for member, names in labels.items():
        out[_key(member.value)] = member.value
        for n in names:
            out[_key(n)] = member.value
    return out


_KIND_OF = _enum_lookup(KIND_LABELS)
_TECH_OF = _enum_lookup(TECH_LABELS)
_CAT_OF = _enum_lookup(CATEGORY_LABELS)


def _header_key(text: Any, columns: Sequence[IntakeColumn]) -> str | None:
    """The column a header names: its Japanese label, its key, or 'label (key)'; money units are ignored."""
    raw = unicodedata.normalize("NFKC", str(text)).strip()
    low = raw.lower().replace(" ", "")
    for pre in FACT_PREFIXES:
        if low.startswith(pre):
            name = raw.split(":", 1)[1].strip()
            return f"fact:{name}" if name else None
    k = _key(re.sub(r"[（(][^）)]*[）)]\s*$", "", raw) or raw)
    k2 = _key(raw)
    inner = re.search(r"[（(]([^）)]*)[）)]\s*$", raw)
    candidates = {k, k2} | ({_key(inner.group(1))} if inner else set())
    for col in columns:
        if candidates & {_key(col.key), _key(col.label)}:
            return col.key
    return None


def _text_value(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip().replace("\u3000", " ").strip()


def _id_value(v: Any) -> str:
    return unicodedata.normalize("NFKC", _text_value(v)).strip()


def _number_value(v: Any) -> float:
    if isinstance(v, bool):
        raise ValueError(f"not a number: {_q(v)}")
    if isinstance(v, (int, float)):
        return float(v)
    s = unicodedata.normalize("NFKC", str(v)).strip().replace(",", "").replace(" ", "")
    s = re.sub(r"(年|ヶ月)$", "", s)
    return float(s)


def _fact_value(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return int(v) if float(v).is_integer() else float(v)
    s = unicodedata.normalize("NFKC", str(v)).strip()
    low = s.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    num = s.replace(",", "")
    if re.fullmatch(r"-?\d+", num):
        return int(num)
    if re.fullmatch(r"-?\d*\.\d+", num):
        return float(num)
    return _text_value(v)


def _closed_value(v: Any, lookup: dict[str, str], labels: dict, what: str) -> str:
    """A closed-set value written by its label or code; refused naming the labels to use."""
    k = lookup.get(_key(v))
    if k is None:
        raise ValueError(f"{_q(_text_value(v))} is not a {what} (use one of: "
                         + "、".join(names[0] for names in labels.values()) + ")")
    return k


def _convert(col_key: str, kind: str, v: Any) -> Any:
    """One cell to the canonical value; ValueError with a message on what cannot be read."""
    if kind == "text":
        return _text_value(v)
    if kind == "id":
        return _id_value(v)
    if kind == "money":
        try:
            return parse_yen(v if not isinstance(v, str) else v.strip())
        except MoneyError as exc:
            raise ValueError(str(exc)) from None
    if kind == "number":
        try:
            x = _number_value(v)
        except ValueError:
            raise ValueError(f"not a number: {_q(v)}") from None
        if x < 0:
            raise ValueError(f"must not be negative: {_q(v)}")
        return x
    if kind == "member_kind":
        return _closed_value(v, _KIND_OF, KIND_LABELS, "member kind")
    if kind == "category":
        return _closed_value(v, _CAT_OF, CATEGORY_LABELS, "cost category")
    if kind == "technologies":
        out = []
        for part in re.split(r"[;；,，、/／\n]+", unicodedata.normalize("NFKC", str(v))):
            if not part.strip():
                continue
            t = _TECH_OF.get(_key(part))
            if t is None:
                raise ValueError(f"{_q(part.strip())} is not a technology (use: "
                                 + "、".join(names[0] for names in TECH_LABELS.values()) + ")")
            if t not in out:
                out.append(t)
        return out
    if kind == "fact":
        return _fact_value(v)
    raise AssertionError(kind)  # pragma: no cover


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.replace("\u3000", " ").strip())


def _read_sheet(ws, sheet: str, columns: Sequence[IntakeColumn], src: str, P: list[Problem],
                allow_facts: bool, uncached: dict[tuple[int, int], str]) -> list[tuple[int, dict, dict]]:
    """(row number, values by key, cell address by key) for every non-blank row.

    Every row the sheet holds is read: its declared ``<dimension>`` is ignored (a row below it would be lost).
    ``uncached`` are the formula cells without a saved value ((row, column) → formula), refused by name: read
    with ``data_only=True`` they would look blank.
    """
    ws.reset_dimensions()
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        P.append(Problem(src, f"{sheet}!A1", "(header)", "the sheet is empty: the first row must be the header"))
        return []
    col_of: dict[int, str] = {}
    for j, h in enumerate(header):
        if (1, j + 1) in uncached:
            P.append(Problem(src, f"{sheet}!{get_column_letter(j + 1)}1", "(header)", _no_value(uncached[1, j + 1])))
            continue
        if _blank(h):
            continue
        key = _header_key(h, columns)
        if key is None and _key(h) in {_key(x) for x in IGNORED_HEADERS}:
            continue
        addr = f"{sheet}!{get_column_letter(j + 1)}1"
        if key is None or (key.startswith("fact:") and not allow_facts):
            P.append(Problem(src, addr, "(header)", f"unknown column {_q(str(h).strip())} (columns: "
                             + "、".join(c.label for c in columns) + ("、fact:<名前>" if allow_facts else "")
                             + "、備考)"))
            continue
        if key in col_of.values():
            P.append(Problem(src, addr, key, f"column {_q(str(h).strip())} appears twice"))
            continue
        col_of[j] = key
    for c in columns:
        if c.required and c.key not in col_of.values():
            P.append(Problem(src, f"{sheet}!1", c.key, f"required column {c.label} ({c.key}) is missing"))
    kinds = {c.key: c for c in columns}
    out = []
    formula_rows = {r for r, c in uncached if c - 1 in col_of}
    for r, values in enumerate(rows, 2):
        if all(_blank(v) for v in values) and r not in formula_rows:
            continue
        vals, addrs = {}, {}
        for j, key in col_of.items():
            v = values[j] if j < len(values) else None
            addr = f"{sheet}!{get_column_letter(j + 1)}{r}"
            addrs[key] = addr
            col = kinds.get(key)
            if (r, j + 1) in uncached:
                P.append(Problem(src, addr, key, _no_value(uncached[r, j + 1])))
                continue
            if _blank(v):
                if col is not None and col.required:
                    P.append(Problem(src, addr, key, f"{col.label} is required"))
                continue
            try:
                vals[key] = _convert(key, col.kind if col else "fact", v)
            except ValueError as exc:
                P.append(Problem(src, addr, key, str(exc)))
        out.append((r, vals, addrs))
    return out


def _no_value(formula: str) -> str:
    shown = ("=" + formula[:60]) if formula else "(a shared formula)"
    return (f"the formula {shown!r} has no saved value (the file was written by a program that does not "
            "calculate): open it in Excel and save it, or type the value")


def read_intake(source: XlsxSource, *, source_name: str | None = None) -> list[Proposal]:
    """The intake list (応募一覧.xlsx) as validated proposals; every unreadable cell listed at once.

    ``source`` is a path, the file's bytes, a binary file object (an upload) or a ``(name, bytes)`` pair.
    Problems name ``source_name`` when given, else the path, the pair's or the file object's name, else
    ``(upload)``.
    """
    src = source_name or name_of_source(source)
    wb, opened, scan = open_workbook(source, src, read_only=True, data_only=True)
    if wb is None:
        raise InputError(opened)
    uncached = scan.uncached if scan is not None else {}
    P: list[Problem] = []
    try:
        found = {name: find_sheet(wb, aliases, _key) for name, (aliases, _) in INTAKE_SHEETS.items()}
        if found["応募"] is None:
            raise InputError([Problem(src, None, "応募", f"sheet 応募 (proposals) is missing (sheets: {wb.sheetnames})")])
        sheets = {name: (wb[title], title, uncached.get(title, {})) for name, title in found.items() if title}
        prow = _read_sheet(*sheets["応募"][:2], PROPOSAL_COLUMNS, src, P, True, sheets["応募"][2])
        mrow = _read_sheet(*sheets["構成員"][:2], MEMBER_COLUMNS, src, P, False, sheets["構成員"][2]) \
            if "構成員" in sheets else []
        crow = _read_sheet(*sheets["経費"][:2], COST_COLUMNS, src, P, False, sheets["経費"][2]) \
            if "経費" in sheets else []
    finally:
        wb.close()
    objs: dict[str, dict] = {}
    origin: dict[str, dict] = {}
    for r, v, a in prow:
        pid = v.get("id")
        if pid is None:
            continue
        if pid in objs:
            P.append(Problem(src, a["id"], "id",
                             f"duplicate proposal id {_q(pid)} (first on row {origin[pid]['row']})"))
            continue
        facts = {k[5:]: x for k, x in v.items() if k.startswith("fact:")}
        applicant = {"name": v.get("applicant_name", ""), "kind": v.get("applicant_kind", "other")}
        for k in ("prefecture", "municipality"):
            if v.get(k):
                applicant[k] = v[k]
        objs[pid] = {"id": pid, "pack": v.get("pack", ""), "title": v.get("title", ""), "applicant": applicant,
                     "consortium": [], "requested_yen": v.get("requested_yen"),
                     "eligible_cost_yen": v.get("eligible_cost_yen"), "technologies": v.get("technologies", []),
                     "facts": facts, "cost_lines": [], "summary": v.get("summary", "")}
        origin[pid] = {"row": r, "addr": a, "members": [], "costs": []}
    for rows, field, make in ((mrow, "consortium", lambda v: {k: v[k] for k in ("name", "kind", "role") if k in v}),
                              (crow, "cost_lines", lambda v: {k: x for k, x in v.items() if k != "proposal_id"})):
        for r, v, a in rows:
            pid = v.get("proposal_id")
            if pid is None:
                continue
            if pid not in objs:
                if pid not in origin:  # not a proposal at all (a duplicate row was already reported)
                    P.append(Problem(src, a["proposal_id"], "proposal_id",
                                     f"{_q(pid)} is not a proposal id on the 応募 sheet"))
                continue
            if field == "consortium" and v.get("name") == objs[pid]["applicant"]["name"]:
                continue  # the applicant is a member already (formats.md)
            objs[pid][field].append(make(v))
            origin[pid]["members" if field == "consortium" else "costs"].append(a)
    out = []
    for pid, obj in objs.items():
        o = origin[pid]
        try:
            out.append(Proposal.model_validate(obj))
        except ValidationError as exc:
            for prob in problems_from_validation(exc, src):
                P.append(_locate(prob, o))
    if P:
        raise InputError(P)
    return out


def _locate(prob: Problem, origin: dict) -> Problem:
    """A model error on an assembled proposal, placed back on the cell it came from."""
    f = prob.field
    m = re.match(r"(consortium|cost_lines)\[(\d+)\]\.?(\w*)", f)
    if m:
        rows = origin["members" if m.group(1) == "consortium" else "costs"]
        addrs = rows[int(m.group(2))] if int(m.group(2)) < len(rows) else {}
        key = m.group(3)
        addr = addrs.get(key) or next(iter(addrs.values()), None)
        return Problem(prob.file, addr, key or m.group(1), prob.message)
    key = {"applicant.name": "applicant_name", "applicant.kind": "applicant_kind"}.get(f, f.split(".")[0])
    if f.startswith("facts."):
        key = "fact:" + f.split(".", 1)[1]
    addr = origin["addr"].get(key) or next(iter(origin["addr"].values()), None)
    return Problem(prob.file, addr, key, prob.message)


def _template_facts(pack) -> list[str]:
    if pack is not None:
        return sorted(pack.facts_read())
    names: set[str] = set()
    for pid in SHIPPED_PACKS:
        try:
            names |= load_pack(pid).facts_read()
        except Exception:  # a pack being edited must not break the template
            continue
    return sorted(names)


def intake_template(pack=None) -> bytes:
    """The empty intake list (応募一覧.xlsx) with a 説明 sheet; fact columns for ``pack`` (or every shipped pack)."""
    wb = Workbook()
    facts = _template_facts(pack)
    bold = Font(bold=True)
    dv_specs = {"member_kind": [n[0] for n in KIND_LABELS.values()],
                "category": [n[0] for n in CATEGORY_LABELS.values()]}
    first = True
    for name, (aliases, columns) in INTAKE_SHEETS.items():
        ws = wb.active if first else wb.create_sheet()
        first = False
        ws.title = name
        headers = [c.label for c in columns] + ([f"fact:{f}" for f in facts] if name == "応募" else []) + ["備考"]
        for j, h in enumerate(headers, 1):
            c = ws.cell(row=1, column=j, value=h)
            c.font = bold
            c.fill = FILL_HEADER
            c.data_type = "s"
        for j, col in enumerate(columns, 1):
            letter = get_column_letter(j)
            ws.column_dimensions[letter].width = 40 if col.key in ("title", "summary", "cannot_lease_reason") else 18
            if col.kind in dv_specs:
                dv = DataValidation(type="list", formula1='"' + ",".join(dv_specs[col.kind]) + '"', allow_blank=True,
                                    showErrorMessage=False)
                dv.add(f"{letter}2:{letter}2000")
                ws.add_data_validation(dv)
            if col.kind in ("id", "text", "technologies"):
                for r in range(2, 202):
                    ws.cell(row=r, column=j).number_format = "@"
        ws.freeze_panes = "A2"
        print_setup(ws)
    doc = wb.create_sheet("説明")
    doc.append(["シート", "列見出し", "キー", "必須", "内容"])
    for c in doc[1]:
        c.font = bold
        c.fill = FILL_HEADER
    for name, (aliases, columns) in INTAKE_SHEETS.items():
        for col in columns:
            note = col.note
            if col.kind == "member_kind":
                note = "、".join(n[0] for n in KIND_LABELS.values())
            elif col.kind == "category":
                note = "、".join(n[0] for n in CATEGORY_LABELS.values())
            elif col.kind == "technologies":
                note = col.note + "：" + "、".join(n[0] for n in TECH_LABELS.values())
            doc.append([f"{name}（{aliases[1]}）", col.label, col.key, "○" if col.required else "", note])
    doc.append(["応募（proposals）", "fact:<名前>", "facts.<名前>", "",
                "パックが参照する事実。はい/いいえ・TRUE/FALSE・○/×、数値、文字（例 plan_kind, course）。空欄は「要確認」"])
    doc.append(["（全シート）", "備考", "", "", "読み込みません。金額は円で、1,500万円・1.5億円・全角数字・桁区切りも可"])
    for letter, w in zip("ABCDE", (22, 20, 24, 6, 90)):
        doc.column_dimensions[letter].width = w
    return workbook_bytes(wb)
