"""The chair's side of the hearing stage (issue 17, stages.md) as the pages show it: a pack's stage in words, the
shortlist what-if (the method's cut on the document ranking, the stored edits that fit it and those that do not),
the final ranking's table and the list of shortlist edits. Used by 審査段階・ヒアリング対象
(``app/pages/chair_stage.py``) and 順位・採択 (``app/pages/chair_ranking.py``); every figure comes from
:func:`scoring.stages.rank_hearing` (through :meth:`scoring.call.Call.rank_hearing`), every rule is the store's.

The what-if of the method (a decision the issue left open, docs/app.md): the stored edits are applied in order to
the what-if's cut; an edit that no longer fits it (adding a proposal the cut now holds, removing one it no longer
holds) is left out of the preview and named, with why, and fixing the shortlist with that method is refused by
the store until the method fits the edits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import streamlit as st

from scoring.hearing_ranking import HearingParams, HearingRanking, ShortlistEdit
from scoring.models import Stage
from scoring.money import round_half_up
from scoring.store.hearings import EDITS_SOURCE, PackStage, params_from_json
from scoring.store.times import local_time

from .i18n import t
from .session import get_store, round_call
from .table_money import money_column, table_money

HEARING_STAGES = (Stage.hearing, Stage.decided)    # the stages whose ranking is the final (two-stage) one
IN_MARK, OUT_MARK = "○", "—"


def stage_label(stage: str, lang: str | None = None) -> str:
    return t(f"pack_stage.{stage}", lang)


def method_label(method: str, lang: str | None = None) -> str:
    return t(f"shortlist_method.{method}", lang)


def stage_steps(info: PackStage) -> str:
    """The pack's stages as one line, the current one in bold (a pack without hearing: 書面審査 → 決定)."""
    order = [Stage.document, Stage.shortlist, Stage.hearing, Stage.decided] if info.has_hearing else \
        [Stage.document, Stage.decided]
    return "　→　".join(f"**【{stage_label(s)}】**" if s == info.stage else stage_label(s) for s in order)


@dataclass
class HearingState:
    """What the chair's pages read of one pack's hearing stage: its stage, the call (cached per round state),
    the stored edits and the hearing parameters in force (stored with the stage, else the pack's)."""

    info: PackStage
    call: object
    resolutions: dict
    edits: list[ShortlistEdit]
    params: HearingParams | None

    @property
    def final(self) -> bool:
        """The ranking of this pack is the two-stage one (the shortlist is fixed)."""
        return self.info.has_hearing and self.info.stage in HEARING_STAGES


def hearing_state(me, round_id: int, pack_id: str, marker: int | None = None) -> HearingState:
    """The chair's view of a pack's hearing stage (the call is :func:`app.session.round_call`'s)."""
    store = get_store()
    info = store.hearings.get_stage(me, round_id, pack_id)
    call, resolutions = round_call(me, round_id, pack_id, marker)
    if not info.has_hearing:
        return HearingState(info, call, resolutions, [], None)
    params = params_from_json(info.hearing_params) if info.hearing_params else HearingParams.from_pack(call.pack)
    return HearingState(info, call, resolutions, store.hearings.list_edits(me, round_id, pack_id), params)


def rank_with(state: HearingState, hearing: HearingParams | None = None, whatif=None) -> HearingRanking:
    """Both stages with the stored edits: ``hearing`` a what-if of the method (None: the parameters in force),
    ``whatif`` the ranking page's what-if (None: the pack's own). Edits that no longer fit are left out and named
    (``refused_edits``); hearing reviews of proposals a what-if leaves out are left out too."""
    return state.call.rank_hearing(whatif, state.edits, hearing or state.params, state.resolutions,
                                   edits_source=EDITS_SOURCE, strict=False, lenient_edits=True)


# --- words -------------------------------------------------------------------------------------------------------

def action_label(action: str) -> str:
    return t(f"chair.stage.action.{action}") if action in ("add", "remove") else str(action)


def refusal_text(edit: ShortlistEdit, codes: list[str]) -> str:
    """One refused edit in the user's language: which, and why (stages.md §2's refusals)."""
    why = t("common.list_sep").join(t(f"chair.stage.refusal.{c}") for c in codes)
    return t("chair.stage.refused_edit", action=action_label(edit.action), id=edit.proposal_id, why=why)


