"""The self-check form's mapping (応募前セルフチェック): widget state ⇄ core values, testable without AppTest.

The page ``app/pages/dry_run.py`` draws the widgets under the keys named here and nothing else; this module
turns what they hold into a canonical proposal and back:

- :func:`read_form` — the form's state (plus the cost table's rows) → the proposal as canonical data, and the
  problems found in what was typed, each naming its field or line;
- :func:`to_proposal` — that data validated into a :class:`~scoring.models.Proposal` (or the problems);
- :func:`proposal_to_state` — the inverse: an uploaded proposal written into the state to prefill the form;
- :func:`clear_form`, :func:`add_member`, :func:`remove_member` — the buttons' callbacks;
- :func:`read_upload` — an uploaded JSON or intake workbook, in memory;
- the choices' format functions (:func:`kind_label`, :func:`choice_label`, …).

``state`` is any mutable mapping: ``st.session_state`` in the app, a plain dict in the tests. Everything entered
lives there only (keys ``dr_*``): nothing is stored or logged.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

import pandas as pd
from pydantic import ValidationError

from scoring.errors import InputError, problems_from_validation
from scoring.io import parse_proposals
from scoring.io.bounded import JsonSyntaxError, load_json
from scoring.io.sources import read_text
from scoring.models import MemberKind, Proposal
from scoring.money import MoneyError, parse_yen
from scoring.io.intake import read_intake
from scoring.io.packs import load_pack
from scoring.packs import SHIPPED_PACKS, CriteriaPack
from scoring.selfcheck import FactField, fact_fields

from .i18n import t, t_or
from .ui import money

PREFIX = "dr_"
GEN = "dry_run_generation"   # bumps on clear so that the uploader and the cost editor start empty
DEFAULT_PACK = "autonomous_l4"
DEFAULT_ID = "DRAFT-001"
DEFAULT_KIND = MemberKind.company.value
NONE = "__none__"            # a yes/no or choice question not answered yet
COST_COLUMNS = ["item", "category", "amount", "unit_price", "useful_life_years", "years", "cannot_lease_reason"]
TEXT_KEYS = {"dr_id", "dr_title", "dr_summary", "dr_app_name", "dr_app_pref", "dr_app_muni", "dr_requested",
             "dr_eligible_cost"}
MEMBER_PARTS = ("name", "kind", "role")
DROP = object()              # state that clearing simply removes (see blank_value)
# what an upload leaves as it is: the uploader itself and the applicant's self-scoring (not in the file)
KEEP_ON_UPLOAD = ("dr_upload", "dr_level_", "dr_note_", "dr_judged_")


def member_key(part: str, i: int) -> str:
    """The widget key of consortium member ``i``'s ``part`` (``name``, ``kind`` or ``role``)."""
    return f"dr_m_{part}_{i}"


def fact_key(name: str) -> str:
    return f"dr_fact_{name}"


def generation(state: Mapping) -> int:
    """How many times the form was cleared: part of the uploader's and cost editor's keys, so they start empty."""
    return int(state.get(GEN, 0))


# --- clearing and prefilling -----------------------------------------------------------------------------------

def blank_value(key: str, current: Any = None) -> Any:
    """The empty value of form widget ``key`` (``current``: what it holds now), or :data:`DROP` for state that
    is simply removed.

    Widgets are reset by assigning their empty value: a deleted key would be restored from the value the
    browser still shows."""
    if key == "dr_pack":
        return DEFAULT_PACK
    if key == "dr_app_kind":
        return DEFAULT_KIND
    if key.startswith("dr_level_"):
        return None
    if key.startswith("dr_fact_"):
        return None if isinstance(current, (int, float)) and not isinstance(current, bool) else NONE
    if key == "dr_tech":
        return []
    if key.startswith("dr_judged_"):
        return False
    if key in TEXT_KEYS or key.startswith(("dr_note_", "dr_m_name_", "dr_m_role_")):
        return ""
    return DROP


def clear_form(state: MutableMapping) -> None:
    """Wipe everything the applicant entered (the 「クリア」 button)."""
    for key in [k for k in state.keys() if str(k).startswith(PREFIX)]:
        blank = blank_value(str(key), state.get(key))
        if blank is DROP:
            del state[key]
        else:
            state[key] = blank
    state["dr_id"] = DEFAULT_ID
    state[GEN] = generation(state) + 1


