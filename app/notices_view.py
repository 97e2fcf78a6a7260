"""The notices part of the 採否・通知 page (issue 18 items 5–6 in the app): the round's notice settings and
templates, a preview of one notice, every notice as a .zip, the outbox (addresses entered per notice; the statuses,
preview and sending when an SMTP server is configured are the shared outbox panel, :mod:`app.outbox_view`). Every
rule is the store's (``store.notices``, ``store.outbox``).

E-mail addresses: users have no e-mail column and proposals carry none in the canonical format, so the
secretariat (or a chair) types each applicant's address here; a notice without an address stays out of the outbox
(docs/app.md). Widget keys: ``nt_feedback``, ``nt_sender``, ``nt_settings_save``, ``nt_preview_pick``,
``nt_preview_download``, ``nt_zip``, ``nt_zip_pdf_prepare``, ``nt_zip_pdf``, ``nt_addresses``, ``nt_outbox_add``,
``nt_outbox_pick``, ``nt_send``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.i18n import current_lang, t
from app.outbox_view import outbox_panel
from app.session import error_text, get_store
from app.ui import money, score
from scoring.errors import InputError
from scoring.io.notices import NoticeError, default_template, soffice_path
from scoring.labels import label
from scoring.store import StoreError
from scoring.store.notice_settings import DECISION_CODES

from app.decisions_view import NOTICE

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def settings_section(me, round_id: int) -> None:
    store = get_store()
    cfg = store.notices.settings(me, round_id)
    with st.expander(t("nt.settings.title"), icon=":material/tune:"):
        with st.form("nt_settings"):
            feedback = st.checkbox(t("nt.settings.feedback"), value=cfg.feedback, key="nt_feedback")
            sender = st.text_input(t("nt.settings.sender"), value=cfg.sender or label("notice.default_sender"),
                                   key="nt_sender", max_chars=300)
            if st.form_submit_button(t("nt.settings.save"), key="nt_settings_save"):
                try:
                    store.notices.set_settings(me, round_id, feedback=feedback, sender=sender)
                    st.session_state[NOTICE] = ("success", t("nt.settings.saved"))
                except (InputError, StoreError) as exc:
                    st.session_state[NOTICE] = ("error", error_text(exc))
                st.rerun()
        st.markdown("**" + t("nt.template.title") + "**")
        lang = current_lang()
        for code in DECISION_CODES:
            c1, c2, c3 = st.columns([2, 3, 3])
            c1.markdown(label(f"outcome.{code}", lang))
            name = (cfg.templates or {}).get(code)
            c2.caption(t("nt.template.uploaded", name=name) if name else t("nt.template.default"))
            c2.download_button(t("nt.template.download_default"), default_template(code), key=f"nt_tpl_dl_{code}",
                               file_name=f"notice_{code}.docx", mime=DOCX)
            up = c3.file_uploader(t("nt.template.upload"), type=["docx"], key=f"nt_tpl_up_{code}")
            if up is not None and st.session_state.get(f"nt_tpl_done_{code}") != up.file_id:
                st.session_state[f"nt_tpl_done_{code}"] = up.file_id
                try:
                    store.notices.upload_template(me, round_id, code, up.name, up.getvalue())
                    c3.success(t("nt.template.done"))
                except (InputError, StoreError) as exc:
                    c3.error(error_text(exc))
            if name and c3.button(t("nt.template.remove"), key=f"nt_tpl_rm_{code}"):
                store.notices.remove_template(me, round_id, code)
                st.rerun()


def preview_section(me, round_id: int, fields) -> None:
    lang = current_lang()
    st.subheader(t("nt.preview.title"))
    by_id = {f.proposal_id: f for f in fields}
    pid = st.selectbox(t("nt.preview.pick"), list(by_id), key="nt_preview_pick",
                       format_func={p: f"{p}　{f.title}" for p, f in by_id.items()}.get,
                       placeholder=t("common.choose"))
    if pid is None:
        return
    f = by_id[pid]
    lines = [f"{t('nt.field.applicant')}：{f.applicant_name}",
             f"{t('nt.field.decision')}：{label('outcome.' + f.decision_code, lang)}"]
    if f.awarded_yen:
        lines.append(f"{t('nt.field.amount')}：{money(f.awarded_yen, lang)}")
    if f.conditions:
        lines.append(f"{t('nt.field.conditions')}：{f.conditions}")
    if f.reserve_position:
        lines.append(f"{t('nt.field.reserve')}：{f.reserve_position}")
    if f.feedback is not None:
        lines.append(f"{t('nt.field.band')}：{label('band.' + f.feedback.band, lang)}　"
                     f"{score(f.feedback.base_score)}")
        for c in f.feedback.applicant_comments:
            lines.append(f"{t('nt.field.comments')}：{c}")
    st.markdown("\n".join(f"- {x}" for x in lines))
    st.download_button(t("nt.preview.download"), get_store().notices.render(me, round_id, f),
                       file_name=f"{pid}.docx", mime=DOCX, key="nt_preview_download", icon=":material/description:")


def outbox_section(me, round_id: int, fields) -> None:
    store = get_store()
    st.subheader(t("nt.outbox.title"))
    st.caption(t("nt.outbox.addresses"))
    frame = pd.DataFrame([{t("nt.outbox.col.proposal"): f.proposal_id, t("nt.outbox.col.applicant"): f.applicant_name,
                           t("nt.outbox.col.address"): ""} for f in fields])
    edited = st.data_editor(frame, key="nt_addresses", hide_index=True, width="stretch",
                            disabled=[t("nt.outbox.col.proposal"), t("nt.outbox.col.applicant")])
    if st.button(t("nt.outbox.add"), key="nt_outbox_add", icon=":material/outbox:"):
        addresses = dict(zip(edited[t("nt.outbox.col.proposal")], edited[t("nt.outbox.col.address")].fillna("")))
        try:
            ids = store.notices.to_outbox(me, round_id, fields, addresses)
            st.session_state[NOTICE] = ("success", t("nt.outbox.added", n=len(ids)))
        except (InputError, StoreError) as exc:
            st.session_state[NOTICE] = ("error", error_text(exc))
        st.rerun()
    outbox_panel(me, round_id, kind="notice", prefix="nt", notice_key=NOTICE, who_label=t("nt.outbox.col.proposal"),
                 who_field="proposal_id", no_smtp=t("nt.outbox.no_smtp"))


def pdf_zip(me, round_id: int, pack_id: str, fields, key) -> None:
    """Every notice as .docx and .pdf in one zip, made on request (LibreOffice converts one notice at a time, a
    few seconds each); without LibreOffice (``soffice``) a caption says PDFs need it."""
    if soffice_path() is None:
        st.caption(t("nt.pdf.no_soffice"))
        return
    if st.button(t("nt.pdf.prepare"), key="nt_zip_pdf_prepare", icon=":material/picture_as_pdf:"):
        with st.spinner(t("nt.pdf.preparing", n=len(fields))):
            try:
                st.session_state["nt_zip_pdf_data"] = (key, get_store().notices.zip_all(me, round_id, fields,
                                                                                        pdf=True))
            except NoticeError as exc:
                st.error(t("nt.pdf.failed", detail=str(exc)), icon=":material/error:")
            except (InputError, StoreError) as exc:
                st.error(error_text(exc))
    cached = st.session_state.get("nt_zip_pdf_data")
    if cached is not None and cached[0] == key:
        st.download_button(t("nt.pdf.download"), cached[1], file_name=f"notices_{pack_id}_pdf.zip",
                           mime="application/zip", key="nt_zip_pdf", icon=":material/folder_zip:")


def notices_section(me, round_id: int, pack_id: str, confirmed: bool) -> None:
    st.header(t("nt.title"))
    if not confirmed:
        st.info(t("nt.need_confirm"), icon=":material/hourglass_empty:")
        return
    settings_section(me, round_id)
    store = get_store()
    try:
        fields = store.notices.fields(me, round_id, pack_id)
    except (InputError, StoreError) as exc:
        st.error(error_text(exc))
        return
    if store.decisions.versions(me, round_id, pack_id) and len(fields) < len(
            store.rounds.list_proposals(me, round_id, pack_id)):
        st.caption(t("nt.all.hidden"))
    c1, c2 = st.columns([3, 2])
    c1.caption(t("nt.all.count", n=len(fields)))
    key = (round_id, pack_id, tuple(fields))     # NoticeFields are frozen values: the same notices, the same zip
    cached = st.session_state.get("nt_zip_data")
    if cached is None or cached[0] != key:
        cached = (key, store.notices.zip_all(me, round_id, fields))
        st.session_state["nt_zip_data"] = cached
    c2.download_button(t("nt.all.download"), cached[1], file_name=f"notices_{pack_id}.zip", mime="application/zip",
                       key="nt_zip", icon=":material/folder_zip:")
    pdf_zip(me, round_id, pack_id, fields, key)
    preview_section(me, round_id, fields)
    outbox_section(me, round_id, fields)


__all__ = ["notices_section"]
