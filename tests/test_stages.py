"""The hearing stage's core (stages.md): the pack's hearing section, the shortlist methods and edits, the final
score, qualifying, order and budget line — in process, through :meth:`scoring.call.Call.rank_hearing`."""

from __future__ import annotations

import pandas as pd
import pytest

from scoring.call import assemble
from scoring.errors import InputError, PackError
from scoring.io.packs import read_pack_file
from scoring.packs import validate_pack
from scoring.params import Params, WhatIfError
from scoring.stages import HearingParams, ShortlistEdit
from tests.factories import ROOT, proposal

PACK_FILE = ROOT / "tests" / "data" / "hearing-small" / "pack.yaml"
COLS = ["reviewer_id", "proposal_id", "item", "value", "status", "comment"]


def pack_data(**hearing) -> dict:
    data = read_pack_file(PACK_FILE)
    data["hearing"] = {**data["hearing"], **hearing}
    return data


def small_pack(budget=300_000_000, **hearing):
    data = pack_data(**hearing)
    data["budget"] = {"budget_yen": budget}
    return validate_pack(data, "hearing_small.yaml")


def call_of(pack, docs: dict, hearings: dict, requested: dict | None = None, reviewers=("R1", "R2", "R3")):
    """``docs``/``hearings``: proposal id → (level a, level b) / (level h1, level h2), the same for every
    reviewer."""
    props = [proposal(pid, pack.id, requested=(requested or {}).get(pid, 100_000_000)) for pid in docs]
    rows = []
    for pid, (a, b) in docs.items():
        for r in reviewers:
            rows += [[r, pid, "a", str(a), "submitted", ""], [r, pid, "b", str(b), "submitted", ""]]
    for pid, (h1, h2) in hearings.items():
        for r in reviewers:
            rows += [[r, pid, "hearing:h1", str(h1), "submitted", ""], [r, pid, "hearing:h2", str(h2), "submitted", ""]]
    return assemble(pack, props, pd.DataFrame(rows, columns=COLS), None, "reviews.csv")


def decisions(ranking) -> dict[str, tuple]:
    return {r["proposal_id"]: (r["decision"], r["rank"]) for r in ranking.results()}


# --- the pack's hearing section ---------------------------------------------------------------------------------

@pytest.mark.parametrize("change, message", [
    ({"combine": {"method": "weighted", "document_weight": 0.5, "hearing_weight": 0.6}},
     "hearing.combine: document_weight + hearing_weight must be 1"),
    ({"combine": {"method": "average"}}, "hearing.combine.method:"),
    ({"shortlist": {"method": "best_of"}}, "hearing.shortlist.method:"),
    ({"shortlist": {"method": "top_n"}}, "hearing.shortlist.n: shortlist method top_n needs n"),
    ({"shortlist": {"method": "budget_multiple", "multiple": 0}}, "hearing.shortlist.multiple: must be > 0"),
])
def test_a_bad_hearing_section_is_refused_with_its_path(change, message):
    with pytest.raises(PackError) as exc:
        validate_pack(pack_data(**change), "p.yaml")
    assert message in str(exc.value)


def test_hearing_points_not_summing_to_100_and_missing_guidance_are_refused_with_their_path():
    data = pack_data()
    data["hearing"]["criteria"][1]["points"] = 40
    del data["hearing"]["criteria"][0]["guidance"][3]
    with pytest.raises(PackError) as exc:
        validate_pack(data, "p.yaml")
    text = str(exc.value)
    assert "p.yaml: hearing.criteria: points sum to 90, but hearing points must sum to 100" in text
    assert "p.yaml: hearing.criteria[0].guidance: no guidance for level(s) [3]" in text


def test_the_shipped_hearing_packs_are_valid_and_marked_derived():
    from scoring.io.packs import load_pack
    for pid in ("advanced_comms", "ai_edge", "autonomous_l4", "planning_support"):
        pack = load_pack(pid)
        assert pack.hearing is not None and sum(c.points for c in pack.hearing.criteria) == 100
        assert all(c.derived for c in pack.hearing.criteria)
        assert any(n.derived and "ヒアリング" in n.text.ja for n in pack.notes)
    for pid in ("subsidy", "promotion_system"):
        assert load_pack(pid).hearing is None


