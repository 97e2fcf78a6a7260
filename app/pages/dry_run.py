"""応募前セルフチェック — the applicant's dry run (issue 7). Reachable without login.

Reads like the page: choose the programme type, enter (or upload) the proposal, read the eligibility result,
the expense flags and the funded amount, score yourself, see the estimate, download it. Every figure comes
from :func:`scoring.selfcheck.self_check`; the form's mapping (widget state ⇄ proposal, its messages) is
:mod:`app.proposal_form`. Nothing entered here is stored or logged on the server: it lives in this browser
session's state only (keys ``dr_*``), and 「クリア」 wipes it. No database is touched.
"""

from __future__ import annotations

import json
from functools import partial

import pandas as pd
import streamlit as st

from app import proposal_form as form
from app.i18n import current_lang, t
from app.problems import markdown_escaped, problem_lines
from app.ui import STATUS_ICONS, error_boundary, uploader_texts, man_oku, score, yen, yen_both
from scoring.errors import InputError
from scoring.io.packs import load_pack
from scoring.io.selfcheck_sheet import selfcheck_workbook
from scoring.models import CostCategory, MemberKind, Proposal, Technology
from scoring.packs import SHIPPED_PACKS
from scoring.selfcheck import fact_fields, pack_summary, self_check

NONE = form.NONE


# --- sections --------------------------------------------------------------------------------------------------

def header() -> None:
    st.title(t("dry_run.title"))
    st.warning(t("dry_run.estimate_notice"), icon=":material/info:")
    c1, c2 = st.columns([4, 1])
    c1.caption(t("dry_run.privacy_notice"))
    c2.button(t("dry_run.clear"), key="dry_run_clear", on_click=form.clear_form, args=(st.session_state,),
              type="secondary",
              help=t("dry_run.clear_help"), width="stretch")


def choose_pack():
    lang = current_lang()
    packs = {pid: load_pack(pid) for pid in SHIPPED_PACKS}
    if st.session_state.get("dr_pack") not in packs:
        st.session_state["dr_pack"] = form.DEFAULT_PACK
    st.header(t("dry_run.section.programme"))
    pid = st.selectbox(t("dry_run.programme"), list(packs), key="dr_pack",
                       format_func=lambda p: f"{packs[p].programme.code} {packs[p].programme.name.get(lang)}",
                           placeholder=t("common.choose"))
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
        uploader_texts()
        f = st.file_uploader(t("dry_run.upload.label"), type=["json", "xlsx"],
                             key=f"dr_upload_{form.generation(st.session_state)}", help=t("dry_run.upload.help"))
        if f is None:
            return errors
        marker = f"{f.name}:{f.size}:{getattr(f, 'file_id', '')}"
        if st.session_state.get("dr_loaded_file") == marker:
            st.caption(t("dry_run.upload.loaded", name=f.name))
            return errors
        try:
            proposals = form.read_upload(f.name, f.getvalue())
        except InputError as exc:
            return problem_lines(exc.problems, lang=current_lang())
        except form.UploadError as exc:
            return [str(exc)]
        if not proposals:
            return [t("dry_run.upload.empty", name=f.name)]
        form.proposal_to_state(proposals[0], st.session_state)
        st.session_state["dr_loaded_file"] = marker
        if len(proposals) > 1:
            st.info(t("dry_run.upload.first_of", n=len(proposals), id=proposals[0].id))
        st.caption(t("dry_run.upload.loaded", name=f.name))
    return errors


