"""応募前セルフチェック — the applicant's dry run (issue 7). Reachable without login.

Reads like the page: choose the programme type, enter (or upload) the proposal, read the eligibility result,
the expense flags and the funded amount, score yourself, see the estimate, download it. Every figure comes
from :func:`scoring.selfcheck.self_check`. Nothing entered here is stored or logged on the server: it lives
in this browser session's state only (keys ``dr_*``), and 「クリア」 wipes it. No database is touched.
"""

from __future__ import annotations

import json
from functools import partial

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from app.i18n import current_lang, t, t_or
from app.ui import STATUS_ICONS, error_boundary, man_oku, score, yen, yen_both
from scoring.errors import InputError, problems_from_validation
from scoring.io import parse_proposals
from scoring.io.packs import load_pack
from scoring.io.intake import read_intake
from scoring.io.selfcheck_sheet import selfcheck_workbook
from scoring.models import CostCategory, MemberKind, Proposal, Technology
from scoring.money import MoneyError, parse_yen
from scoring.packs import SHIPPED_PACKS
from scoring.selfcheck import fact_fields, pack_summary, self_check

PREFIX = "dr_"
GEN = "dry_run_generation"   # bumps on clear so that the uploader and the cost editor start empty
COST_COLUMNS = ["item", "category", "amount", "unit_price", "useful_life_years", "years", "cannot_lease_reason"]
NONE = "__none__"


# --- state ---------------------------------------------------------------------------------------------------

def _gen() -> int:
    return int(st.session_state.get(GEN, 0))


def _blank(key: str):
    """The empty value of a form widget, or ``...`` for state that is simply dropped.

    Widgets are reset by assigning their empty value: a deleted key would be restored from the value the
    browser still shows."""
    if key == "dr_pack":
        return DEFAULT_PACK
    if key == "dr_app_kind":
        return MemberKind.company.value
    if key.startswith("dr_level_"):
        return None
    if key.startswith("dr_fact_"):
        return None if isinstance(st.session_state.get(key), (int, float)) and \
            not isinstance(st.session_state.get(key), bool) else NONE
    if key == "dr_tech":
        return []
    if key.startswith("dr_judged_"):
        return False
    if key in TEXT_KEYS or key.startswith(("dr_note_", "dr_m_name_", "dr_m_role_")):
        return ""
    return ...


TEXT_KEYS = {"dr_id", "dr_title", "dr_summary", "dr_app_name", "dr_app_pref", "dr_app_muni", "dr_requested",
             "dr_eligible_cost"}
DEFAULT_PACK = "autonomous_l4"


def clear_all() -> None:
    """Wipe everything the applicant entered (callback of the 「クリア」 button)."""
    ss = st.session_state
    for key in [k for k in ss.keys() if str(k).startswith(PREFIX)]:
        blank = _blank(str(key))
        if blank is ...:
            del ss[key]
        else:
            ss[key] = blank
    ss["dr_id"] = "DRAFT-001"
    ss[GEN] = _gen() + 1


def _empty_costs() -> pd.DataFrame:
    return pd.DataFrame({
        "item": pd.Series(dtype="string"), "category": pd.Series(dtype="string"),
        "amount": pd.Series(dtype="string"), "unit_price": pd.Series(dtype="string"),
        "useful_life_years": pd.Series(dtype="float"), "years": pd.Series(dtype="float"),
        "cannot_lease_reason": pd.Series(dtype="string")})