# --- shortlist ----------------------------------------------------------------------------------------------------

def test_top_n_includes_every_proposal_tied_with_the_nth_on_the_document_total():
    pack = small_pack(shortlist={"method": "top_n", "n": 2})
    call = call_of(pack, {"P1": (5, 5), "P2": (4, 4), "P3": (4, 4), "P4": (3, 4)},
                   {"P1": (4, 4), "P2": (4, 4), "P3": (4, 4)})
    r = call.rank_hearing()
    assert r.shortlist_ids() == ["P1", "P2", "P3"]
    assert decisions(r)["P4"] == ("not_shortlisted", None)


def test_budget_multiple_is_exact_where_floating_point_is_not():
    # 0.57 × 100 = 56.99999999999999 in floating point; exactly 57. The cumulative reaches 57 exactly at P2, so
    # the next one (the first that would exceed) is shortlisted too.
    pack = small_pack(budget=100, shortlist={"method": "budget_multiple", "multiple": 0.57})
    call = call_of(pack, {"P1": (5, 5), "P2": (5, 4), "P3": (4, 4), "P4": (4, 3)}, {},
                   requested={"P1": 30, "P2": 27, "P3": 10, "P4": 5})
    r = call.rank_hearing(strict=False)
    assert r.shortlist_ids() == ["P1", "P2", "P3"]


def test_budget_multiple_includes_the_first_proposal_that_would_exceed():
    pack = small_pack(budget=100, shortlist={"method": "budget_multiple", "multiple": 1})
    call = call_of(pack, {"P1": (5, 5), "P2": (5, 4), "P3": (4, 4)}, {}, requested={"P1": 60, "P2": 50, "P3": 10})
    assert call.rank_hearing().shortlist_ids() == ["P1", "P2"]


def test_line_shortlists_the_selected_and_waitlisted_of_the_document_stage():
    pack = small_pack(budget=200, shortlist={"method": "line"})
    call = call_of(pack, {"P1": (5, 5), "P2": (5, 4), "P3": (4, 4), "P4": (4, 3)}, {},
                   requested={"P1": 100, "P2": 100, "P3": 100, "P4": 100})
    assert call.rank_hearing().shortlist_ids() == ["P1", "P2", "P3"]     # 2 selected + waitlist 1


@pytest.mark.parametrize("method", [{"method": "line"}, {"method": "budget_multiple", "multiple": 2}])
def test_budget_methods_without_a_budget_are_refused_naming_shortlist_method(method):
    pack = small_pack(shortlist=method)
    call = call_of(pack, {"P1": (5, 5)}, {})
    with pytest.raises(InputError) as exc:
        call.rank_hearing(Params.from_pack(pack).without_budget())
    assert "shortlist.method" in str(exc.value)


def test_edits_apply_in_order_and_a_removed_proposal_is_not_shortlisted():
    pack = small_pack(shortlist={"method": "top_n", "n": 1})
    call = call_of(pack, {"P1": (5, 5), "P2": (4, 4), "P3": (4, 3)}, {"P2": (5, 5), "P3": (4, 4)})
    edits = [ShortlistEdit("P2", "add", "質疑で確認したい点がある", "2"),
             ShortlistEdit("P3", "add", "地域バランス", "3"),
             ShortlistEdit("P1", "remove", "利害関係が判明", "4")]
    r = call.rank_hearing(edits=edits)
    assert r.shortlist_ids() == ["P2", "P3"]
    d = decisions(r)
    assert d["P1"] == ("not_shortlisted", None) and d["P2"][1] == 1 and d["P3"][1] == 2
    res = {x["proposal_id"]: x for x in r.results()}
    assert any("利害関係が判明" in x for x in res["P1"]["reasons"])


