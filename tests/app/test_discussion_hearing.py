"""委員間の議論 on the hearing form (issue 16 §8 on ヒアリング審査, 評価入力 ?stage=hearing): the same thread as the
document review, under the same review-visibility policy and conflict rules; the other members' hearing scores
under ``after_own_submit`` only once one's own hearing review is submitted.

Demo round 1, autonomous_l4 moved to its hearing stage (``to_hearing``: top 3 shortlisted, R04 conflicted with the
first). R02 has no document review of the first proposal; ``done`` is a member whose document review of it is
submitted."""

from __future__ import annotations

from tests.app.review_fixtures import app_as, no_exception, texts
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)
from tests.app.test_hearing_reviewer import HEAR, PACK, chair, to_hearing

OPEN_POST = "委員会への論点：安全管理の体制"
CHAIRS_POST = "委員長のみ：申請者の財務状況"


def _hearing_submit(store, username: str, pid: str, level: int) -> None:
    me = store.users.get(username)
    v = store.reviews.save_draft(me, 1, pid, {c: level for c in HEAR}, base_version=0, stage="hearing")
    store.reviews.submit(me, 1, pid, v, stage="hearing")


def _others_table(at, label: str):
    """The table of the other members' hearing scores (columns 委員 and the first hearing criterion), or None."""
    return next((el.value for el in at.dataframe if "委員" in el.value.columns and label in el.value.columns), None)


def test_the_hearing_form_has_the_discussion_under_the_policy_and_the_conflict_rules(store):
    pid = to_hearing(store)[0]
    pack = store.rounds.pack(1, PACK)
    label = pack.hearing.criteria[0].label.get("ja")
    c01 = chair(store)
    store.discussion.post(c01, 1, pid, OPEN_POST)
    store.discussion.post(c01, 1, pid, CHAIRS_POST, visibility="chairs")
    done = next(r.reviewer for r in store.reviews.list_reviews(c01, 1, PACK)
                if r.proposal_id == pid and r.status == "submitted")
    others = [u for u in ("R01", "R03", "R05") if u != done]
    _hearing_submit(store, others[0], pid, 4)          # another member's hearing review is in
    q = {"round": "1", "proposal": pid, "stage": "hearing"}

    # R02: on the committee, no document review of it, hearing review not submitted → nothing of the others
    at = app_as(store, "R02", "reviewer_scoring", query=q)
    no_exception(at)
    shown = texts(at)
    assert "委員間の議論" in shown and "他の委員のヒアリング審査の評価（提出済み）" in shown
    assert "自分の評価を提出すると" in shown
    assert OPEN_POST not in shown and CHAIRS_POST not in shown
    assert "他の委員の投稿が 1 件あります" in shown              # the chairs-only one is not even counted
    assert _others_table(at, label) is None
    # R02 submits the hearing review on the form: the committee's comment and the other's hearing scores
    for c in HEAR:
        at.radio(key=f"rv_h_level_{c}").set_value(3).run()
    at.button(key="rv_h_submit").click().run()
    at.button(key="rv_h_submit_confirm").click().run()
    no_exception(at)
    shown = texts(at)
    assert OPEN_POST in shown and CHAIRS_POST not in shown
    table = _others_table(at, label)
    assert table is not None and table[label].tolist() == [4]
    assert not {"R01", "R03", "R05", done} & set(table["委員"])     # anonymised as the pack says

    # the document reviewer: the thread (their document review is in), but not the others' hearing scores
    # before their own hearing review is submitted
    at = app_as(store, done, "reviewer_scoring", query=q)
    no_exception(at)
    shown = texts(at)
    assert OPEN_POST in shown and CHAIRS_POST not in shown
    assert _others_table(at, label) is None and "自分の評価を提出すると表示されます。" in shown
    assert store.discussion.others_reviews(store.users.get(done), 1, pid, stage="hearing") == []
    _hearing_submit(store, done, pid, 2)
    at = app_as(store, done, "reviewer_scoring", query=q)
    assert sorted(_others_table(at, label)[label].tolist()) == [3, 4]

    # a post from the hearing form reaches the thread
    at.text_area(key="disc_post_body").set_value("ヒアリングでの回答は十分")
    [post] = [b for b in at.button if b.label == "投稿"]
    post.click().run()
    no_exception(at)
    assert "ヒアリングでの回答は十分" in [c.body for c in store.discussion.thread(c01, 1, pid).comments]

    # R04 is conflicted with it: asked by address, no form and no thread of it (the page offers another one)
    at = app_as(store, "R04", "reviewer_scoring", query=q)
    no_exception(at)
    shown = texts(at)
    assert "指定された案件のヒアリング審査票はありません" in shown
    assert not [h for h in at.title if h.value.startswith(pid)]
    assert OPEN_POST not in shown and "ヒアリングでの回答は十分" not in shown
