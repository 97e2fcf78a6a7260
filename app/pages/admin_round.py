"""ラウンド管理 — administration of a round (issue 4 §4): chair and secretariat.

Reads like the page: create a round; import proposals / reviewers / reviews (canonical files, all or
nothing); accounts; assignments (add, remove, automatic assignment); reopen a submitted review (chair); the
review deadline (chair, secretariat); lock or unlock the round (chair); export the round's files; the round's audit log
(chair: 操作履歴, filtered, with a CSV download).
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from functools import partial
from pathlib import Path

import pandas as pd
import streamlit as st

from app.audit import ROUND_ENTITIES, audit_csv, audit_frame
from app.auth import require
from app.conflicts import conflicts_section, short_panels
from app.discussion_view import visibility_section
from app.documents_view import upload_section
from app.i18n import t
from app.problems import show_input_error
from app.session import error_text, get_store, pick_pack, pick_round, programme_label, select_round, store_errors
from app.ui import arrow_table, error_boundary, uploader_texts
from scoring.errors import InputError
from scoring.packs import SHIPPED_PACKS
from scoring.store import StoreError


def create_round_section(me) -> None:
    with st.expander(t("admin.create.title"), icon=":material/add_circle:"):
        name = st.text_input(t("admin.create.name"), key="adm_round_name")
        packs = st.multiselect(t("admin.create.packs"), list(SHIPPED_PACKS), key="adm_round_packs",
                               format_func=programme_label, placeholder=t("common.choose"))
        desc = st.text_input(t("admin.create.description"), key="adm_round_desc")
        if st.button(t("admin.create.submit"), key="adm_round_create", type="primary"):
            if not name.strip() or not packs:
                st.error(t("admin.create.need"))
                return
            with store_errors():
                r = get_store().rounds.create_round(me, name.strip(), packs, desc.strip())
                select_round(r.id)
                st.success(t("admin.create.done", name=r.name))


def import_section(me, rnd) -> None:
    with st.expander(t("admin.import.title"), icon=":material/upload_file:"):
        st.caption(t("admin.import.help"))
        uploader_texts()
        files = {kind: st.file_uploader(t(f"admin.import.{kind}"), type=[ext], key=f"adm_import_{kind}")
                 for kind, ext in (("proposals", "json"), ("reviewers", "csv"), ("reviews", "csv"))}
        if st.button(t("admin.import.submit", round=rnd.name), key="adm_import_run", type="primary",
                     disabled=not any(files.values())):
            with tempfile.TemporaryDirectory(prefix="shinsa-import-") as tmp:
                paths, names, uploaded = {}, {}, {}
                for kind, f in files.items():
                    if f is not None:
                        p = Path(tmp) / kind / Path(f.name).name     # one folder per kind: two uploads may share a name
                        p.parent.mkdir()
                        p.write_bytes(f.getvalue())
                        paths[kind], names[str(p)], uploaded[kind] = p, f.name, f.name
                try:
                    rep = get_store().rounds.import_files(me, rnd.id, **paths, names=uploaded)   # audited by name
                except InputError as exc:      # every problem, by the uploaded file's name, as plain text
                    show_input_error(exc, names, heading="problem.heading_import")
                    return
                except StoreError as exc:
                    st.error(error_text(exc))
                    return
            st.success(t("admin.import.done", round=rnd.name, proposals=rep.proposals, reviewers=rep.reviewers, reviews=rep.reviews,
                         assignments=rep.assignments_created))


def users_section(me) -> None:
    with st.expander(t("admin.users.title"), icon=":material/group:"):
        users = get_store().users.list_users(me)
        st.dataframe(pd.DataFrame([{t("admin.users.username"): u.username, t("admin.users.name"): u.display_name,
                                    t("admin.users.role"): t(f"auth.role.{u.role}"),
                                    t("admin.users.active"): "✔" if u.active else "—",
                                    t("admin.users.password"): "✔" if u.has_password else "—"} for u in users]),
                     hide_index=True, width="stretch")
        c = st.columns(4)
        username = c[0].text_input(t("admin.users.username"), key="adm_user_name")
        display = c[1].text_input(t("admin.users.name"), key="adm_user_display")
        roles = ["reviewer", "chair", "secretariat"] if me.role == "chair" else ["reviewer", "secretariat"]
        role = c[2].selectbox(t("admin.users.role"), roles, key="adm_user_role",
                              format_func=lambda r: t(f"auth.role.{r}"), placeholder=t("common.choose"))
        password = c[3].text_input(t("admin.users.password"), type="password", key="adm_user_password")
        if st.button(t("admin.users.add"), key="adm_user_add"):
            with store_errors():
                get_store().users.add_user(me, username.strip(), display.strip() or username.strip(), role,
                                           password=password or None)
                st.success(t("admin.users.added", username=username.strip()))
        # an imported reviewer has no password yet; a forgotten one is replaced; a lockout is cleared
        st.markdown("**" + t("admin.users.reset_title") + "**")
        c = st.columns([2, 2, 1, 1], vertical_alignment="bottom")
        editable = [u.username for u in users if me.role == "chair" or u.role != "chair"]
        names = {u.username: u.display_name for u in users}
        who = c[0].selectbox(t("admin.users.username"), editable, index=None,
                             key="adm_pw_user", placeholder=t("admin.users.pick"),
                             format_func=lambda u: f"{u}（{names.get(u, '')}）")
        new_pw = c[1].text_input(t("admin.users.new_password"), type="password", key="adm_pw_new",
                                 help=t("account.rules"))
        if c[2].button(t("admin.users.set_password"), key="adm_pw_set", disabled=who is None or not new_pw):
            with store_errors():
                get_store().users.set_password(me, who, new_pw)
                st.success(t("admin.users.password_set", username=who))
        if c[3].button(t("admin.users.unlock"), key="adm_pw_unlock", disabled=who is None):
            with store_errors():
                get_store().users.unlock(me, who)
                st.success(t("admin.users.unlocked", username=who))


AUTO_REPORT = "adm_auto_report"


def auto_assign_report(rnd, rep) -> None:
    """What an automatic assignment did: added and kept, the proposals left short, and the shape of the
    reviewer–proposal graph (one connected panel, or how many parts; the least and most shared proposals)."""
    st.success(t("admin.assign.auto_done", round=rnd.name, added=len(rep.added), kept=rep.kept))
    for u in rep.unsatisfied:
        st.warning(t("admin.assign.unsatisfied", proposal=u.proposal_id, have=u.have, wanted=u.wanted))
    d = rep.design
    if d is None or d.reviewers == 0:
        return
    overlap = ("" if d.min_pair_overlap is None else
               t("admin.assign.overlap", min=d.min_pair_overlap, max=d.max_pair_overlap))
    if d.connected:
        st.info(t("admin.assign.connected", reviewers=d.reviewers) + overlap, icon=":material/hub:")
    else:
        st.warning(t("admin.assign.disconnected", components=d.components, reviewers=d.reviewers) + overlap,
                   icon=":material/link_off:")


def assignments_section(me, rnd) -> list:
    """The assignments of one programme: the table, automatic assignment, add and remove. Returns every
    assignment of the round (read once per run: the chair's part below lists the submitted ones)."""
    st.subheader(t("admin.assign.title"))
    pack_id = pick_pack(rnd, key="adm_pack_pick")
    store = get_store()
    every = store.assignments.list_assignments(me, rnd.id)
    rows = [a for a in every if a.pack == pack_id]
    if rows:
        # one lookup per status and per column title, not per row (5,000 assignments: issue 15)
        status = {s: t(f"admin.status.{s}") for s in {a.status for a in rows}}
        # its Arrow form made once per content (issue 15)
        st.dataframe(arrow_table((t("admin.assign.proposal"), t("admin.assign.reviewer"), t("admin.assign.status")),
                                 tuple((a.proposal_id, a.reviewer, status[a.status]) for a in rows)),
                     hide_index=True, width="stretch", height=260)
    else:           # no empty table: Streamlit would write "empty" in English
        st.info(t("admin.assign.none_yet"))
    short_panels(me, rnd, pack_id, "adm")     # proposals a conflict left short, each with its reassignment
    c = st.columns([2, 1, 2], vertical_alignment="bottom")
    k = c[0].number_input(t("admin.assign.k"), min_value=1, step=1, value=None, key="adm_auto_k",
                          placeholder=t("admin.assign.k_default"))
    if c[1].button(t("admin.assign.auto"), key="adm_auto_assign", type="primary", icon=":material/auto_mode:"):
        with store_errors():
            rep = store.assignments.auto_assign(me, rnd.id, pack_id, int(k) if k else None)
            # shown after the rerun, so that the table above already lists what was added (issue 14 §8)
            st.session_state[AUTO_REPORT] = (rnd.id, pack_id, rep)
            st.rerun()
    shown = st.session_state.get(AUTO_REPORT)
    if shown and shown[:2] == (rnd.id, pack_id):
        auto_assign_report(rnd, shown[2])
    proposals = [p.id for p in store.rounds.list_proposals(me, rnd.id, pack_id)]
    reviewers = [r.username for r in store.rounds.list_reviewers(me, rnd.id)]
    c = st.columns([2, 2, 1, 1], vertical_alignment="bottom")
    pid = c[0].selectbox(t("admin.assign.proposal"), proposals, key="adm_assign_proposal",
                         placeholder=t("common.choose"))
    rv = c[1].selectbox(t("admin.assign.reviewer"), reviewers, key="adm_assign_reviewer",
                        placeholder=t("common.choose"))
    if c[2].button(t("admin.assign.add"), key="adm_assign_add") and pid and rv:
        with store_errors():
            store.assignments.assign(me, rnd.id, pid, rv)
            st.rerun()
    if c[3].button(t("admin.assign.remove"), key="adm_assign_remove") and pid and rv:
        with store_errors():
            store.assignments.unassign(me, rnd.id, pid, rv)
            st.rerun()
    return every


def deadline_section(me, rnd) -> None:
    """The round's review deadline (評価締切): reviewers see it, with the days left, on 担当案件."""
    st.subheader(t("admin.deadline.title"))
    c = st.columns([2, 1, 1], vertical_alignment="bottom")
    picked = c[0].date_input(t("admin.deadline.date"), value=rnd.deadline, key=f"adm_deadline_{rnd.id}",
                             format="YYYY-MM-DD", disabled=rnd.status == "locked")
    if c[1].button(t("admin.deadline.set"), key="adm_deadline_set", disabled=rnd.status == "locked" or picked is None):
        with store_errors():
            get_store().rounds.set_deadline(me, rnd.id, picked)
            st.success(t("admin.deadline.done", date=f"{picked:%Y-%m-%d}"))
    if rnd.deadline is not None and c[2].button(t("admin.deadline.clear"), key="adm_deadline_clear",
                                                disabled=rnd.status == "locked"):
        with store_errors():
            get_store().rounds.set_deadline(me, rnd.id, None)
            st.session_state.pop(f"adm_deadline_{rnd.id}", None)
            st.rerun()


def chair_section(me, rnd, assignments: list) -> None:
    store = get_store()
    st.subheader(t("admin.reopen.title"))
    submitted = [a for a in assignments if a.status == "submitted"]
    if submitted:
        labels = {(a.proposal_id, a.reviewer): f"{a.proposal_id} — {a.reviewer}" for a in submitted}
        c = st.columns([2, 2, 1], vertical_alignment="bottom")
        pick = c[0].selectbox(t("admin.reopen.review"), list(labels), key="adm_reopen_pick", format_func=labels.get,
                              placeholder=t("common.choose"))
        reason = c[1].text_input(t("admin.reopen.reason"), key="adm_reopen_reason")
        if c[2].button(t("admin.reopen.submit"), key="adm_reopen"):
            with store_errors():
                store.reviews.reopen(me, rnd.id, pick[0], pick[1], reason.strip())
                st.success(t("admin.reopen.done", round=rnd.name, proposal=pick[0], reviewer=pick[1]))
    else:
        st.caption(t("admin.reopen.none"))
    st.subheader(t("admin.lock.title"))
    if rnd.status == "locked":
        st.warning(t("admin.lock.is_locked"))
        if st.button(t("admin.lock.unlock", round=rnd.name), key="adm_unlock"):
            with store_errors():
                store.rounds.unlock_round(me, rnd.id)
                st.rerun()
    else:
        st.caption(t("admin.lock.help"))
        confirm = st.checkbox(t("admin.lock.confirm"), key="adm_lock_confirm")
        if st.button(t("admin.lock.lock", round=rnd.name), key="adm_lock", disabled=not confirm, type="primary"):
            with store_errors():
                store.rounds.lock_round(me, rnd.id)
                st.rerun()
    st.subheader(t("admin.export.title"))
    if st.button(t("admin.export.prepare"), key="adm_export_prepare"):
        with store_errors(), tempfile.TemporaryDirectory(prefix="shinsa-export-") as tmp:
            paths = store.rounds.export_files(me, rnd.id, tmp)
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                for p in paths:
                    z.write(p, arcname=Path(p).name)
            st.session_state["adm_export_zip"] = (rnd.id, buf.getvalue())
    stored = st.session_state.get("adm_export_zip")
    if stored and stored[0] == rnd.id:
        st.download_button(t("admin.export.download"), stored[1], file_name=f"round_{rnd.id}.zip",
                           mime="application/zip", key="adm_export_download", on_click="ignore",
                           icon=":material/download:")


AUDIT_LIMIT = 500


def audit_section(me, rnd) -> None:
    st.subheader(t("admin.audit.title"))
    st.caption(t("admin.audit.help", limit=AUDIT_LIMIT))
    c = st.columns([1, 1, 1])
    entity = c[0].selectbox(t("admin.audit.entity"), (None,) + ROUND_ENTITIES, key="adm_audit_entity",
                            format_func=lambda e: t("admin.audit.entity.all" if e is None else f"admin.audit.entity.{e}"),
                                placeholder=t("common.choose"))
    proposal = c[1].text_input(t("admin.audit.proposal"), key="adm_audit_proposal").strip()
    subject = c[2].text_input(t("admin.audit.subject"), key="adm_audit_subject").strip()
    with store_errors():
        entries = get_store().audit.query(me, rnd.id, entity=entity, proposal_id=proposal or None,
                                          reviewer=subject or None, limit=AUDIT_LIMIT)
        if not entries:
            st.caption(t("admin.audit.empty"))
            return
        frame = audit_frame(entries)
        st.dataframe(frame, hide_index=True, width="stretch", key="adm_audit_table")
        # the CSV built when the button is clicked, not on every run (issue 15)
        st.download_button(t("admin.audit.download"), partial(audit_csv, frame), file_name=f"audit_round_{rnd.id}.csv",
                           mime="text/csv", key="adm_audit_download", on_click="ignore", icon=":material/download:")


def render() -> None:
    me = require("chair", "secretariat")
    st.title(t("admin.title"))
    create_round_section(me)
    rnd = pick_round(me)
    if rnd is None:
        st.info(t("app.no_round"))
        return
    st.caption(t("admin.acts_on", round=rnd.name))
    import_section(me, rnd)
    upload_section(me, rnd)           # proposal documents (app/documents_view.py)
    users_section(me)
    assignments = assignments_section(me, rnd)
    conflicts_section(me, rnd)
    deadline_section(me, rnd)         # the chair and the secretariat (issue 14 §14)
    if me.role == "chair":
        visibility_section(me, rnd)     # the round's review-visibility policy (issue 16 §8)
        chair_section(me, rnd, assignments)
        audit_section(me, rnd)


with error_boundary("admin_round"):
    render()
