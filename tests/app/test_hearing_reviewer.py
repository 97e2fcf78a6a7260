"""The members' hearing forms with AppTest (issue 17): 担当案件's 「ヒアリング審査」 only at stage hearing and only
for shortlisted proposals the member is not conflicted with; the hearing form with the document-stage comments as
question prompts, autosave and submit; no form for a conflicted member; both languages. And the chair's
ヒアリング日程 page: settings saved, slots with the absent members, downloads."""

from __future__ import annotations

from datetime import date, time

from scoring.hearing_ranking import HearingParams
from tests.app.review_fixtures import app_as, no_exception, texts
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)

PACK = "autonomous_l4"
HEAR = ["plan_presentation", "safety_answers", "local_commitment"]     # autonomous_l4's hearing criteria


def chair(store):
    return store.users.get("C01")


def to_hearing(store) -> list[str]:
    """autonomous_l4 of the demo round moved to its hearing stage with the top 3 shortlisted; R04 is made
    conflicted with the first of them, whose document review by one reviewer carries a comment the prompts show."""
    c = chair(store)
    first = store.hearings.rank_hearing_round(c, 1, PACK, hearing=HearingParams(shortlist_method="top_n", n=3),
                                              strict=False).shortlist_ids()[0]
    # a submitted document review of it gets a comment (same levels: the scores and the cut do not change)
    done = next(r for r in store.reviews.list_reviews(c, 1, PACK) if r.proposal_id == first
                and r.status == "submitted")
    store.reviews.reopen(c, 1, first, done.reviewer, reason="コメントの追加")
    who = store.users.get(done.reviewer)
    review = store.reviews.get_review(who, 1, first)
    v = store.reviews.save_draft(who, 1, first, review.levels, {**review.comments, "service_need": "需要調査の規模は十分か"},
                                 review.bonus_marks, review.overall_comment, base_version=review.version)
    store.reviews.submit(who, 1, first, v)
    store.hearings.set_stage(c, 1, PACK, "shortlist", hearing=HearingParams(shortlist_method="top_n", n=3))
    shortlist = list(store.hearings.set_stage(c, 1, PACK, "hearing").shortlist)
    assert shortlist[0] == first
    # declared once the shortlist is fixed (a conflict before would change the document scores and the cut)
    store.assignments.set_conflict(c, 1, "R04", proposal_id=first, reason="共同研究先")
    return shortlist


def frame_with(at, column: str):
    """The first table showing ``column`` (None if none)."""
    return next((el.value for el in at.dataframe if column in el.value.columns), None)


def hearing_ids(at) -> set[str]:
    frame = frame_with(at, "事業")          # 「ヒアリング審査」's table names the programme
    return set() if frame is None else set(frame.iloc[:, 0])


def test_the_hearing_section_appears_only_at_stage_hearing_for_shortlisted_not_conflicted(store):
    at = app_as(store, "R01", "reviewer_home")
    no_exception(at)
    assert not any(p.startswith("L4-") for p in hearing_ids(at))      # document stage: no hearing form of L4
    shortlist = to_hearing(store)
    at = app_as(store, "R01", "reviewer_home")
    no_exception(at)
    assert "ヒアリング審査" in texts(at)
    assert {p for p in hearing_ids(at) if p.startswith("L4-")} == set(shortlist)
    assert set(frame_with(at, "事業")["状況"]) == {"未着手"}
    # R04 is conflicted with the first: it is not offered at all
    at = app_as(store, "R04", "reviewer_home")
    no_exception(at)
    assert {p for p in hearing_ids(at) if p.startswith("L4-")} == set(shortlist[1:])


def test_the_hearing_form_shows_the_prompts_autosaves_and_submits(store):
    shortlist = to_hearing(store)
    pid = shortlist[0]
    q = {"round": "1", "proposal": pid, "stage": "hearing"}
    at = app_as(store, "R02", "reviewer_scoring", query=q)
    no_exception(at)
    shown = texts(at)
    assert "書面審査での指摘（質問の参考）" in shown and "ヒアリング審査の評価" in shown
    prompts = [el.value for el in at.dataframe if "指摘" in el.value.columns]
    assert prompts and "需要調査の規模は十分か" in prompts[0]["指摘"].tolist()
    assert set(prompts[0]["委員"]) <= {f"委員{n}" for n in range(1, 10)}      # members see no names
    at.radio(key="rv_h_level_plan_presentation").set_value(4).run()
    me = store.users.get("R02")
    review = store.reviews.get_review(me, 1, pid, stage="hearing")
    assert review.status == "draft" and review.levels == {"plan_presentation": 4}
    at.text_area(key="rv_h_comment_plan_presentation").input("説明は明快").run()
    assert store.reviews.get_review(me, 1, pid, stage="hearing").comments == {"plan_presentation": "説明は明快"}
    # a hearing review, not a document one (R02 need not be assigned: the whole committee hears the slot)
    assert review.stage == "hearing"
    assert not [r for r in store.reviews.list_reviews(chair(store), 1, PACK) if r.reviewer == "R02"
                and r.proposal_id == pid]
    at.button(key="rv_h_submit").click().run()
    assert "次の項目が未評価です" in texts(at)
    for c in HEAR[1:]:
        at.radio(key=f"rv_h_level_{c}").set_value(3).run()
    at.button(key="rv_h_submit").click().run()
    at.button(key="rv_h_submit_confirm").click().run()
    no_exception(at)
    review = store.reviews.get_review(me, 1, pid, stage="hearing")
    assert review.status == "submitted" and review.levels == {"plan_presentation": 4, "safety_answers": 3,
                                                              "local_commitment": 3}
    assert at.radio(key="rv_h_level_plan_presentation").disabled