def load_proposal_into_state(p: Proposal) -> None:
    """Fill the form from an uploaded proposal (before the form's widgets are drawn in this run)."""
    ss = st.session_state
    for key in [k for k in ss.keys() if str(k).startswith(PREFIX) and not str(k).startswith(PREFIX + "upload")]:
        if key not in ("dr_loaded_file",):
            del ss[key]
    if p.pack in SHIPPED_PACKS:
        ss["dr_pack"] = p.pack
    ss["dr_id"] = p.id
    ss["dr_title"] = p.title
    ss["dr_summary"] = p.summary
    ss["dr_app_name"] = p.applicant.name
    ss["dr_app_kind"] = p.applicant.kind.value
    ss["dr_app_pref"] = p.applicant.prefecture or ""
    ss["dr_app_muni"] = p.applicant.municipality or ""
    ss["dr_n_members"] = len(p.consortium)
    for i, m in enumerate(p.consortium):
        ss[f"dr_m_name_{i}"] = m.name
        ss[f"dr_m_kind_{i}"] = m.kind.value
        ss[f"dr_m_role_{i}"] = m.role
    ss["dr_requested"] = f"{p.requested_yen:,}" if p.requested_yen is not None else ""
    ss["dr_eligible_cost"] = f"{p.eligible_cost_yen:,}" if p.eligible_cost_yen is not None else ""
    ss["dr_tech"] = [x.value for x in p.technologies]
    read = {f.name for f in fact_fields(load_pack(p.pack))} if p.pack in SHIPPED_PACKS else set()
    for name, value in p.facts.items():
        if name in read:
            ss[f"dr_fact_{name}"] = value
    # facts this pack's form does not ask for (e.g. course) travel on unchanged into the download
    ss["dr_extra_facts"] = {k: v for k, v in p.facts.items() if k not in read}
    rows = [{"item": c.item, "category": c.category.value, "amount": f"{c.amount_yen:,}",
             "unit_price": f"{c.unit_price_yen:,}" if c.unit_price_yen is not None else None,
             "useful_life_years": c.useful_life_years, "years": c.years,
             "cannot_lease_reason": c.cannot_lease_reason} for c in p.cost_lines]
    ss["dr_cost_base"] = pd.concat([_empty_costs(), pd.DataFrame(rows, columns=COST_COLUMNS)],
                                   ignore_index=True) if rows else _empty_costs()
    ss["dr_cost_version"] = int(ss.get("dr_cost_version", 0)) + 1


def _add_member() -> None:
    n = int(st.session_state.get("dr_n_members", 0))
    st.session_state[f"dr_m_name_{n}"] = ""
    st.session_state[f"dr_m_kind_{n}"] = MemberKind.company.value
    st.session_state[f"dr_m_role_{n}"] = ""
    st.session_state["dr_n_members"] = n + 1


def _remove_member(i: int) -> None:
    ss = st.session_state
    n = int(ss.get("dr_n_members", 0))
    for j in range(i, n - 1):
        for part in ("name", "kind", "role"):
            ss[f"dr_m_{part}_{j}"] = ss.get(f"dr_m_{part}_{j + 1}", "" if part != "kind" else MemberKind.company.value)
    for part in ("name", "kind", "role"):
        ss.pop(f"dr_m_{part}_{n - 1}", None)
    ss["dr_n_members"] = max(n - 1, 0)


# --- labels ----------------------------------------------------------------------------------------------------

# Format functions take the language explicitly: Streamlit may call them outside the script run.

def kind_label(kind: str, lang: str | None = None) -> str:
    return t(f"kind.{kind}", lang)


def tech_label(tech: str, lang: str | None = None) -> str:
    return t(f"tech.{tech}", lang)


def category_label(cat: str, lang: str | None = None) -> str:
    return t(f"cost.category.{cat}", lang) if cat else ""


def fact_label(name: str) -> str:
    return t_or(f"fact.{name}", name)


def choice_label(name: str, value, lang: str | None = None) -> str:
    if value in (None, NONE):
        return t("dry_run.fact.unanswered", lang)
    if isinstance(value, bool):
        return t("common.yes", lang) if value else t("common.no", lang)
    return t_or(f"fact.choice.{name}.{value}", str(value), lang)


# --- sections --------------------------------------------------------------------------------------------------

def header() -> None:
    st.title(t("dry_run.title"))
    st.warning(t("dry_run.estimate_notice"), icon=":material/info:")
    c1, c2 = st.columns([4, 1])
    c1.caption(t("dry_run.privacy_notice"))
    c2.button(t("dry_run.clear"), key="dry_run_clear", on_click=clear_all, type="secondary",
              help=t("dry_run.clear_help"), width="stretch")