def _empty_costs() -> pd.DataFrame:
    return pd.DataFrame({
        "item": pd.Series(dtype="string"), "category": pd.Series(dtype="string"),
        "amount": pd.Series(dtype="string"), "unit_price": pd.Series(dtype="string"),
        "useful_life_years": pd.Series(dtype="float"), "years": pd.Series(dtype="float"),
        "cannot_lease_reason": pd.Series(dtype="string")})


_EMPTY_COSTS = _empty_costs()


def empty_costs() -> pd.DataFrame:
    """The cost table with no line (the editor's columns and their types): a copy of one table built once, not
    seven pandas Series built on every run of the self-check (issue 15)."""
    return _EMPTY_COSTS.copy()


def proposal_to_state(p: Proposal, state: MutableMapping) -> None:
    """Fill the form from a proposal (an upload), before the form's widgets are drawn in this run. Amounts are
    written as the applicant would type them (``148,000,000``); facts this pack's form does not ask for (e.g.
    course) are kept aside and travel on unchanged into the download. The self-scoring (levels, notes, judged
    bonuses) is not in the file and stays as entered (issue 14 §9: a re-upload lost it); empty cost cells stay
    empty (the table's own column types: no "None" shown)."""
    for key in [k for k in state.keys() if str(k).startswith(PREFIX) and not str(k).startswith(KEEP_ON_UPLOAD)]:
        if key != "dr_loaded_file":
            del state[key]
    if p.pack in SHIPPED_PACKS:
        state["dr_pack"] = p.pack
    state["dr_id"] = p.id
    state["dr_title"] = p.title
    state["dr_summary"] = p.summary
    state["dr_app_name"] = p.applicant.name
    state["dr_app_kind"] = p.applicant.kind.value
    state["dr_app_pref"] = p.applicant.prefecture or ""
    state["dr_app_muni"] = p.applicant.municipality or ""
    state["dr_n_members"] = len(p.consortium)
    for i, m in enumerate(p.consortium):
        state[member_key("name", i)] = m.name
        state[member_key("kind", i)] = m.kind.value
        state[member_key("role", i)] = m.role
    state["dr_requested"] = f"{p.requested_yen:,}" if p.requested_yen is not None else ""
    state["dr_eligible_cost"] = f"{p.eligible_cost_yen:,}" if p.eligible_cost_yen is not None else ""
    state["dr_tech"] = [x.value for x in p.technologies]
    asked = {f.name for f in fact_fields(load_pack(p.pack))} if p.pack in SHIPPED_PACKS else set()
    for name, value in p.facts.items():
        if name in asked:
            state[fact_key(name)] = value
    state["dr_extra_facts"] = {k: v for k, v in p.facts.items() if k not in asked}
    rows = [{"item": c.item, "category": c.category.value, "amount": f"{c.amount_yen:,}",
             "unit_price": f"{c.unit_price_yen:,}" if c.unit_price_yen is not None else None,
             "useful_life_years": c.useful_life_years, "years": c.years,
             "cannot_lease_reason": c.cannot_lease_reason} for c in p.cost_lines]
    empty = empty_costs()
    state["dr_cost_base"] = (pd.DataFrame(rows, columns=COST_COLUMNS).astype(empty.dtypes.to_dict())
                             if rows else empty)
    state["dr_cost_version"] = int(state.get("dr_cost_version", 0)) + 1


def add_member(state: MutableMapping) -> None:
    """One more (empty) consortium member."""
    n = int(state.get("dr_n_members", 0))
    state[member_key("name", n)] = ""
    state[member_key("kind", n)] = DEFAULT_KIND
    state[member_key("role", n)] = ""
    state["dr_n_members"] = n + 1


def remove_member(state: MutableMapping, i: int) -> None:
    """Remove consortium member ``i``; the ones after it move up."""
    n = int(state.get("dr_n_members", 0))
    for j in range(i, n - 1):
        for part in MEMBER_PARTS:
            state[member_key(part, j)] = state.get(member_key(part, j + 1), DEFAULT_KIND if part == "kind" else "")
    for part in MEMBER_PARTS:
        state.pop(member_key(part, n - 1), None)
    state["dr_n_members"] = max(n - 1, 0)