def proposal_form(pack) -> tuple[dict, list[str]]:
    """The guided form; returns the proposal as canonical data and the problems found in what was typed."""
    ss = st.session_state
    kinds = [k.value for k in MemberKind]
    lang = current_lang()
    kind_fmt = partial(form.kind_label, lang=lang)
    st.header(t("dry_run.section.proposal"))
    c1, c2 = st.columns([1, 3])
    ss.setdefault("dr_id", form.DEFAULT_ID)
    ss.setdefault("dr_app_kind", form.DEFAULT_KIND)
    c1.text_input(t("dry_run.field.id"), key="dr_id", help=t("dry_run.field.id_help"))
    c2.text_input(t("dry_run.field.title"), key="dr_title")

    st.subheader(t("dry_run.section.applicant"))
    c1, c2, c3, c4 = st.columns([3, 2, 1, 1])
    c1.text_input(t("dry_run.field.applicant_name"), key="dr_app_name")
    c2.selectbox(t("dry_run.field.applicant_kind"), kinds, key="dr_app_kind", format_func=kind_fmt,
                 placeholder=t("common.choose"))
    c3.text_input(t("dry_run.field.prefecture"), key="dr_app_pref")
    c4.text_input(t("dry_run.field.municipality"), key="dr_app_muni")

    st.subheader(t("dry_run.section.consortium"))
    st.caption(t("dry_run.consortium_help"))
    for i in range(int(ss.get("dr_n_members", 0))):
        c1, c2, c3, c4 = st.columns([3, 2, 3, 1], vertical_alignment="bottom")
        c1.text_input(t("dry_run.field.member_name", n=i + 1), key=form.member_key("name", i))
        ss.setdefault(form.member_key("kind", i), form.DEFAULT_KIND)
        c2.selectbox(t("dry_run.field.member_kind"), kinds, key=form.member_key("kind", i), format_func=kind_fmt,
                     placeholder=t("common.choose"))
        c3.text_input(t("dry_run.field.member_role"), key=form.member_key("role", i))
        c4.button(t("dry_run.member.remove"), key=f"dr_m_remove_{i}", on_click=form.remove_member, args=(ss, i))
    st.button(t("dry_run.member.add"), key="dr_m_add", on_click=form.add_member, args=(ss,), icon=":material/add:")

    st.subheader(t("dry_run.section.amounts"))
    mode = pack.funding.mode
    if mode == "requested":
        money_input("dr_requested")
    elif mode == "subsidy":
        money_input("dr_eligible_cost")
    else:
        st.caption(t("dry_run.amounts.capacity"))
    st.multiselect(t("dry_run.field.technologies"), [x.value for x in Technology], key="dr_tech",
                   format_func=partial(form.tech_label, lang=lang), placeholder=t("dry_run.choose"))
    fact_questions(pack, lang)

    st.subheader(t("dry_run.section.cost_lines"))
    st.caption(t("dry_run.cost_lines_help"))
    cost_rows = cost_editor()
    st.text_area(t("dry_run.field.summary"), key="dr_summary", height=80)
    return form.read_form(ss, pack, cost_rows)


def fact_questions(pack, lang: str) -> None:
    """One question per fact the pack's rules, bonuses and caps read (yes/no, a choice, or a number)."""
    fields = fact_fields(pack)
    if not fields:
        return
    st.subheader(t("dry_run.section.facts"))
    form.prepare_fact_state(st.session_state, fields)
    cols = st.columns(2)
    for j, f in enumerate(fields):
        key, col = form.fact_key(f.name), cols[j % 2]
        if f.kind in ("bool", "choice"):
            options = [NONE, True, False] if f.kind == "bool" else [NONE, *f.choices]
            col.selectbox(form.fact_label(f.name), options, key=key,
                          format_func=partial(form.choice_label, f.name, lang=lang), placeholder=t("common.choose"))
        else:
            integer = f.kind == "integer"
            col.number_input(form.fact_label(f.name), key=key, value=None, min_value=0 if integer else None,
                             step=1 if integer else 0.01, format="%d" if integer else "%.2f")


def money_input(key: str) -> None:
    """An amount field; what it reads is shown under it at once (or why it cannot be read)."""
    label = form.money_label(key)
    text = st.text_input(label, key=key, placeholder=t("dry_run.money_placeholder"), help=t("dry_run.money_help"))
    amount, problem = form.parse_money(text, label)
    if problem:
        st.error(problem, icon=":material/error:")
    elif amount is not None:
        st.caption(yen_both(amount))


def cost_editor() -> list[dict]:
    """The cost lines table; returns its rows as the editor holds them."""
    ss = st.session_state
    base = ss.get("dr_cost_base")
    if base is None:
        base = form.empty_costs()
    cats = [c.value for c in CostCategory]
    edited = st.data_editor(
        base, key=f"dr_cost_editor_{form.generation(ss)}_{ss.get('dr_cost_version', 0)}", num_rows="dynamic",
        width="stretch", hide_index=True,
        column_config={
            "item": st.column_config.TextColumn(t("dry_run.cost.item"), width="medium"),
            "category": st.column_config.SelectboxColumn(t("dry_run.cost.category"), options=cats,
                                                         format_func=partial(form.category_label,
                                                                             lang=current_lang())),
            # not required: the browser would hold back a row until its 区分 is chosen — what was typed first
            # was lost, a row left without one vanished (issue 14 §9); cost_lines names it as a problem instead
            "amount": st.column_config.TextColumn(t("dry_run.cost.amount"), help=t("dry_run.money_help")),
            "unit_price": st.column_config.TextColumn(t("dry_run.cost.unit_price")),
            "useful_life_years": st.column_config.NumberColumn(t("dry_run.cost.useful_life"), min_value=0, step=0.5),
            "years": st.column_config.NumberColumn(t("dry_run.cost.years"), min_value=0, step=1),
            "cannot_lease_reason": st.column_config.TextColumn(t("dry_run.cost.cannot_lease_reason")),
        })
    return edited.to_dict("records")