def choose_pack():
    lang = current_lang()
    packs = {pid: load_pack(pid) for pid in SHIPPED_PACKS}
    if st.session_state.get("dr_pack") not in packs:
        st.session_state["dr_pack"] = DEFAULT_PACK
    st.header(t("dry_run.section.programme"))
    pid = st.selectbox(t("dry_run.programme"), list(packs), key="dr_pack",
                       format_func=lambda p: f"{packs[p].programme.code} {packs[p].programme.name.get(lang)}")
    pack = packs[pid]
    s = pack_summary(pack, lang)
    with st.container(border=True):
        st.markdown(f"**{s['code']} {s['name']}**")
        if s["description"]:
            st.write(s["description"])
        facts = []
        if s["funding_mode"] == "capacity":
            facts.append(t("dry_run.pack.capacity", count=s["capacity_count"]))
        elif s["budget_yen"] is not None:
            facts.append(t("dry_run.pack.budget", amount=man_oku(s["budget_yen"])))
        else:
            facts.append(t("dry_run.pack.budget_unset"))
        if s["cap_yen"] is not None:
            facts.append(t("dry_run.pack.cap", amount=man_oku(s["cap_yen"])))
        for o in s["cap_overrides"]:
            facts.append(t("dry_run.pack.cap_override", amount=man_oku(o["cap_yen"]), reason=o["reason"]))
        if s["subsidy_rate"]:
            facts.append(t("dry_run.pack.subsidy_rate", rate=s["subsidy_rate"], unit=yen(s["rounding_yen"])))
        for req in s["requirements"]:
            facts.append(t("dry_run.pack.requirement", label=req))
        facts.append(t("dry_run.pack.pass_line", pass_line=score(s["pass_line"]), floor=score(s["criterion_floor"])))
        st.markdown("\n".join(f"- {f}" for f in facts))
    return pack


def upload_section() -> list[str]:
    """Upload a canonical JSON (or the intake Excel) to fill the form. Read in memory, never saved."""
    errors: list[str] = []
    with st.expander(t("dry_run.upload.title"), expanded=False):
        f = st.file_uploader(t("dry_run.upload.label"), type=["json", "xlsx"], key=f"dr_upload_{_gen()}",
                             help=t("dry_run.upload.help"))
        if f is None:
            return errors
        marker = f"{f.name}:{f.size}:{getattr(f, 'file_id', '')}"
        if st.session_state.get("dr_loaded_file") == marker:
            st.caption(t("dry_run.upload.loaded", name=f.name))
            return errors
        try:
            proposals = _read_upload(f.name, f.getvalue())
        except InputError as exc:
            return [str(p) for p in exc.problems]
        except _UploadError as exc:
            return [str(exc)]
        if not proposals:
            return [t("dry_run.upload.empty", name=f.name)]
        load_proposal_into_state(proposals[0])
        st.session_state["dr_loaded_file"] = marker
        if len(proposals) > 1:
            st.info(t("dry_run.upload.first_of", n=len(proposals), id=proposals[0].id))
        st.caption(t("dry_run.upload.loaded", name=f.name))
    return errors


class _UploadError(ValueError):
    pass


def _read_upload(name: str, data: bytes) -> list[Proposal]:
    if name.lower().endswith(".xlsx"):
        return read_intake(data, source_name=name)  # problems name the uploaded file
    try:
        payload = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _UploadError(t("dry_run.upload.bad_json", name=name, error=str(exc))) from None
    if isinstance(payload, dict) and "proposals" not in payload:
        payload = [payload]
    return parse_proposals(payload, name)


