"""The reviewer's pages with AppTest (issue 4 §3): my proposals, autosave, stale saves, submit, conflicts."""

from __future__ import annotations

from tests.app.review_fixtures import app_as, no_exception, texts
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)

L4 = ["service_need", "verification_items", "verification_environment", "remote_monitoring_safety", "rollout_plan"]
Q = {"round": "1", "proposal": "L4-001"}


def r01(store):
    return store.users.get("R01")


def test_my_proposals_lists_status_and_progress_without_conflicted(store):
    at = app_as(store, "R01", "reviewer_home")
    no_exception(at)
    shown = texts(at)
    assert "担当案件" in shown
    assert "未着手 3" in shown and "提出済 61" in shown          # the demo leaves R01 three to do
    assert at.get("progress")
    # R03 is conflicted with L4-006: it is not in R03's list at all
    at = app_as(store, "R03", "reviewer_home")
    frames = [el.value for el in at.dataframe]
    ids = set().union(*[set(df.iloc[:, 0]) for df in frames])
    assert "L4-001" in ids and "L4-006" not in ids


def test_open_button_goes_to_the_scoring_page(store):
    at = app_as(store, "R01", "reviewer_home")
    at.selectbox(key="rv_home_pick_1").set_value("L4-003")
    at.button(key="rv_home_open_1").click().run()
    no_exception(at)
    assert "L4-003" in texts(at)
    assert at.radio(key="rv_level_service_need").value is None


def test_autosave_level_and_comment_survive_a_new_session(store):
    at = app_as(store, "R01", "reviewer_scoring", query=Q)
    no_exception(at)
    at.radio(key="rv_level_service_need").set_value(4).run()
    review = store.reviews.get_review(r01(store), 1, "L4-001")
    assert review.status == "draft" and review.levels == {"service_need": 4}
    at.text_area(key="rv_comment_service_need").input("課題設定は明確。").run()
    review = store.reviews.get_review(r01(store), 1, "L4-001")
    assert review.comments == {"service_need": "課題設定は明確。"} and review.levels == {"service_need": 4}
    assert "下書きを保存しました" in texts(at)
    # a brand-new session (a reload, another browser) finds the draft
    again = app_as(store, "R01", "reviewer_scoring", query=Q)
    assert again.radio(key="rv_level_service_need").value == 4
    assert again.text_area(key="rv_comment_service_need").value == "課題設定は明確。"
    assert again.radio(key="rv_level_rollout_plan").value is None


def test_stale_save_shows_the_newer_content_and_never_overwrites(store):
    at = app_as(store, "R01", "reviewer_scoring", query=Q)          # this screen holds version 0
    me = r01(store)
    store.reviews.save_draft(me, 1, "L4-001", levels={"service_need": 2}, comments={"service_need": "別の画面"},
                             base_version=0)                        # another tab saves first
    at.radio(key="rv_level_service_need").set_value(5).run()
    no_exception(at)
    review = store.reviews.get_review(me, 1, "L4-001")
    assert review.levels == {"service_need": 2} and review.version == 1  # nothing overwritten
    assert any("別の画面で変更されました" in str(w.value) for w in at.warning)
    assert at.radio(key="rv_level_service_need").value == 2             # the newer content is shown
    assert at.text_area(key="rv_comment_service_need").value == "別の画面"
    # editing now continues from the newer version
    at.radio(key="rv_level_verification_items").set_value(3).run()
    assert store.reviews.get_review(me, 1, "L4-001").levels == {"service_need": 2, "verification_items": 3}


def test_submit_checks_completeness_then_asks_for_confirmation(store):
    me = r01(store)
    at = app_as(store, "R01", "reviewer_scoring", query=Q)
    at.radio(key="rv_level_service_need").set_value(4).run()
    at.button(key="rv_submit").click().run()
    assert any("未評価" in str(e.value) for e in at.error)
    assert not [b for b in at.button if b.key == "rv_submit_confirm"]
    assert store.reviews.get_review(me, 1, "L4-001").status == "draft"
    for cid in L4[1:]:
        at.radio(key=f"rv_level_{cid}").set_value(3).run()
    at.button(key="rv_submit").click().run()
    assert store.reviews.get_review(me, 1, "L4-001").status == "draft"   # not before confirming
    at.button(key="rv_submit_cancel").click().run()
    assert store.reviews.get_review(me, 1, "L4-001").status == "draft"
    at.button(key="rv_submit").click().run()
    at.button(key="rv_submit_confirm").click().run()
    no_exception(at)
    review = store.reviews.get_review(me, 1, "L4-001")
    assert review.status == "submitted" and review.levels == {"service_need": 4, **{c: 3 for c in L4[1:]}}
    assert at.radio(key="rv_level_service_need").disabled                # read-only now
    again = app_as(store, "R01", "reviewer_scoring", query=Q)
    assert again.radio(key="rv_level_rollout_plan").disabled and again.radio(key="rv_level_rollout_plan").value == 3
    assert not [b for b in again.button if b.key == "rv_submit"]


def test_judged_bonus_mark_is_autosaved(store):
    at = app_as(store, "R01", "reviewer_scoring", query={"round": "1", "proposal": "AC-002"})
    no_exception(at)
    at.radio(key="rv_bonus_shared_use").set_value(1).run()
    assert store.reviews.get_review(r01(store), 1, "AC-002").bonus_marks == {"shared_use": 1}