def self_scoring(pack) -> tuple[dict, dict, dict]:
    lang = current_lang()
    st.header(t("dry_run.section.self_scoring"))
    st.caption(t("dry_run.self_scoring_help"))
    scale = sorted(pack.scale, key=lambda s: s.level, reverse=True)
    labels = {s.level: s.label.get(lang) for s in scale}
    levels, notes = {}, {}
    for c in pack.criteria:
        with st.container(border=True):
            st.markdown(f"**{c.label.get(lang)}**　{t('dry_run.points', points=format(c.points, 'g'))}")
            with st.expander(t("dry_run.guidance")):
                st.markdown("\n".join(f"- **{s.level} {labels[s.level]}**：{c.guidance[s.level].get(lang)}"
                                      for s in scale if s.level in c.guidance))
            lv = st.radio(t("a11y.level_of", criterion=c.label.get(lang)), [s.level for s in scale],
                          key=f"dr_level_{c.id}", index=None, horizontal=True, label_visibility="collapsed",
                          format_func=lambda v: f"{v} {labels[v]}")   # named after its criterion (issue 19)
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
        cols[0].metric(t("dry_run.metric.eligible_cost"), man_oku(f["eligible_cost_yen"]))
        cols[1].metric(t("dry_run.metric.grant", rate=f["subsidy_rate"]), man_oku(f["grant_yen"]))
        share = f["local_share"]
        if share is not None:
            cols[2].metric(t("dry_run.metric.local_share"), man_oku(share["share_yen"]))
            st.caption(t("dry_run.funding.grant_rule", rate=f["subsidy_rate"], unit=yen(f["rounding_yen"])))
            st.subheader(t("dry_run.local_bond.title", label=share["label"]))
            if not f["applicant_is_local_government"]:
                st.caption(t("dry_run.local_bond.not_lg"))
            st.warning(t("dry_run.local_bond.provisional", label=share["label"]))
            st.dataframe(pd.DataFrame([{
                t("dry_run.local_bond.name"): b["name"], t("dry_run.local_bond.applies_to"): b["applies_to"],
                t("dry_run.local_bond.appropriation"): f"{b['appropriation_rate']:.0%}",
                t("dry_run.local_bond.tax_measure_rate"): f"{b['grant_tax_measure_rate']:.0%}",
                t("dry_run.local_bond.bond"): man_oku(b["bond_yen"]),
                t("dry_run.local_bond.tax_measure"): man_oku(b["tax_measure_yen"]),
                t("dry_run.local_bond.net_burden"): man_oku(b["net_burden_yen"])} for b in share["bonds"]]),
                hide_index=True, width="stretch")
    else:
        cols[0].metric(t("dry_run.metric.requested"), man_oku(f["requested_yen"]))
        cols[1].metric(t("dry_run.metric.funded"), man_oku(f["funded_yen"]) if f["requested_yen"] is not None else "—")
        if f["cap_yen"] is not None:
            cols[2].metric(t("dry_run.metric.cap"), man_oku(f["cap_yen"]))
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
    # built when the button is clicked, not on every change of a field (issue 15: half the run's time)
    xlsx = partial(selfcheck_workbook, pack, proposal, result, dict(notes), current_lang())
    c2.download_button(t("dry_run.download.xlsx"), xlsx, file_name=f"{proposal.id}_selfcheck.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key="dr_dl_xlsx", on_click="ignore", icon=":material/table_view:")
    st.caption(t("dry_run.download.help"))


def render() -> None:
    header()
    upload_errors = upload_section()
    for msg in upload_errors:   # plain text: nothing of the file is read as Markdown
        st.error(markdown_escaped(msg))
    form_and_results()


@st.fragment
def form_and_results() -> None:
    """From the programme on: the form, the self-scoring and every result. A fragment (issue 15): a field, level
    or programme change reruns this part only — not the app's shell (menu, language switch), the title and its
    notices, the upload; the clear button and an upload rerun the whole page. Under the page's own error
    handling, which a rerun of the fragment alone does not pass through."""
    with error_boundary("dry_run"):
        _form_and_results()


def _form_and_results() -> None:
    pack = choose_pack()
    data, problems = proposal_form(pack)
    checks = st.container()          # filled once the self-scoring below is known
    levels, judged, notes = self_scoring(pack)
    proposal, problems = form.to_proposal(data, problems)
    mismatch = form.cost_total_warning(data, pack)
    if mismatch:
        with checks:
            st.warning(mismatch, icon=":material/calculate:")
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