def proposal_form(pack) -> tuple[dict, list[str]]:
    """The guided form; returns the proposal as canonical data and the problems found in what was typed."""
    ss = st.session_state
    problems: list[str] = []
    kinds = [k.value for k in MemberKind]
    lang = current_lang()
    kind_fmt = partial(kind_label, lang=lang)
    st.header(t("dry_run.section.proposal"))
    c1, c2 = st.columns([1, 3])
    ss.setdefault("dr_id", "DRAFT-001")
    ss.setdefault("dr_app_kind", MemberKind.company.value)
    pid = c1.text_input(t("dry_run.field.id"), key="dr_id", help=t("dry_run.field.id_help"))
    title = c2.text_input(t("dry_run.field.title"), key="dr_title")

    st.subheader(t("dry_run.section.applicant"))
    c1, c2, c3, c4 = st.columns([3, 2, 1, 1])
    app_name = c1.text_input(t("dry_run.field.applicant_name"), key="dr_app_name")
    app_kind = c2.selectbox(t("dry_run.field.applicant_kind"), kinds, key="dr_app_kind", format_func=kind_fmt)
    pref = c3.text_input(t("dry_run.field.prefecture"), key="dr_app_pref")
    muni = c4.text_input(t("dry_run.field.municipality"), key="dr_app_muni")

    st.subheader(t("dry_run.section.consortium"))
    st.caption(t("dry_run.consortium_help"))
    members = []
    for i in range(int(ss.get("dr_n_members", 0))):
        c1, c2, c3, c4 = st.columns([3, 2, 3, 1], vertical_alignment="bottom")
        name = c1.text_input(t("dry_run.field.member_name", n=i + 1), key=f"dr_m_name_{i}")
        ss.setdefault(f"dr_m_kind_{i}", MemberKind.company.value)
        kind = c2.selectbox(t("dry_run.field.member_kind"), kinds, key=f"dr_m_kind_{i}", format_func=kind_fmt)
        role = c3.text_input(t("dry_run.field.member_role"), key=f"dr_m_role_{i}")
        c4.button(t("dry_run.member.remove"), key=f"dr_m_remove_{i}", on_click=_remove_member, args=(i,))
        if name.strip():
            members.append({"name": name.strip(), "kind": kind, "role": role.strip()})
        else:
            problems.append(t("dry_run.error.member_name", n=i + 1))
    st.button(t("dry_run.member.add"), key="dr_m_add", on_click=_add_member, icon=":material/add:")

    st.subheader(t("dry_run.section.amounts"))
    requested = eligible_cost = None
    mode = pack.funding.mode
    if mode == "requested":
        requested = _money_input("dr_requested", t("dry_run.field.requested"), problems)
    elif mode == "subsidy":
        eligible_cost = _money_input("dr_eligible_cost", t("dry_run.field.eligible_cost"), problems)
    else:
        st.caption(t("dry_run.amounts.capacity"))
    techs = st.multiselect(t("dry_run.field.technologies"), [x.value for x in Technology], key="dr_tech",
                           format_func=partial(tech_label, lang=lang), placeholder=t("dry_run.choose"))

    facts = dict(ss.get("dr_extra_facts") or {})
    fields = fact_fields(pack)
    if fields:
        st.subheader(t("dry_run.section.facts"))
        cols = st.columns(2)
        for j, f in enumerate(fields):
            key = f"dr_fact_{f.name}"
            col = cols[j % 2]
            if f.kind in ("bool", "choice") and ss.get(key, NONE) not in ([NONE, True, False] if f.kind == "bool"
                                                                             else [NONE, *f.choices]):
                ss[key] = NONE  # a value from a file that this question cannot show: ask again
            if f.kind == "bool":
                v = col.selectbox(fact_label(f.name), [NONE, True, False], key=key,
                                  format_func=partial(choice_label, f.name, lang=lang))
                if v is not None and v != NONE:
                    facts[f.name] = bool(v)
            elif f.kind == "choice":
                v = col.selectbox(fact_label(f.name), [NONE, *f.choices], key=key,
                                  format_func=partial(choice_label, f.name, lang=lang))
                if v is not None and v != NONE:
                    facts[f.name] = v
            else:
                integer = f.kind == "integer"
                if key in ss and ss[key] == NONE:
                    ss[key] = None
                v = col.number_input(fact_label(f.name), key=key, value=None, min_value=0 if integer else None,
                                     step=1 if integer else 0.01, format="%d" if integer else "%.2f")
                if v is not None:
                    facts[f.name] = int(v) if integer else float(v)

    st.subheader(t("dry_run.section.cost_lines"))
    st.caption(t("dry_run.cost_lines_help"))
    cost_lines = _cost_editor(problems)
    summary = st.text_area(t("dry_run.field.summary"), key="dr_summary", height=80)

    if not app_name.strip():
        problems.insert(0, t("dry_run.error.applicant_name"))
    data = {
        "id": (pid or "").strip() or "DRAFT-001", "pack": pack.id, "title": title.strip(),
        "applicant": {"name": app_name.strip(), "kind": app_kind, "prefecture": pref.strip() or None,
                      "municipality": muni.strip() or None},
        "consortium": members, "requested_yen": requested, "eligible_cost_yen": eligible_cost,
        "technologies": techs, "facts": facts, "cost_lines": cost_lines, "summary": summary.strip(),
    }
    return data, problems


