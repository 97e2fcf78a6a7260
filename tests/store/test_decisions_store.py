"""store.decisions and store.notices on SQLite and PostgreSQL (decisions.md §2–5, issue 18 item 3) over the worked
example of tests/data/decisions-small (README there: the figures computed by hand)."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import pytest
from docx import Document

from scoring.errors import InputError
from scoring.store import SYSTEM, ConflictOfInterest, PermissionDenied, ReviewLocked, RoundLocked
from scoring.store.decisions import DecisionsConfirmed, StaleDecision

from .test_hearing_stage import TOP2, heard_round  # noqa: F401  (heard_round: a fixture)

D = Path(__file__).resolve().parent.parent / "data" / "decisions-small"
INTERNAL = "内部メモ：申請者には伝えない"     # R1's internal comment on D-6 (reviews.csv)


@pytest.fixture
def dround(store):
    r = store.rounds.create_round(SYSTEM, "令和8年度 1次公募", [D / "pack.yaml"])
    store.rounds.import_files(SYSTEM, r.id, D / "proposals.json", D / "reviewers.csv", D / "reviews.csv")
    return r.id


@pytest.fixture
def chair2(store):
    return store.users.add_user(SYSTEM, "chair2", "副委員長", "chair", "chair-password-2")


def _worked_example(store, who, rid):
    store.decisions.set_edit(who, rid, None, "D-1", approved_cost_yen="5000万1999円", reason="基地局の追加分を査定（減額）")
    store.decisions.set_edit(who, rid, None, "D-3", decision="adopted_conditional",
                             conditions="実証フィールドの使用許可を交付申請までに取得", reason="使用許可が未取得")
    store.decisions.set_edit(who, rid, None, "D-4", decision="adopted", reason="補欠繰上げ（減額による予算残）")


def _docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    parts += [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join(parts)


def test_proposed_edit_confirm_version_and_lock(store, chair, dround):
    b = store.decisions.board(chair, dround)
    assert b.decisions.budget_dict() == {"total_yen": 100_000_000, "awarded_yen": 95_000_000, "remaining_yen": 5_000_000}
    assert not b.decisions.departure.any() and b.confirmed is None
    store.decisions.set_edit(chair, dround, None, "D-1", approved_cost_yen="5000万1999円", reason="減額")
    b = store.decisions.board(chair, dround)
    d4 = b.decisions.ranking.table.index_of()["D-4"]
    assert b.decisions.promotion_candidate() == d4          # 20,000,000 freed: the first reserve that fits
    store.decisions.set_edit(chair, dround, None, "D-3", decision="adopted_conditional",
                             conditions="使用許可を取得", reason="未取得")
    store.decisions.set_edit(chair, dround, None, "D-4", decision="adopted", reason="補欠繰上げ（減額による予算残）")
    assert store.decisions.check(chair, dround) == []
    v = store.decisions.confirm(chair, dround)
    assert v.version == 1 and v.budget["awarded_yen"] == 100_000_000 and v.budget["remaining_yen"] == 0
    res = {x["proposal_id"]: x for x in v.results}
    assert res["D-1"]["awarded_yen"] == 25_000_000 and res["D-1"]["reduced"] and res["D-1"]["by"] == "chair"
    assert res["D-4"]["decision"] == "adopted" and res["D-4"]["departure"]
    assert store.rounds.get_round(chair, dround).status == "locked"
    # locked: decisions, reviews, resolutions, stage moves and unlocking are refused
    with pytest.raises(DecisionsConfirmed):
        store.decisions.set_edit(chair, dround, None, "D-5", decision="not_adopted", reason="x", base_version=0)
    with pytest.raises(DecisionsConfirmed):
        store.decisions.confirm(chair, dround)
    with pytest.raises(RoundLocked):
        store.rounds.unlock_round(chair, dround)
    with pytest.raises(RoundLocked):
        store.hearings.set_stage(chair, dround, None, "decided")
    with pytest.raises(RoundLocked):
        store.rounds.resolve_needs_check(chair, dround, "D-2", "anything", "pass")
    r1 = store.users.add_user(SYSTEM, "R1x", "x", "reviewer", "reviewer-password-1")
    with pytest.raises((RoundLocked, ReviewLocked, PermissionDenied)):
        store.reviews.save_draft(r1, dround, "D-1", {"a": 3})
    # reopen needs a reason; then edits and a second version
    with pytest.raises(InputError) as exc:
        store.decisions.reopen(chair, dround, None, "  ")
    assert "reason" in str(exc.value)
    store.decisions.reopen(chair, dround, None, "金額の再査定")
    assert store.decisions.confirmed(chair, dround) is None
    edit = store.decisions.board(chair, dround).edits["D-3"]
    store.decisions.set_edit(chair, dround, None, "D-3", decision="adopted_conditional", conditions="使用許可を取得",
                             reason="未取得（再査定後も同じ）", base_version=edit.version)
    v2 = store.decisions.confirm(chair, dround)
    assert v2.version == 2
    versions = store.decisions.versions(chair, dround)
    assert [x.version for x in versions] == [1, 2] and versions[0].reopen_reason == "金額の再査定"
    actions = {e.action for e in store.audit.query(SYSTEM, dround)}
    assert {"decision.set", "decision.confirm", "decision.reopen"} <= actions


def test_confirm_refused_with_every_problem(store, chair, dround):
    store.decisions.set_edit(chair, dround, None, "D-4", decision="adopted", reason="補欠繰上げ")     # over budget
    store.decisions.set_edit(chair, dround, None, "D-5", decision="not_adopted")                  # no reason
    with pytest.raises(InputError) as exc:
        store.decisions.confirm(chair, dround)
    fields = {p.field for p in exc.value.problems}
    assert {"(budget)", "reason"} <= fields
    assert "exceeds the budget" in str(exc.value)
    assert store.decisions.versions(chair, dround) == []
    assert store.rounds.get_round(chair, dround).status == "open"


def test_conflicted_chair_refused_and_stale_edit(store, chair, chair2, dround):
    store.rounds.add_reviewer(SYSTEM, dround, "chair", role="chair")
    store.assignments.set_conflict(SYSTEM, dround, "chair", proposal_id="D-2", reason="役員を兼務")
    with pytest.raises(ConflictOfInterest):
        store.decisions.set_edit(chair, dround, None, "D-2", decision="not_adopted", reason="x")
    assert "D-2" in store.decisions.board(chair, dround).conflicted
    # another chair records it
    e = store.decisions.set_edit(chair2, dround, None, "D-2", decision="adopted", conditions="", reason="条件を外す")
    assert e.version == 1
    with pytest.raises(StaleDecision):       # chair2 again from the old version 0
        store.decisions.set_edit(chair2, dround, None, "D-2", decision="not_adopted", reason="y", base_version=0)
    store.decisions.set_edit(chair2, dround, None, "D-2", decision="not_adopted", reason="y", base_version=1)
    jimu = store.users.add_user(SYSTEM, "jimu", "事務局", "secretariat", "jimu-password-1")
    with pytest.raises(PermissionDenied):
        store.decisions.set_edit(jimu, dround, None, "D-5", decision="not_adopted", reason="z")
    with pytest.raises(PermissionDenied):
        store.decisions.board(jimu, dround)


def test_applicant_comment_round_trip_and_save(store, chair, dround, tmp_path):
    paths = store.rounds.export_files(SYSTEM, dround, tmp_path / "out")
    text = (tmp_path / "out" / "reviews.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0].endswith(",applicant_comment")
    assert INTERNAL in text                               # the internal comment stays in the round's own export
    r2 = store.rounds.create_round(SYSTEM, "再取込", [D / "pack.yaml"])
    store.rounds.import_files(SYSTEM, r2.id, *[tmp_path / "out" / n for n in
                                               ("proposals.json", "reviewers.csv", "reviews.csv")])
    (tmp_path / "out2").mkdir()
    store.rounds.export_files(SYSTEM, r2.id, tmp_path / "out2")
    assert (tmp_path / "out2" / "reviews.csv").read_text(encoding="utf-8") == text
    assert len(paths) >= 3
    # the score form's separate field is stored apart from the comments
    a = store.users.add_user(SYSTEM, "RX", "委員X", "reviewer", "reviewer-password-x")
    r3 = store.rounds.create_round(SYSTEM, "所見", [D / "pack.yaml"])
    store.rounds.import_files(SYSTEM, r3.id, D / "proposals.json")
    store.assignments.assign(SYSTEM, r3.id, "D-1", "RX")
    v = store.reviews.save_draft(a, r3.id, "D-1", {"a": 4}, comments={"a": "内部"}, applicant_comment="丁寧な計画です")
    got = store.reviews.get_review(a, r3.id, "D-1")
    assert got.applicant_comment == "丁寧な計画です" and got.comments == {"a": "内部"} and v == 1


@pytest.mark.parametrize("feedback", [False, True])
def test_notices_feedback_only_when_on_never_internal(store, chair, dround, feedback):
    _worked_example(store, chair, dround)
    with pytest.raises(InputError):                        # nothing confirmed yet
        store.notices.fields(chair, dround)
    store.decisions.confirm(chair, dround)
    store.notices.set_settings(chair, dround, feedback=feedback, sender="総務省 情報流通行政局")
    fields = {f.proposal_id: f for f in store.notices.fields(chair, dround, notice_date=date(2026, 11, 29))}
    assert fields["D-1"].round_name == "令和8年度 1次公募" and fields["D-1"].sender == "総務省 情報流通行政局"
    assert fields["D-1"].awarded_yen == 25_000_000 and fields["D-1"].feedback is None
    d6 = fields["D-6"]
    assert (d6.feedback is not None) is feedback
    text = _docx_text(store.notices.render(chair, dround, d6))
    assert INTERNAL not in text
    for_applicant = [x for x in (D / "reviews.csv").read_text(encoding="utf-8").splitlines()
                     if x.startswith(("R1,D-6", "R2,D-6")) and not x.endswith(",")]
    said = [x.rsplit(",", 1)[1] for x in for_applicant]
    assert said                                            # the data has comments for D-6's applicant
    if feedback:
        assert d6.feedback.band == "D" and set(d6.feedback.applicant_comments) == set(said)
        assert all(c in text for c in said)
    else:
        assert not any(c in text for c in said)
    data = store.notices.zip_all(chair, dround, list(fields.values()))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert sorted(z.namelist()) == [f"D-{i}.docx" for i in range(1, 7)]
        for name in z.namelist():
            assert INTERNAL not in _docx_text(z.read(name))


def test_templates_checked_on_upload(store, chair, dround):
    from scoring.io.notices import default_template
    good = default_template("adopted")
    s = store.notices.upload_template(chair, dround, "adopted", "採択.docx", good)
    assert s.templates == {"adopted": "採択.docx"}
    with pytest.raises(InputError):
        store.notices.upload_template(chair, dround, "adopted", "bad.docx", b"not a docx")
    with pytest.raises(InputError):
        store.notices.upload_template(chair, dround, "nonsense", "x.docx", good)
    assert not store.notices.settings(chair, dround).feedback      # off by default


def test_a_pack_with_a_hearing_decides_from_the_final_hearing_order_once_decided(store, chair, heard_round):
    """decisions.md §2 (issue 18 leftover): where the pack holds hearings, ``board`` proposes from the two-stage
    ranking once the pack is in stage 決定 (from the document ranking before); confirming freezes that order."""
    from .test_hearing_stage import HEARD, hear

    store.hearings.set_stage(chair, heard_round, None, "shortlist", hearing=TOP2)
    store.hearings.add_to_shortlist(chair, heard_round, None, "T-004", "地域への波及")
    store.hearings.remove_from_shortlist(chair, heard_round, None, "T-002", "辞退")
    store.hearings.set_stage(chair, heard_round, None, "hearing")
    for (who, pid), levels in HEARD.items():
        hear(store, heard_round, who, pid, levels)

    def proposed(board):
        return [(x["proposal_id"], x["rank"], x["computed_decision"], x["proposed_decision"])
                for x in board.decisions.results()]

    document = [(x["proposal_id"], x["rank"], x["decision"]) for x in store.rounds.rank_round(chair,
                                                                                            heard_round).results()]
    during = store.decisions.board(chair, heard_round)                # stage ヒアリング: still the document order
    assert during.stage == "hearing" and [p[:3] for p in proposed(during)] == document
    assert "hearing" not in during.decisions.parameters()

    store.hearings.set_stage(chair, heard_round, None, "decided")
    final = store.hearings.rank_hearing_round(chair, heard_round)
    hearing = [(x["proposal_id"], x["rank"], x["decision"]) for x in final.results()]
    assert hearing[0][0] == "T-003" and document[0][0] == "T-001"    # the hearing reorders the top
    board = store.decisions.board(chair, heard_round)
    assert board.stage == "decided" and [p[:3] for p in proposed(board)] == hearing
    assert board.decisions.parameters()["stage"] == "hearing"
    assert board.decisions.parameters()["hearing"]["combine"]["method"] == "weighted"
    v = store.decisions.confirm(chair, heard_round)
    assert [(x["proposal_id"], x["rank"]) for x in v.results] == [h[:2] for h in hearing]