def test_declaring_a_conflict_removes_the_proposal_and_tells_the_chair(store):
    at = app_as(store, "R01", "reviewer_scoring", query={"round": "1", "proposal": "L4-003"})
    at.text_input(key="rv_conflict_reason").input("申請者と共同研究中").run()
    at.checkbox(key="rv_conflict_confirm").check().run()
    at.button(key="rv_conflict_declare").click().run()
    no_exception(at)
    assert any("利益相反を申告しました" in str(s.value) for s in at.success)
    mine = {a.proposal_id: a.status for a in store.assignments.list_assignments_for(r01(store))}
    assert mine["L4-003"] == "conflict"
    chair = store.users.get("C01")
    assert any(c.reviewer == "R01" and c.proposal_id == "L4-003" and c.source == "declared"
               for c in store.assignments.list_conflicts(chair, 1))
    home = app_as(store, "R01", "reviewer_home")
    assert "L4-003" not in set(home.selectbox(key="rv_home_pick_1").options)
    chair_view = app_as(store, "C01", "chair_progress")
    assert "申請者と共同研究中" in chair_view.dataframe[-1].value.to_string()


def test_english_switch_on_the_scoring_page(store):
    at = app_as(store, "R01", "reviewer_scoring", query=Q)
    at.radio(key="lang").set_value("en").run()
    no_exception(at)
    assert "Overall comment" in [w.label for w in at.text_area]


def test_locked_round_stays_listed_and_readable(store):
    """After the chair locks the round a reviewer still finds their reviews (read-only), not an empty list."""
    chair = store.users.get("C01")
    store.rounds.lock_round(chair, 1)
    at = app_as(store, "R01", "reviewer_home")
    no_exception(at)
    assert "確定済み" in texts(at) and "提出済 61" in texts(at)
    assert any(o.startswith("L4-002") for o in at.selectbox(key="rv_home_pick_1").options)
    page = app_as(store, "R01", "reviewer_scoring", query={"round": "1", "proposal": "L4-002"})
    no_exception(page)
    level = page.radio(key="rv_level_service_need")
    assert level.disabled and level.value == store.reviews.get_review(r01(store), 1, "L4-002").levels["service_need"]


def test_my_proposals_shows_the_deadline_with_days_left(store):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    at = app_as(store, "R01", "reviewer_home")
    assert "評価締切" not in texts(at) and "事務局からの案内" in texts(at)    # none set yet
    day = datetime.now(ZoneInfo("Asia/Tokyo")).date() + timedelta(days=10)
    store.rounds.set_deadline(store.users.get("C01"), 1, day)
    at = app_as(store, "R01", "reviewer_home")
    no_exception(at)
    assert f"評価締切：{day:%Y-%m-%d}" in texts(at) and "あと 10 日" in texts(at)
    store.rounds.set_deadline(store.users.get("C01"), 1, day - timedelta(days=12))
    assert "締切を 2 日過ぎています" in texts(app_as(store, "R01", "reviewer_home"))


def test_chair_sets_the_deadline_on_the_admin_page(store):
    from datetime import date

    at = app_as(store, "C01", "admin_round")
    at.date_input(key="adm_deadline_1").set_value(date(2027, 1, 15)).run()
    at.button(key="adm_deadline_set").click().run()
    no_exception(at)
    assert store.rounds.get_round(store.users.get("C01"), 1).deadline == date(2027, 1, 15)
    assert any(e.action == "round.deadline" for e in store.audit.query(store.users.get("C01"), 1))


def test_next_button_opens_the_next_proposal_still_to_score(store):
    """After submitting, 「次の未提出の提案へ」 opens the next assigned proposal (list order, wrapping) that is
    neither submitted nor conflicted; with none left the page says every one is submitted."""
    me = r01(store)
    items = store.assignments.list_assignments_for(me, 1)
    open_ids = [a.proposal_id for a in items if a.status not in ("conflict", "submitted")]
    assert len(open_ids) >= 2
    first, second = open_ids[0], open_ids[1]
    at = app_as(store, "R01", "reviewer_scoring", query={"round": "1", "proposal": first})
    no_exception(at)
    button = at.button(key="rv_next")
    assert second in button.label
    button.click().run()
    no_exception(at)
    assert second in str(at.query_params["proposal"])
    assert at.selectbox(key="rv_pick").value == (1, second)
    assert second in texts(at)
    # submit every other open one: then the page says all are submitted
    for a in items:
        if a.status in ("conflict", "submitted") or a.proposal_id == second:
            continue
        r = store.reviews.get_review(me, 1, a.proposal_id)
        p = store.rounds.pack(1, store.rounds.get_proposal(me, 1, a.proposal_id).pack)
        v = store.reviews.save_draft(me, 1, a.proposal_id, levels={c.id: 3 for c in p.criteria},
                                     bonus_marks={b.id: 0 for b in p.judged_bonuses}, base_version=r.version)
        store.reviews.submit(me, 1, a.proposal_id, version=v)
    last = app_as(store, "R01", "reviewer_scoring", query={"round": "1", "proposal": second})
    assert not [b for b in last.button if b.key == "rv_next"]
    assert any("すべて提出済み" in str(s.value) for s in last.success)