def _money_input(key: str, label: str, problems: list[str]) -> int | None:
    text = st.text_input(label, key=key, placeholder=t("dry_run.money_placeholder"), help=t("dry_run.money_help"))
    if not (text or "").strip():
        return None
    try:
        amount = parse_yen(text)
    except MoneyError:
        problems.append(t("dry_run.error.money", field=label, value=text))
        st.error(t("dry_run.error.money", field=label, value=text), icon=":material/error:")
        return None
    st.caption(yen_both(amount))
    return amount


def _cost_editor(problems: list[str]) -> list[dict]:
    ss = st.session_state
    base = ss.get("dr_cost_base")
    if base is None:
        base = _empty_costs()
    cats = [c.value for c in CostCategory]
    edited = st.data_editor(
        base, key=f"dr_cost_editor_{_gen()}_{ss.get('dr_cost_version', 0)}", num_rows="dynamic",
        width="stretch", hide_index=True,
        column_config={
            "item": st.column_config.TextColumn(t("dry_run.cost.item"), width="medium"),
            "category": st.column_config.SelectboxColumn(t("dry_run.cost.category"), options=cats,
                                                         format_func=partial(category_label, lang=current_lang()),
                                                         required=True),
            "amount": st.column_config.TextColumn(t("dry_run.cost.amount"), help=t("dry_run.money_help")),
            "unit_price": st.column_config.TextColumn(t("dry_run.cost.unit_price")),
            "useful_life_years": st.column_config.NumberColumn(t("dry_run.cost.useful_life"), min_value=0, step=0.5),
            "years": st.column_config.NumberColumn(t("dry_run.cost.years"), min_value=0, step=1),
            "cannot_lease_reason": st.column_config.TextColumn(t("dry_run.cost.cannot_lease_reason")),
        })
    lines = []
    for n, row in enumerate(edited.to_dict("records"), start=1):
        vals = {k: (None if v is None or (isinstance(v, float) and v != v) or v is pd.NA or
                    (isinstance(v, str) and not v.strip()) else v) for k, v in row.items()}
        if all(v is None for v in vals.values()):
            continue
        line: dict = {"item": str(vals["item"] or ""), "category": vals["category"]}
        if vals["category"] is None:
            problems.append(t("dry_run.error.cost_category", n=n))
            continue
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
    return lines


def self_scoring(pack) -> tuple[dict, dict, dict]:
    lang = current_lang()
    st.header(t("dry_run.section.self_scoring"))
    st.caption(t("dry_run.self_scoring_help"))
    scale = sorted(pack.scale, key=lambda s: -s.level)
    labels = {s.level: s.label.get(lang) for s in scale}
    levels, notes = {}, {}
    for c in pack.criteria:
        with st.container(border=True):
            st.markdown(f"**{c.label.get(lang)}**　{t('dry_run.points', points=format(c.points, 'g'))}")
            with st.expander(t("dry_run.guidance")):
                st.markdown("\n".join(f"- **{s.level} {labels[s.level]}**：{c.guidance[s.level].get(lang)}"
                                      for s in scale if s.level in c.guidance))
            lv = st.radio(t("dry_run.level"), [s.level for s in scale], key=f"dr_level_{c.id}", index=None,
                          horizontal=True, format_func=lambda v: f"{v} {labels[v]}")
            if lv is not None:
                levels[c.id] = int(lv)
                st.caption(f"{lv} {labels[lv]}：{c.guidance[lv].get(lang)}")
            notes[c.id] = st.text_input(t("dry_run.note"), key=f"dr_note_{c.id}")
    judged = {}
    if pack.judged_bonuses:
        st.subheader(t("dry_run.section.judged_bonus"))
        for b in pack.judged_bonuses:
            judged[b.id] = st.checkbox(f"{b.label.get(lang)}（{t('dry_run.points', points=format(b.points, 'g'))}）",
                                       key=f"dr_judged_{b.id}")
    return levels, judged, notes