def test_every_refused_edit_is_reported_at_once_with_row_and_field():
    pack = small_pack(shortlist={"method": "top_n", "n": 1})
    call = call_of(pack, {"P1": (5, 5), "P2": (4, 4), "P9": (2, 2)}, {})
    edits = [ShortlistEdit("P9", "add", "x", "2"), ShortlistEdit("P1", "add", "x", "3"),
             ShortlistEdit("P2", "remove", "x", "4"), ShortlistEdit("P2", "add", " ", "5"),
             ShortlistEdit("P2", "promote", "x", "6"), ShortlistEdit("P7", "add", "x", "7")]
    with pytest.raises(InputError) as exc:
        call.rank_hearing(edits=edits, edits_source="s.csv")
    fields = [(p.row, p.field) for p in exc.value.problems]
    assert fields == [("2", "proposal_id"), ("3", "proposal_id"), ("4", "proposal_id"), ("5", "reason"),
                      ("6", "action"), ("7", "proposal_id")]
    assert "can never be shortlisted" in exc.value.problems[0].message


# --- final score, qualifying, order ---------------------------------------------------------------------------

def test_hearing_only_final_score_is_the_hearing_score_plus_the_document_bonus():
    pack = small_pack(combine={"method": "hearing_only"}, shortlist={"method": "top_n", "n": 2})
    call = call_of(pack, {"P1": (5, 5), "P2": (4, 4)}, {"P1": (3, 3), "P2": (5, 5)})
    r = call.rank_hearing()
    res = {x["proposal_id"]: x for x in r.results()}
    assert res["P2"]["rank"] == 1 and res["P2"]["total_score"] == 100.0 and res["P1"]["total_score"] == 50.0
    assert res["P1"]["base_score"] == 100.0 and res["P1"]["document_score"] == 100.0


def test_insufficient_hearing_reviews_precede_the_hearing_pass_line():
    pack = small_pack(shortlist={"method": "top_n", "n": 2})
    call = call_of(pack, {"P1": (5, 5), "P2": (4, 4)}, {"P1": (1, 1)}, reviewers=("R1", "R2"))
    r = call.rank_hearing(Params.from_pack(pack, min_reviews=2), hearing=HearingParams.from_pack(pack, min_reviews=2))
    assert decisions(r) == {"P1": ("below_pass_line", None), "P2": ("insufficient_reviews", None)}


def test_hearing_params_whatif_validates_and_overrides_the_pack():
    pack = small_pack()
    assert HearingParams.from_pack(pack, shortlist_method="line").shortlist_method == "line"
    with pytest.raises(WhatIfError, match="combine"):
        HearingParams.from_pack(pack, document_weight=0.9)
    with pytest.raises(WhatIfError, match="shortlist.method"):
        HearingParams.from_pack(pack, shortlist_method="lottery")


def test_a_pack_without_hearing_ranks_exactly_as_before():
    data = read_pack_file(PACK_FILE)
    del data["hearing"]
    plain = validate_pack(data, "plain.yaml")
    with_h = small_pack()
    docs = {"P1": (5, 5), "P2": (4, 4), "P3": (4, 3)}
    a = call_of(plain, docs, {}).rank().to_dict()
    b = call_of(with_h, docs, {}).rank().to_dict()
    assert a["results"] == b["results"] and a["counts"] == b["counts"]
    with pytest.raises(InputError, match="no hearing stage"):
        call_of(plain, docs, {}).rank_hearing()


@pytest.mark.parametrize("path, value, message", [
    (("slot_minutes",), 10**9, "hearing.slot_minutes: must be ≤ 1440"),
    (("shortlist", "multiple"), 1e308, "hearing.shortlist.multiple"),
    (("min_reviews",), 10**12, "hearing.min_reviews"),
])
def test_the_hearing_sections_numbers_are_bounded_like_the_packs(path, value, message):
    from scoring.errors import PackError
    from scoring.io.packs import pack_path, read_pack_file
    from scoring.packs import pack_from_dict

    data = read_pack_file(pack_path("advanced_comms"))
    target = data["hearing"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(PackError, match=message.replace(".", r"\.")):
        pack_from_dict(data)