def test_a_stale_hearing_save_keeps_the_newer_content(store):
    pid = to_hearing(store)[1]
    q = {"round": "1", "proposal": pid, "stage": "hearing"}
    at = app_as(store, "R02", "reviewer_scoring", query=q)
    me = store.users.get("R02")
    store.reviews.save_draft(me, 1, pid, {"plan_presentation": 2}, base_version=0, stage="hearing")   # another tab
    at.radio(key="rv_h_level_plan_presentation").set_value(5).run()
    assert "別の画面" in texts(at) or "changed elsewhere" in texts(at)
    assert store.reviews.get_review(me, 1, pid, stage="hearing").levels == {"plan_presentation": 2}
    assert at.radio(key="rv_h_level_plan_presentation").value == 2


def test_a_conflicted_member_gets_no_form_even_by_address(store):
    pid = to_hearing(store)[0]
    at = app_as(store, "R04", "reviewer_scoring", query={"round": "1", "proposal": pid, "stage": "hearing"})
    no_exception(at)
    assert "指定された案件のヒアリング審査票はありません" in texts(at)
    assert pid not in texts(at)
    assert "需要調査の規模は十分か" not in str([el.value for el in at.dataframe])


def test_the_hearing_form_in_english(store):
    pid = to_hearing(store)[0]
    from streamlit.testing.v1 import AppTest  # noqa: F401  (the language is a session setting)

    store.users.set_language(store.users.get("R02"), "en")     # the member's stored choice (issue 14 item 6)
    at = app_as(store, "R02", "reviewer_scoring", query={"round": "1", "proposal": pid, "stage": "hearing"})
    at.run()
    no_exception(at)
    shown = texts(at)
    assert "Points raised in the document review (for questions)" in shown and "Hearing scores" in shown
    assert "書面審査での指摘" not in shown and "ヒアリング審査の評価" not in shown
    prompts = [el.value for el in at.dataframe if "Comment" in el.value.columns]
    assert prompts and set(prompts[0]["Member"]) <= {f"Member {n}" for n in range(1, 10)}


def test_the_chair_sets_the_timetable_and_downloads_it(store):
    shortlist = to_hearing(store)
    at = app_as(store, "C01", None)
    at.switch_page("app/pages/chair_timetable.py").run()
    at.selectbox(key="app_pack_pick").set_value(PACK).run()
    no_exception(at)
    assert "ヒアリング日程" in texts(at) and "まだ保存されていません" in texts(at)
    sfx = f"1_{PACK}"
    at.date_input(key=f"tt_date_{sfx}").set_value(date(2027, 2, 3))
    at.time_input(key=f"tt_time_{sfx}").set_value(time(10, 0))
    at.number_input(key=f"tt_slot_{sfx}").set_value(40)
    at.number_input(key=f"tt_break_{sfx}").set_value(10)
    at.multiselect(key=f"tt_order_{sfx}").set_value([shortlist[2]])
    at.button(key=f"FormSubmitter:tt_form_{sfx}-日程を保存").click().run()
    no_exception(at)
    tt = store.timetables.get_timetable(chair(store), 1, PACK)
    assert tt.stored and [s.proposal_id for s in tt.slots] == [shortlist[2], shortlist[0], shortlist[1]]
    assert [f"{s.start:%H:%M}–{s.end:%H:%M}" for s in tt.slots] == ["10:00–10:40", "10:50–11:30", "11:40–12:20"]
    table = frame_with(at, "欠席委員（理由）")
    assert table["時間"].tolist() == ["10:00–10:40", "10:50–11:30", "11:40–12:20"]
    absent = table.set_index("提案番号")["欠席委員（理由）"]
    assert "（利益相反）" in absent[shortlist[0]]
    assert [b for b in at.get("download_button") if b.proto.id and "tt_download_ics" in b.proto.id]
    # the member sees their own slots on 担当案件; R04 not the conflicted one
    at = app_as(store, "R04", "reviewer_home")
    slots = frame_with(at, "時間")
    assert slots["提案ID"].tolist() == [shortlist[2], shortlist[1]]