def edit_time(edit: ShortlistEdit) -> str:
    return local_time(datetime.fromisoformat(edit.at), "%Y-%m-%d %H:%M") if edit.at else ""


# --- tables ------------------------------------------------------------------------------------------------------

def cut_table(h: HearingRanking, lang: str) -> pd.DataFrame:
    """The document ranking with the shortlist on it (stages.md §2), in document order: document rank, proposal,
    S_d, funded, in/out and why; a separator row where the method's cut ends (when the cut is the top of the
    ranked order — the ``line`` method may skip one that does not fit the budget)."""
    d = h.document
    rows = []
    for i in d.order.tolist():
        edit = h.edits.get(i)
        inside = bool(h.shortlisted[i])
        if edit is not None and edit.action == "add":
            why = t("chair.stage.why.added", lang, reason=edit.reason)
        elif edit is not None:
            why = t("chair.stage.why.removed", lang, reason=edit.reason)
        elif inside:
            why = t("chair.stage.why.cut", lang, method=method_label(h.hearing_params.shortlist_method, lang))
        elif d.rank[i] > 0:
            why = t("chair.stage.why.below_cut", lang)
        else:
            why = t("chair.stage.why.not_qualifying", lang, decision=t(f"decision.{d.decisions()[i].value}", lang))
        rows.append({"rank": int(d.rank[i]) or None, "id": str(h.table.ids[i]), "title": h.table.proposals[i].title,
                     "score": float(round_half_up(d.total[i])), "funded": int(d.funded[i]),
                     "in": f"{IN_MARK} {t('chair.stage.in', lang)}" if inside
                     else f"{OUT_MARK} {t('chair.stage.out', lang)}",
                     "why": why})
    frame = pd.DataFrame(rows, columns=["rank", "id", "title", "score", "funded", "in", "why"])
    frame = frame.astype({"rank": "Int64", "funded": "Int64"})
    ranked = d.order[d.rank[d.order] > 0]
    k = int(h.cut.sum())
    if 0 < k < len(ranked) and h.cut[ranked[:k]].all():          # the cut is the top k: draw where it falls
        line = pd.DataFrame({"id": ["━━━━"], "title": [t("chair.stage.cut_row", lang, n=k)], "in": [""], "why": [""]})
        frame = pd.concat([frame.iloc[:k], line, frame.iloc[k:]], ignore_index=True)
        frame = frame.astype({"rank": "Int64", "funded": "Int64"})
    if h.budget_view().unit == "yen":   # 万円 in Japanese, yen in English; still numbers (sortable)
        frame["funded"] = table_money(frame["funded"], lang)
    return frame.rename(columns=cut_labels(h, lang))


def cut_labels(h: HearingRanking, lang: str) -> dict[str, str]:
    money = "_yen" if h.budget_view().unit == "yen" else ""
    return {"rank": t("chair.stage.col.document_rank", lang), "id": t("chair.col_id", lang),
            "title": t("chair.col_title", lang), "score": t("chair.stage.col.document_score", lang),
            "funded": t(f"chair.col_funded{money}", lang), "in": t("chair.stage.col.in", lang),
            "why": t("chair.stage.col.why", lang)}


def cut_config(h: HearingRanking, lang: str) -> dict:
    c = st.column_config
    label = cut_labels(h, lang)
    amount = money_column(lang) if h.budget_view().unit == "yen" else c.NumberColumn(format="localized")
    return {label["rank"]: c.NumberColumn(format="%d", width="small"), label["id"]: c.TextColumn(width="small"),
            label["title"]: c.TextColumn(width="medium"), label["score"]: c.NumberColumn(format="%.2f", width="small"),
            label["funded"]: amount, label["in"]: c.TextColumn(width="medium"),
            label["why"]: c.TextColumn(width="large")}


