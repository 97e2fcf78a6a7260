"""Issue 14 §12: an address names what a page opens. The chair's 提案の詳細 at ``/proposal?proposal=SB-009``
shows SB-009 in its programme (not AC-001), or says the proposal is not found; a reviewer's ``/review?…`` of an
unknown or unassigned proposal says so instead of showing an empty picker."""

from __future__ import annotations

from tests.app.review_fixtures import app_as, no_exception
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)


def test_the_proposal_in_the_address_opens_in_its_programme(store):
    at = app_as(store, "C01", "chair_proposal", query={"proposal": "SB-009"})
    no_exception(at)
    assert at.selectbox(key="app_pack_pick").value == "subsidy"
    assert at.selectbox(key="chair_detail_pick").value == "SB-009"
    assert at.header[0].value.startswith("SB-009")
    assert not at.warning
    # the address no longer overrides the chair's own next choice
    at.selectbox(key="app_pack_pick").set_value("advanced_comms").run()
    no_exception(at)
    assert at.selectbox(key="app_pack_pick").value == "advanced_comms"
    assert at.selectbox(key="chair_detail_pick").value.startswith("AC-")


def test_a_link_followed_later_in_the_session_opens_its_proposal(store):
    at = app_as(store, "C01", "chair_proposal")
    assert at.selectbox(key="chair_detail_pick").value.startswith("AC-")
    at.query_params["proposal"] = "L4-003"
    at.run()
    no_exception(at)
    assert at.selectbox(key="app_pack_pick").value == "autonomous_l4"
    assert at.selectbox(key="chair_detail_pick").value == "L4-003"


def test_an_unknown_proposal_in_the_address_is_said_to_be_not_found(store):
    at = app_as(store, "C01", "chair_proposal", query={"proposal": "ZZ-999"})
    no_exception(at)
    assert any("ZZ-999" in str(w.value) and "見つかりません" in str(w.value) for w in at.warning)
    assert at.selectbox(key="chair_detail_pick").value == "AC-001"      # the page stays usable


def test_the_not_found_message_is_in_english_too(store):
    at = app_as(store, "C01", "chair_proposal")
    at.query_params["proposal"] = "ZZ-999"
    at.radio(key="lang").set_value("en").run()
    no_exception(at)
    assert any("ZZ-999" in str(w.value) and "not found" in str(w.value) for w in at.warning)


def test_an_unknown_or_unassigned_proposal_on_the_scoring_page_says_so(store):
    for query in ({"round": "1", "proposal": "ZZ-999"},       # no such proposal
                  {"round": "1", "proposal": "AC-006"},       # exists, not assigned to R01
                  {"round": "7", "proposal": "AC-001"},       # no such round
                  {"round": "x", "proposal": "AC-001"}):      # not a round number
        at = app_as(store, "R01", "reviewer_scoring", query=query)
        no_exception(at)
        shown = [str(w.value) for w in at.warning]
        assert any("担当案件にありません" in w for w in shown), (query, shown)
        assert not [r for r in at.radio if r.key and r.key.startswith("rv_level_")]
    at.radio(key="lang").set_value("en").run()
    assert any("not one of your assigned proposals" in str(w.value) for w in at.warning)
    ok = app_as(store, "R01", "reviewer_scoring", query={"round": "1", "proposal": "AC-001"})
    no_exception(ok)
    assert not any("担当案件にありません" in str(w.value) for w in ok.warning)