def prepare_fact_state(state: MutableMapping, fields: list[FactField]) -> None:
    """Before the fact questions are drawn: a yes/no or choice answer (from a file) that the question cannot
    show is asked again; a number question holds a number or nothing."""
    for f in fields:
        key = fact_key(f.name)
        if f.kind in ("bool", "choice"):
            allowed = [NONE, True, False] if f.kind == "bool" else [NONE, *f.choices]
            if state.get(key, NONE) not in allowed:
                state[key] = NONE
        elif key in state and state[key] == NONE:
            state[key] = None


# --- labels (format functions take the language: Streamlit may call them outside the script run) ----------------

def kind_label(kind: str, lang: str | None = None) -> str:
    return t(f"kind.{kind}", lang)


def tech_label(tech: str, lang: str | None = None) -> str:
    return t(f"tech.{tech}", lang)


def category_label(cat: str, lang: str | None = None) -> str:
    return t(f"cost.category.{cat}", lang) if cat else ""


def fact_label(name: str) -> str:
    return t_or(f"fact.{name}", name)


def choice_label(name: str, value: Any, lang: str | None = None) -> str:
    """An answer of fact question ``name``: unanswered, yes / no, or the choice's label."""
    if value in (None, NONE):
        return t("dry_run.fact.unanswered", lang)
    if isinstance(value, bool):
        return t("common.yes", lang) if value else t("common.no", lang)
    return t_or(f"fact.choice.{name}.{value}", str(value), lang)


# --- reading the form ------------------------------------------------------------------------------------------

def money_label(key: str) -> str:
    """The label of the amount field ``dr_requested`` or ``dr_eligible_cost`` (also named in its error)."""
    return t("dry_run.field.requested" if key == "dr_requested" else "dry_run.field.eligible_cost")


def parse_money(text: str | None, label: str) -> tuple[int | None, str | None]:
    """An amount as typed (``1億4,800万円``) → ``(yen, None)``; empty → ``(None, None)``; unreadable →
    ``(None, message naming the field and the text)``."""
    if not (text or "").strip():
        return None, None
    try:
        return parse_yen(text), None
    except MoneyError:
        return None, t("dry_run.error.money", field=label, value=text)


