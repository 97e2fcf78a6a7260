"""A chair with a conflict of interest (docs/security/coi.md): the audit view and its CSV, the proposal page and
the round export show them no reviewer's levels or comments of the conflicted proposal."""

from __future__ import annotations

from app.audit import audit_csv, audit_frame
from scoring.store import SYSTEM
from tests.app.review_fixtures import app_as, no_exception, texts
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)

SECRET = "AC-010 の秘密の所見"
OPEN = "L4-001 の所見"


def conflicted_chair(store):
    """C01 declares a conflict with AC-010; R06 then saves their draft of AC-010 with a comment, R01 one of
    L4-001 (which C01 may read)."""
    c01 = store.users.get("C01")
    store.assignments.declare_conflict(c01, 1, proposal_id="AC-010", reason="元所属")
    for who, pid, crit, text in (("R06", "AC-010", "feasibility", SECRET), ("R01", "L4-001", "service_need", OPEN)):
        me = store.users.get(who)
        pack = store.rounds.pack(1, store.rounds.get_proposal(SYSTEM, 1, pid).pack)
        assert crit in pack.criterion_ids
        base = store.reviews.get_review(me, 1, pid)
        store.reviews.save_draft(me, 1, pid, levels={crit: 3}, comments={crit: text}, base_version=base.version)
    return c01


def audit_rows(at) -> list[dict]:
    [frame] = [d for d in at.dataframe if "操作者" in d.value.columns]
    return frame.value.to_dict("records")


def test_the_audit_view_and_csv_withhold_the_content_of_a_conflicted_proposals_reviews(store):
    c01 = conflicted_chair(store)
    at = app_as(store, "C01", "admin_round")
    no_exception(at)
    rows = audit_rows(at)
    [ac] = [r for r in rows if r["提案ID"] == "AC-010" and r["操作"] == "下書き保存"]
    assert ac["操作者"] == "R06" and ac["対象委員"] == "R06"            # the line is there …
    assert "内容は非表示（利益相反）" in ac["変更内容"] and "feasibility" not in ac["変更内容"]   # … its content not
    [l4] = [r for r in rows if r["提案ID"] == "L4-001" and r["操作"] == "下書き保存"]
    assert OPEN in l4["変更内容"]
    assert SECRET not in str(rows)
    body = audit_csv(audit_frame(store.audit.query(c01, 1, limit=500))).decode("utf-8-sig")
    assert SECRET not in body and OPEN in body and "内容は非表示（利益相反）" in body


def test_the_proposal_page_shows_the_totals_but_no_reviewer_of_a_conflicted_proposal(store):
    conflicted_chair(store)
    at = app_as(store, "C01", "chair_proposal")
    at.selectbox(key="app_pack_pick").set_value("advanced_comms").run()
    at.selectbox(key="chair_detail_pick").set_value("AC-010").run()
    no_exception(at)
    shown = texts(at)
    assert "委員ごとの評価と所見は表示しません" in shown
    assert len(at.metric) == 5                                        # the aggregate figures stay
    assert not [d for d in at.dataframe if "委員" in d.value.columns]
    # no reviewer's comments (the only expander is what a needs_check judged, issue 14 §4)
    assert all(e.label.startswith("判断の材料") for e in at.expander) and SECRET not in shown
    # a proposal the chair is not conflicted with: the reviewers' levels as before
    at.selectbox(key="chair_detail_pick").set_value("AC-001").run()
    no_exception(at)
    assert [d for d in at.dataframe if "委員" in d.value.columns]


def test_a_conflicted_chair_is_told_why_the_round_cannot_be_exported(store):
    conflicted_chair(store)
    at = app_as(store, "C01", "admin_round")
    at.button(key="adm_export_prepare").click().run()
    no_exception(at)
    assert any("利益相反" in str(e.value) and "AC-010" in str(e.value) for e in at.error)
    assert not [b for b in at.get("download_button") if b.proto.id and "adm_export_download" in b.proto.id]
