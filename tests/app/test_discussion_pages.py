"""委員間の議論 on the pages (issue 16 §7–9): a reviewer before and after their own submission, a conflicted member,
the chair with chairs-only comments, new-discussion notes, posting from the page and the chair's policy setting.

Demo round 1: AC-002 is assigned to R01 (nothing saved) and to R02, R04, R05, R06 (submitted)."""

from __future__ import annotations

from scoring.store import SYSTEM
from tests.app.review_fixtures import app_as, no_exception, texts
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)

Q = {"round": "1", "proposal": "AC-002"}
OPEN_POST = "R02の意見：#feasibility の根拠が弱い"
CHAIRS_POST = "R02から委員長へ：申請者の過去案件について"


def _posts(store):
    r02 = store.users.get("R02")
    store.discussion.post(r02, 1, "AC-002", OPEN_POST)
    store.discussion.post(r02, 1, "AC-002", CHAIRS_POST, visibility="chairs")


def _submit_r01(store):
    r01 = store.users.get("R01")
    pack = store.rounds.pack(1, "advanced_comms")
    base = store.reviews.get_review(r01, 1, "AC-002")
    v = store.reviews.save_draft(r01, 1, "AC-002", levels={c: 3 for c in pack.criterion_ids},
                                 base_version=base.version)
    store.reviews.submit(r01, 1, "AC-002", v)


def test_a_reviewer_sees_the_thread_and_others_scores_only_after_their_own_submit(store):
    _posts(store)
    at = app_as(store, "R01", "reviewer_scoring", query=Q)
    no_exception(at)
    shown = texts(at)
    assert "委員間の議論" in shown and "自分の評価を提出すると" in shown
    assert "R02の意見" not in shown and CHAIRS_POST not in shown
    assert "他の委員の投稿が 1 件あります" in shown                 # the chairs-only one is not even counted
    assert not [d for d in at.dataframe if "委員" in d.value.columns]
    _submit_r01(store)
    home = app_as(store, "R01", "reviewer_home")
    assert "新しい議論があります：AC-002（1件）" in texts(home)
    at = app_as(store, "R01", "reviewer_scoring", query=Q)
    no_exception(at)
    shown = texts(at)
    assert "R02の意見" in shown and CHAIRS_POST not in shown
    assert "新着" in shown
    # the criterion mentioned by id is shown with its label
    label = next(c for c in store.rounds.pack(1, "advanced_comms").criteria if c.id == "feasibility").label.get("ja")
    assert f"\\#{label} の根拠が弱い" in shown                    # (Markdown-escaped: the text is shown as typed)
    [others] = [d for d in at.dataframe if "委員" in d.value.columns]
    assert len(others.value) == 4                                  # R02, R04, R05, R06, anonymised
    assert not {"R02", "R04", "R05", "R06"} & set(others.value["委員"])
    # having looked, nothing is new any more
    assert "新しい議論があります" not in texts(app_as(store, "R01", "reviewer_home"))


def test_a_reviewer_posts_from_the_page_and_another_sees_it(store):
    _submit_r01(store)
    at = app_as(store, "R01", "reviewer_scoring", query=Q)
    at.text_area(key="disc_post_body").set_value("R01の投稿です")
    at.multiselect(key="disc_post_criteria").set_value(["feasibility"])
    [post] = [b for b in at.button if b.label == "投稿"]
    post.click().run()
    no_exception(at)
    assert "R01の投稿です" in texts(at)
    [c] = store.discussion.thread(store.users.get("C01"), 1, "AC-002").comments
    assert c.author == "R01" and c.criteria == ("feasibility",) and c.visibility == "committee"
    other = app_as(store, "R02", "reviewer_scoring", query=Q)
    assert "R01の投稿です" in texts(other)


def test_a_conflicted_member_sees_nothing_of_the_discussion(store):
    _posts(store)
    r06 = store.users.get("R06")
    store.assignments.declare_conflict(r06, 1, proposal_id="AC-002", reason="共同研究")
    at = app_as(store, "R06", "reviewer_scoring", query=Q)
    no_exception(at)
    shown = texts(at)
    assert "R02の意見" not in shown and CHAIRS_POST not in shown and "委員間の議論" not in shown
    assert "AC-002" not in texts(app_as(store, "R06", "reviewer_home"))
    # a conflicted chair: the section says why and shows no post
    c01 = store.users.get("C01")
    store.assignments.declare_conflict(c01, 1, proposal_id="AC-002", reason="元所属")
    chair = app_as(store, "C01", "chair_proposal")
    chair.selectbox(key="app_pack_pick").set_value("advanced_comms").run()
    chair.selectbox(key="chair_detail_pick").set_value("AC-002").run()
    no_exception(chair)
    shown = texts(chair)
    assert "利益相反のため、この提案の議論" in shown
    assert "R02の意見" not in shown and CHAIRS_POST not in shown and "AC-002（" not in shown


def test_the_chair_sees_chairs_only_comments_and_the_new_discussion_note(store):
    _posts(store)
    at = app_as(store, "C01", "chair_proposal")
    no_exception(at)
    assert "新しい議論があります：AC-002（2件）" in texts(at)
    at.selectbox(key="app_pack_pick").set_value("advanced_comms").run()
    at.selectbox(key="chair_detail_pick").set_value("AC-002").run()
    no_exception(at)
    shown = texts(at)
    assert "R02の意見" in shown and CHAIRS_POST in shown and "委員長のみ" in shown


def test_the_chair_sets_the_rounds_policy_on_round_administration(store):
    _posts(store)
    at = app_as(store, "C01", "admin_round")
    at.selectbox(key="disc_setting_1").set_value("always").run()
    [b] = [b for b in at.button if b.key == "disc_setting_save"]
    b.click().run()
    no_exception(at)
    assert store.rounds.get_round(SYSTEM, 1).review_visibility == "always"
    assert [e.action for e in store.audit.query(SYSTEM, 1, entity="round")][0] == "round.visibility"
    # R01 has not submitted, and now sees the committee's comments
    shown = texts(app_as(store, "R01", "reviewer_scoring", query=Q))
    assert "R02の意見" in shown and CHAIRS_POST not in shown