def _cell(value: Any) -> Any:
    """An editor cell, with every kind of empty (None, NaN, pd.NA, blank text) as None."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def cost_lines(rows: list[dict]) -> tuple[list[dict], list[str]]:
    """The cost table's rows (``COST_COLUMNS``) → canonical cost lines, and the problems, each naming its line
    (1-based, as the table shows it). Empty rows are skipped; a line with a problem is left out."""
    lines: list[dict] = []
    problems: list[str] = []
    for n, row in enumerate(rows, start=1):
        vals = {k: _cell(row.get(k)) for k in COST_COLUMNS}
        if all(v is None for v in vals.values()):
            continue
        if vals["category"] is None:
            problems.append(t("dry_run.error.cost_category", n=n))
            continue
        line: dict = {"item": str(vals["item"] or ""), "category": vals["category"]}
        ok = True
        for col, field in (("amount", "amount_yen"), ("unit_price", "unit_price_yen")):
            if vals[col] is None:
                if col == "amount":
                    problems.append(t("dry_run.error.cost_amount_missing", n=n))
                    ok = False
                continue
            try:
                line[field] = parse_yen(str(vals[col]))
            except MoneyError:
                problems.append(t("dry_run.error.cost_money", n=n, field=t(f"dry_run.cost.{col}"), value=vals[col]))
                ok = False
        for col in ("useful_life_years", "years"):
            if vals[col] is not None:
                line[col] = float(vals[col])
        if vals["cannot_lease_reason"] is not None:
            line["cannot_lease_reason"] = str(vals["cannot_lease_reason"])
        if ok:
            lines.append(line)
    return lines, problems


def cost_total_warning(data: dict, pack: CriteriaPack) -> str | None:
    """Cost lines that do not add up to the stated amount (the eligible cost of a subsidy pack, the requested
    amount otherwise): a warning naming both figures (万円/億円 in Japanese), or None when they agree or either
    is missing (issue 14 §9: 3億 stated against 2,750万 of lines passed unremarked)."""
    lines = data.get("cost_lines") or []
    key = "eligible_cost_yen" if pack.funding.mode == "subsidy" else "requested_yen"
    stated = data.get(key)
    if not lines or stated is None or pack.funding.mode == "capacity":
        return None
    total = sum(int(x.get("amount_yen") or 0) for x in lines)
    if total == int(stated):
        return None
    field = money_label("dr_eligible_cost" if key == "eligible_cost_yen" else "dr_requested")
    return t("dry_run.cost_total_mismatch", total=money(total), field=field, stated=money(int(stated)),
             diff=money(abs(total - int(stated))), n=len(lines))


def _text(state: Mapping, key: str) -> str:
    return (state.get(key) or "").strip()


def read_facts(state: Mapping, pack: CriteriaPack) -> dict:
    """The answered fact questions of ``pack`` (plus the facts kept aside from an upload)."""
    facts = dict(state.get("dr_extra_facts") or {})
    for f in fact_fields(pack):
        v = state.get(fact_key(f.name))
        if v is None or (isinstance(v, str) and v == NONE):
            continue
        if f.kind == "bool":
            facts[f.name] = bool(v)
        elif f.kind == "choice":
            facts[f.name] = v
        else:
            facts[f.name] = int(v) if f.kind == "integer" else float(v)
    return facts


def read_form(state: Mapping, pack: CriteriaPack, cost_rows: list[dict]) -> tuple[dict, list[str]]:
    """The proposal as canonical data from the form's ``state`` and the cost table's rows, and the problems
    found in what was typed (applicant, members, amount, cost lines — in the form's order)."""
    problems: list[str] = []
    app_name = _text(state, "dr_app_name")
    if not app_name:
        problems.append(t("dry_run.error.applicant_name"))
    members = []
    for i in range(int(state.get("dr_n_members", 0))):
        name = _text(state, member_key("name", i))
        if name:
            members.append({"name": name, "kind": state.get(member_key("kind", i)) or DEFAULT_KIND,
                            "role": _text(state, member_key("role", i))})
        else:
            problems.append(t("dry_run.error.member_name", n=i + 1))
    amounts: dict[str, int | None] = {"requested_yen": None, "eligible_cost_yen": None}
    money_key = {"requested": "dr_requested", "subsidy": "dr_eligible_cost"}.get(pack.funding.mode)
    if money_key is not None:
        amount, problem = parse_money(state.get(money_key), money_label(money_key))
        amounts["requested_yen" if money_key == "dr_requested" else "eligible_cost_yen"] = amount
        if problem:
            problems.append(problem)
    lines, cost_problems = cost_lines(cost_rows)
    problems += cost_problems
    data = {
        "id": _text(state, "dr_id") or DEFAULT_ID, "pack": pack.id, "title": _text(state, "dr_title"),
        "applicant": {"name": app_name, "kind": state.get("dr_app_kind") or DEFAULT_KIND,
                      "prefecture": _text(state, "dr_app_pref") or None,
                      "municipality": _text(state, "dr_app_muni") or None},
        "consortium": members, **amounts, "technologies": list(state.get("dr_tech") or []),
        "facts": read_facts(state, pack), "cost_lines": lines, "summary": _text(state, "dr_summary"),
    }
    return data, problems


def to_proposal(data: dict, problems: list[str]) -> tuple[Proposal | None, list[str]]:
    """The form's data as a :class:`Proposal` once nothing typed is wrong; else ``None`` and the problems (a
    rule of the model that the form cannot check itself is named by its field path)."""
    if problems:
        return None, problems
    try:
        return Proposal.model_validate(data), []
    except ValidationError as exc:
        return None, [f"{p.field}: {p.message}" for p in problems_from_validation(exc, "form")]


# --- uploads ---------------------------------------------------------------------------------------------------

class UploadError(ValueError):
    """An upload that is not a proposal file at all (the message says why, in the user's language)."""


def read_upload(name: str, data: bytes) -> list[Proposal]:
    """The proposals of an uploaded canonical JSON (one proposal or a list) or intake workbook (``.xlsx``), read
    in memory. Raises :class:`~scoring.errors.InputError` (problems naming the uploaded file, row and field)
    or :class:`UploadError`."""
    if name.lower().endswith(".xlsx"):
        return read_intake(data, source_name=name)   # in memory; problems name the uploaded file
    try:  # bounded (size, depth, numbers: scoring.io.bounded); beyond the limits an InputError names the upload
        payload = load_json(read_text(data, name), name)
    except JsonSyntaxError as exc:
        raise UploadError(t("dry_run.upload.bad_json", name=name, error=exc.problems[0].message)) from None
    if isinstance(payload, dict) and "proposals" not in payload:
        payload = [payload]
    return parse_proposals(payload, name)