STATUS_BOX = {"pass": st.success, "fail": st.error, "needs_check": st.warning, "conditional": st.info}


def eligibility_section(result: dict) -> None:
    st.header(t("dry_run.section.eligibility"))
    if result["eligible"]:
        st.success(t("dry_run.eligible"), icon=":material/check_circle:")
    else:
        st.error(t("dry_run.ineligible"), icon=":material/cancel:")
    for row in result["eligibility"]:
        status = row["status"]
        text = f"{STATUS_ICONS[status]} **{t('status.' + status)}** — {row['reason']}"
        if row["advice"]:
            text += f"\n\n{t('dry_run.advice')}：{row['advice']}"
        if row["condition"]:
            text += f"\n\n{t('dry_run.condition')}：{row['condition']}"
        STATUS_BOX[status](text)


def expense_section(result: dict) -> None:
    flags = result["expense_flags"]
    st.header(t("dry_run.section.expenses"))
    if not flags:
        st.caption(t("dry_run.expenses.none"))
        return
    for f in flags:
        st.warning(t("dry_run.expenses.flag", line=f["line"], item=f["item"] or "—", label=f["label"],
                     status=t("dry_run.expenses.status." + f["status"])) + f"\n\n{f['message']}")


def funding_section(result: dict) -> None:
    f = result["funding"]
    st.header(t("dry_run.section.funding"))
    if f["mode"] == "capacity":
        st.caption(t("dry_run.funding.capacity"))
        return
    cols = st.columns(3)
    if f["mode"] == "subsidy":
        cols[0].metric(t("dry_run.metric.eligible_cost"), yen(f["eligible_cost_yen"]))
        cols[1].metric(t("dry_run.metric.grant", rate=f["subsidy_rate"]), yen(f["grant_yen"]))
        share = f["local_share"]
        if share is not None:
            cols[2].metric(t("dry_run.metric.local_share"), yen(share["share_yen"]))
            st.caption(t("dry_run.funding.grant_rule", rate=f["subsidy_rate"], unit=yen(f["rounding_yen"])))
            st.subheader(t("dry_run.local_bond.title", label=share["label"]))
            if not f["applicant_is_local_government"]:
                st.caption(t("dry_run.local_bond.not_lg"))
            st.warning(t("dry_run.local_bond.provisional", label=share["label"]))
            st.dataframe(pd.DataFrame([{
                t("dry_run.local_bond.name"): b["name"], t("dry_run.local_bond.applies_to"): b["applies_to"],
                t("dry_run.local_bond.appropriation"): f"{b['appropriation_rate']:.0%}",
                t("dry_run.local_bond.tax_measure_rate"): f"{b['grant_tax_measure_rate']:.0%}",
                t("dry_run.local_bond.bond"): yen(b["bond_yen"]),
                t("dry_run.local_bond.tax_measure"): yen(b["tax_measure_yen"]),
                t("dry_run.local_bond.net_burden"): yen(b["net_burden_yen"])} for b in share["bonds"]]),
                hide_index=True, width="stretch")
    else:
        cols[0].metric(t("dry_run.metric.requested"), yen(f["requested_yen"]))
        cols[1].metric(t("dry_run.metric.funded"), yen(f["funded_yen"]) if f["requested_yen"] is not None else "—")
        if f["cap_yen"] is not None:
            cols[2].metric(t("dry_run.metric.cap"), yen(f["cap_yen"]))
        if f["capped"]:
            st.warning(t("dry_run.funding.capped", cap=yen_both(f["cap_yen"])))