def final_table(h: HearingRanking, lang: str, decision_text) -> pd.DataFrame:
    """The final ranking (stages.md §4–5) in final order: final rank, proposal, decision (waitlist number),
    書面 score B_d, ヒアリング score B_h, final S, counted hearing reviews, funded, cumulative, reasons — a
    separator row where the funding line falls. ``decision_text(value, waitlist)`` words a decision."""
    c = h.display_columns(lang)
    o = h.order
    hb = h.hearing_base[o].astype(float)
    hb = np.where(h.shortlisted[o], hb, np.nan)
    frame = pd.DataFrame({
        "rank": pd.array(c["rank"], dtype="Int64"), "id": c["id"], "title": c["title"],
        "decision": [decision_text(d.value, w) for d, w in zip(c["decision"], c["waitlist_position"].tolist())],
        "document": c["base"], "hearing": round_half_up(hb),
        "total": c["total"], "n_hearing": pd.array(np.where(h.shortlisted[o], h.hearing_agg.n_reviews[o], 0),
                                                   dtype="Int64"),
        "funded": pd.array(c["funded"], dtype="Int64"), "cumulative": pd.array(c["cumulative"], dtype="Int64"),
        "reasons": c["reasons"]})
    frame.loc[frame["rank"] == 0, "rank"] = pd.NA
    frame.loc[frame["cumulative"] == 0, "cumulative"] = pd.NA
    frame.loc[~h.shortlisted[o], "n_hearing"] = pd.NA
    at = h.funding_line
    if at is not None and at < int((c["rank"] > 0).sum()):
        line = pd.DataFrame({"id": ["━━━━"], "decision": [t("chair.funding_line_row", lang)], "title": [""],
                             "reasons": [""]})
        frame = pd.concat([frame.iloc[:at], line, frame.iloc[at:]], ignore_index=True)
        frame = frame.astype({"rank": "Int64", "n_hearing": "Int64", "funded": "Int64", "cumulative": "Int64"})
    if h.budget_view().unit == "yen":   # 万円 in Japanese, yen in English; still numbers (sortable)
        frame["funded"], frame["cumulative"] = table_money(frame["funded"], lang), table_money(frame["cumulative"], lang)
    return frame.rename(columns=final_labels(h, lang))


def final_labels(h: HearingRanking, lang: str) -> dict[str, str]:
    money = "_yen" if h.budget_view().unit == "yen" else ""
    return {"rank": t("chair.hearing.col.final_rank", lang), "id": t("chair.col_id", lang),
            "title": t("chair.col_title", lang), "decision": t("chair.col_decision", lang),
            "document": t("chair.hearing.col.document", lang), "hearing": t("chair.hearing.col.hearing", lang),
            "total": t("chair.hearing.col.final", lang), "n_hearing": t("chair.hearing.col.n_hearing", lang),
            "funded": t(f"chair.col_funded{money}", lang), "cumulative": t(f"chair.col_cumulative{money}", lang),
            "reasons": t("chair.reasons.reason", lang)}


def final_config(h: HearingRanking, lang: str) -> dict:
    c = st.column_config
    label = final_labels(h, lang)
    score_col = c.NumberColumn(format="%.2f", width="small")
    amount = money_column(lang) if h.budget_view().unit == "yen" else c.NumberColumn(format="localized")
    return {label["rank"]: c.NumberColumn(format="%d", width="small"), label["id"]: c.TextColumn(width="small"),
            label["title"]: c.TextColumn(width="medium"), label["decision"]: c.TextColumn(width="medium"),
            label["document"]: score_col, label["hearing"]: score_col, label["total"]: score_col,
            label["n_hearing"]: c.NumberColumn(format="%d", width="small"),
            label["funded"]: amount,
            label["cumulative"]: amount,
            label["reasons"]: c.TextColumn(width="large")}


def edits_table(edits: list[ShortlistEdit], names: dict[str, str], lang: str) -> pd.DataFrame:
    """The chair's shortlist edits in order: when (JST), who, what, which proposal, why."""
    return pd.DataFrame([{t("chair.stage.edit.at", lang): edit_time(e),
                          t("chair.stage.edit.by", lang): names.get(e.by or "") or e.by or "",
                          t("chair.stage.edit.action", lang): action_label(e.action),
                          t("chair.col_id", lang): e.proposal_id, t("chair.reasons.reason", lang): e.reason}
                         for e in edits],
                        columns=[t(k, lang) for k in ("chair.stage.edit.at", "chair.stage.edit.by",
                                                      "chair.stage.edit.action", "chair.col_id",
                                                      "chair.reasons.reason")])


def shortlist_changes(h: HearingRanking, fixed: tuple[str, ...] | None) -> tuple[list[str], list[str]]:
    """The proposals a what-if shortlists beyond the fixed shortlist, and those it leaves out of it."""
    if fixed is None:
        return [], []
    now = h.shortlist_ids()
    return [p for p in now if p not in fixed], [p for p in fixed if p not in now]

