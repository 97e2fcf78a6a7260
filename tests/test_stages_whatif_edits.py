"""A what-if of the shortlist method over stored edits (issue 17, the app's choice — docs/app.md): with
``lenient_edits`` the edits that still fit the what-if's cut apply in order, those that no longer fit are left out
and named with why (refusal codes), and the strict run refuses exactly them."""

from __future__ import annotations

import pytest

from scoring.errors import InputError
from scoring.stages import EDIT_REFUSALS, HearingParams, ShortlistEdit
from tests.test_stages import call_of, small_pack

DOCS = {"P1": (5, 5), "P2": (5, 4), "P3": (4, 4), "P4": (4, 3), "P9": (1, 1)}


def test_a_what_if_applies_the_edits_that_fit_and_names_the_others_with_why():
    pack = small_pack(shortlist={"method": "top_n", "n": 1})
    call = call_of(pack, DOCS, {})
    edits = [ShortlistEdit("P2", "add", "質疑で確認", "1"), ShortlistEdit("P4", "add", "地域性", "2"),
             ShortlistEdit("P1", "remove", "利害関係", "3")]
    stored = call.rank_hearing(edits=edits, strict=False)
    assert stored.shortlist_ids() == ["P2", "P4"] and stored.refused_edits == []
    wider = HearingParams.from_pack(pack, n=3)                       # the cut now holds P1, P2, P3
    with pytest.raises(InputError) as exc:
        call.rank_hearing(edits=edits, hearing=wider, strict=False)
    assert [(p.row, p.field) for p in exc.value.problems] == [("1", "proposal_id")]
    what_if = call.rank_hearing(edits=edits, hearing=wider, strict=False, lenient_edits=True)
    assert [(e.proposal_id, codes) for e, codes in what_if.refused_edits] == [("P2", ["already_shortlisted"])]
    assert what_if.shortlist_ids() == ["P2", "P3", "P4"]             # P4 added, P1 removed, P2 by the cut
    assert {what_if.table.ids[i]: e.reason for i, e in what_if.edits.items()} == {"P4": "地域性", "P1": "利害関係"}


def test_every_refusal_has_a_code_and_the_strict_messages_are_unchanged():
    pack = small_pack(shortlist={"method": "top_n", "n": 1})
    call = call_of(pack, DOCS, {})
    edits = [ShortlistEdit("P9", "add", "x", "2"), ShortlistEdit("P1", "add", "x", "3"),
             ShortlistEdit("P2", "remove", "x", "4"), ShortlistEdit("P2", "add", " ", "5"),
             ShortlistEdit("P2", "promote", "x", "6"), ShortlistEdit("P7", "add", "x", "7")]
    r = call.rank_hearing(edits=edits, strict=False, lenient_edits=True)
    assert [codes for _, codes in r.refused_edits] == [["not_qualifying"], ["already_shortlisted"],
                                                        ["not_shortlisted"], ["no_reason"], ["unknown_action"],
                                                        ["unknown_proposal"]]
    assert {c for _, codes in r.refused_edits for c in codes} == set(EDIT_REFUSALS)
    assert r.shortlist_ids() == ["P1"]