def estimate_section(result: dict) -> None:
    s = result["scoring"]
    st.header(t("dry_run.section.estimate"))
    st.caption(t("dry_run.estimate_notice_short"))
    if s["bonus_items"]:
        for b in s["bonus_items"]:
            icon = ":material/add_circle:" if b["awarded_points"] > 0 else ":material/remove:"
            pts = t("dry_run.points", points=f"{b['awarded_points']:g}")
            st.markdown(f"{icon} {b['reason']}（{pts}）")
        st.caption(t("dry_run.bonus_cap", cap=f"{s['bonus_cap']:g}"))
    cols = st.columns(4)
    cols[0].metric(t("dry_run.metric.base"), score(s["base"]))
    cols[1].metric(t("dry_run.metric.bonus"), score(s["bonus"]))
    cols[2].metric(t("dry_run.metric.total"), score(s["total"]))
    cols[3].metric(t("dry_run.metric.pass_line"), score(s["pass_line"]))
    if not s["complete"]:
        st.info(t("dry_run.standing.incomplete", n=len(s["missing"])))
    standing = s["standing"]
    box = {"qualifies": st.success, "below_pass_line": st.error, "below_criterion_floor": st.error,
           "ineligible": st.error, "incomplete": st.info}[standing]
    if standing != "incomplete":
        box(t("dry_run.standing." + standing, base=score(s["base"]), pass_line=score(s["pass_line"]),
              floor=score(s["criterion_floor"])))
    below = [c for c in s["criteria"] if c["below_floor"]]
    for c in below:
        st.error(t("dry_run.below_floor", label=c["label"], ratio=score(c["ratio"]), floor=score(s["criterion_floor"])))
    rows = [{t("dry_run.table.criterion"): c["label"], t("dry_run.table.points"): c["points"],
             t("dry_run.table.level"): f"{c['level']} {c['level_label']}" if c["level"] else "—",
             t("dry_run.table.score"): score(c["score"]) if c["score"] is not None else "—"} for c in s["criteria"]]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    if result["weakest"]:
        st.subheader(t("dry_run.section.weakest"))
        for w in result["weakest"]:
            st.markdown(t("dry_run.weakest.item", label=w["label"], level=f"{w['level']} {w['level_label']}",
                          next=f"{w['next_level']} {w['next_label']}", gain=score(w["gain"]))
                        + f"\n\n> {w['next_guidance']}")


def downloads(pack, proposal: Proposal, result: dict, notes: dict) -> None:
    st.header(t("dry_run.section.download"))
    canonical = json.dumps([proposal.model_dump(mode="json")], ensure_ascii=False, indent=2).encode("utf-8")
    c1, c2 = st.columns(2)
    c1.download_button(t("dry_run.download.json"), canonical, file_name=f"{proposal.id}.json",
                       mime="application/json", key="dr_dl_json", on_click="ignore", icon=":material/download:")
    xlsx = selfcheck_workbook(pack, proposal, result, notes, current_lang())
    c2.download_button(t("dry_run.download.xlsx"), xlsx, file_name=f"{proposal.id}_selfcheck.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key="dr_dl_xlsx", on_click="ignore", icon=":material/table_view:")
    st.caption(t("dry_run.download.help"))


def render() -> None:
    header()
    upload_errors = upload_section()
    for msg in upload_errors:
        st.error(msg)
    pack = choose_pack()
    data, problems = proposal_form(pack)
    checks = st.container()          # filled once the self-scoring below is known
    levels, judged, notes = self_scoring(pack)
    proposal = None
    if not problems:
        try:
            proposal = Proposal.model_validate(data)
        except ValidationError as exc:
            problems = [f"{p.field}: {p.message}" for p in problems_from_validation(exc, "form")]
    if proposal is None:
        with checks:
            st.header(t("dry_run.section.eligibility"))
            # what is still missing or invalid: guidance (a fresh form lists what to fill in), not an error
            st.warning(t("dry_run.error.fix_first") + "\n\n" + "\n".join(f"- {p}" for p in problems),
                       icon=":material/edit_note:")
        return
    result = self_check(pack, proposal, levels, judged, current_lang())
    with checks:
        eligibility_section(result)
        expense_section(result)
        funding_section(result)
    estimate_section(result)
    downloads(pack, proposal, result, notes)


with error_boundary("dry_run"):
    render()
