"""The applicant self-check (scoring/selfcheck.py) and its workbook (scoring/io/selfcheck_sheet.py)."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from scoring.models import Proposal
from scoring.io.packs import load_pack
from scoring.packs import SHIPPED_PACKS
from scoring.selfcheck import fact_fields, pack_summary, self_check, weakest_criteria
from scoring.io.selfcheck_sheet import selfcheck_workbook
from tests.factories import by_id, proposal, rank_of, review_rows

L4 = "autonomous_l4"


def l4(members=(), kind="company", facts=None, requested=120_000_000):
    return proposal("DRAFT-1", L4, kind=kind, name="株式会社北雪モビリティ", members=members, requested=requested,
                    facts=facts)


def all_levels(pack, level):
    return {c: level for c in pack.criterion_ids}


def rule(result, rule_id):
    return next(r for r in result["eligibility"] if r["rule"] == rule_id)


def test_l4_consortium_without_local_government_fails_with_reason_and_advice():
    pack = load_pack(L4)
    res = self_check(pack, l4(members=[("株式会社ゆきICT", "local_ict_company")]), all_levels(pack, 4), {})
    r = rule(res, "consortium_local_government")
    assert r["status"] == "fail"
    assert "地方公共団体が含まれていません" in r["reason"]
    assert r["advice"] == "地方公共団体を1以上含むコンソーシアムを形成してください。"
    assert res["eligible"] is False
    assert res["scoring"]["standing"] == "ineligible"


@pytest.mark.parametrize("members,kind", [([("岩見沢市", "local_government")], "company"),
                                          ([("北海道", "prefecture")], "company"),
                                          ([], "local_government")])
def test_l4_consortium_with_a_local_government_passes(members, kind):
    pack = load_pack(L4)
    res = self_check(pack, l4(members=members, kind=kind), all_levels(pack, 4), {})
    r = rule(res, "consortium_local_government")
    assert r["status"] == "pass" and r["advice"] == ""
    assert res["eligible"] is True
    assert res["scoring"]["standing"] == "qualifies"


def test_english_reason_and_advice():
    pack = load_pack(L4)
    res = self_check(pack, l4(), all_levels(pack, 4), {}, lang="en")
    r = rule(res, "consortium_local_government")
    assert r["advice"] == "Form a consortium that includes at least one local government."
    assert r["label"] == "Consortium includes a local government"


@pytest.mark.parametrize("pack_id", SHIPPED_PACKS)
def test_scores_equal_the_ranking_of_the_same_review(pack_id):
    """The self-check's figures are the core's: one submitted review ranked with min_reviews=1."""
    pack = load_pack(pack_id)
    levels = {c: lv for c, lv in zip(pack.criterion_ids, [5, 4, 3, 2, 4, 3])}
    judged = {b.id: True for b in pack.judged_bonuses}
    facts = {"preceding_commercialization_area": True, "digikatsu_chusankan": True, "has_wireless_network": True,
             "has_solution_equipment": True, "plan_kind": "network_and_solution", "fiscal_strength_index": 0.4,
             "previously_selected": True, "previous_partner_count": 2, "municipalities_in_prefecture": 10}
    p = proposal("DRAFT-1", pack_id, kind="prefecture", members=[("A町", "local_government"), ("B村", "local_government"),
                                                                 ("C社", "startup"), ("D社", "local_ict_company")],
                 requested=90_000_000, eligible_cost=70_000_000, facts=facts)
    res = self_check(pack, p, levels, judged)
    rows = review_rows(pack, "self", "DRAFT-1", [levels[c] for c in pack.criterion_ids],
                       marks={b: 1 for b in judged})
    expected = by_id(rank_of(pack, [p], rows, min_reviews=1))["DRAFT-1"]
    s = res["scoring"]
    assert s["base"] == pytest.approx(expected["base_score"])
    assert s["bonus"] == pytest.approx(expected["bonus"])
    assert s["total"] == pytest.approx(expected["total_score"])
    assert [r["status"] for r in res["eligibility"]] == [r["status"] for r in expected["eligibility"]]
    if pack.funding.mode != "capacity":
        assert res["funding"]["funded_yen"] == expected["funded_yen"]
    crit = {c["id"]: c["score"] for c in s["criteria"]}
    assert crit == pytest.approx(expected["criteria"])


def test_l4_figures_by_hand():
    pack = load_pack(L4)  # points 20/25/15/20/20; level 4 = 0.75; preceding area bonus 5 (cap 5)
    res = self_check(pack, l4(members=[("岩見沢市", "local_government")],
                              facts={"preceding_commercialization_area": True}), all_levels(pack, 4), {})
    s = res["scoring"]
    assert s["base"] == pytest.approx(75.0)
    assert s["bonus"] == pytest.approx(5.0)
    assert s["total"] == pytest.approx(80.0)
    assert s["meets_pass_line"] is True and s["meets_criterion_floor"] is True
    assert res["funding"]["funded_yen"] == 120_000_000 and res["funding"]["capped"] is False


def test_over_the_cap_is_funded_at_the_cap():
    pack = load_pack(L4)
    res = self_check(pack, l4(members=[("岩見沢市", "local_government")], requested="2億円"), all_levels(pack, 4), {})
    assert res["funding"]["funded_yen"] == 150_000_000
    assert res["funding"]["capped"] is True
    assert res["funding"]["cap_yen"] == 150_000_000


def test_pass_line_counts_base_only_and_floor_is_per_criterion():
    pack = load_pack(L4)
    p = l4(members=[("岩見沢市", "local_government")], facts={"preceding_commercialization_area": True})
    below = self_check(pack, p, all_levels(pack, 3), {})["scoring"]  # base 50 + bonus 5 = 55 < 60
    assert below["base"] == pytest.approx(50.0) and below["total"] == pytest.approx(55.0)
    assert below["meets_pass_line"] is False and below["standing"] == "below_pass_line"
    levels = all_levels(pack, 5) | {"verification_environment": 1}  # base 85, but one criterion at ratio 0
    floor = self_check(pack, p, levels, {})["scoring"]
    assert floor["base"] == pytest.approx(85.0)
    assert floor["standing"] == "below_criterion_floor"
    assert [c["id"] for c in floor["criteria"] if c["below_floor"]] == ["verification_environment"]


def test_incomplete_self_scoring_gives_no_score_but_still_checks_requirements_and_facts():
    pack = load_pack(L4)
    res = self_check(pack, l4(facts={"preceding_commercialization_area": True}), {"service_need": 5}, {})
    s = res["scoring"]
    assert s["complete"] is False and s["base"] is None and s["total"] is None
    assert s["missing"] == ["verification_items", "verification_environment", "remote_monitoring_safety",
                            "rollout_plan"]
    assert s["bonus"] == pytest.approx(5.0)  # a fact bonus does not depend on the scoring
    assert rule(res, "consortium_local_government")["status"] == "fail"


def test_subsidy_grant_local_share_and_provisional_bonds():
    pack = load_pack("subsidy")
    p = proposal("DRAFT-1", "subsidy", kind="local_government", requested=None, eligible_cost="１億２３４５万６７８９円",
                 facts={"has_wireless_network": True, "has_solution_equipment": True,
                        "plan_kind": "network_and_solution"})
    res = self_check(pack, p, all_levels(pack, 4), {})
    f = res["funding"]
    assert f["eligible_cost_yen"] == 123_456_789
    assert f["grant_yen"] == 61_728_000          # 61,728,394.5 → 千円未満切り捨て
    share = f["local_share"]
    assert share["share_yen"] == 123_456_789 - 61_728_000
    assert share["provisional"] is True and share["label"] == "要望中（暫定）"
    kaso = next(b for b in share["bonds"] if b["id"] == "kaso_bond")   # 100 % appropriation, 70 % measure
    assert kaso["bond_yen"] == 61_728_789
    assert kaso["tax_measure_yen"] == 43_210_152   # floor(61,728,789 × 0.7)
    assert kaso["net_burden_yen"] == 61_728_789 - 43_210_152
    general = next(b for b in share["bonds"] if b["id"] == "general_subsidy_facility_bond")  # 90 %, 0 %
    assert general["bond_yen"] == 55_555_910 and general["tax_measure_yen"] == 0
    assert all(r["status"] == "pass" for r in res["eligibility"])


def test_subsidy_company_without_local_government_is_conditional():
    pack = load_pack("subsidy")
    p = proposal("DRAFT-1", "subsidy", kind="company", requested=None, eligible_cost=10_000_000,
                 facts={"has_wireless_network": True, "has_solution_equipment": True,
                        "plan_kind": "network_and_solution"})
    res = self_check(pack, p, all_levels(pack, 4), {})
    r = rule(res, "consortium_condition")
    assert r["status"] == "conditional"
    assert r["condition"] == "交付申請までに地方公共団体を1以上含むコンソーシアムを形成"
    assert res["eligible"] is True


def test_subsidy_plan_composition_unanswered_needs_check_and_excluded_kind_fails():
    pack = load_pack("subsidy")
    p = proposal("DRAFT-1", "subsidy", kind="local_government", requested=None, eligible_cost=10_000_000)
    res = self_check(pack, p, all_levels(pack, 4), {})
    assert rule(res, "wireless_and_solution")["status"] == "needs_check"
    assert res["eligible"] is True  # needs_check keeps it in, marked
    city_os = proposal("DRAFT-1", "subsidy", kind="local_government", requested=None, eligible_cost=10_000_000,
                       facts={"has_wireless_network": True, "has_solution_equipment": True, "plan_kind": "city_os"})
    res = self_check(pack, city_os, all_levels(pack, 4), {})
    r = rule(res, "plan_kind_not_excluded")
    assert r["status"] == "fail" and "都市OS" in r["reason"] and r["advice"]
    assert res["scoring"]["standing"] == "ineligible"


def test_advanced_comms_expense_flags_each_offending_line():
    pack = load_pack("advanced_comms")
    lines = [
        {"item": "エッジサーバ", "category": "purchase", "amount_yen": 3_000_000, "unit_price_yen": "150,000",
         "useful_life_years": 5},                                                   # flagged: should be leased
        {"item": "センサー", "category": "purchase", "amount_yen": 500_000, "unit_price_yen": 50_000,
         "useful_life_years": 5},                                                   # under 10万円: fine
        {"item": "専用端末", "category": "purchase", "amount_yen": 2_000_000, "unit_price_yen": 400_000,
         "useful_life_years": 4, "cannot_lease_reason": "リース市場に流通していない"},  # reason given: fine
        {"item": "無線局免許申請", "category": "licence", "amount_yen": 30_000},       # licence fee: flagged
    ]
    p = proposal("DRAFT-1", "advanced_comms", kind="company", cost_lines=lines)
    res = self_check(pack, p, all_levels(pack, 4), {})
    flagged = sorted((f["line"], f["check"]) for f in res["expense_flags"])
    assert flagged == [(1, "equipment_purchase"), (4, "licence_fee")]
    assert all(f["message"] for f in res["expense_flags"])


def test_judged_bonus_is_the_applicants_own_mark():
    pack = load_pack("advanced_comms")
    p = proposal("DRAFT-1", "advanced_comms", kind="company")
    yes = self_check(pack, p, all_levels(pack, 4), {"shared_use": True})["scoring"]
    no = self_check(pack, p, all_levels(pack, 4), {"shared_use": False})["scoring"]
    assert yes["bonus"] - no["bonus"] == pytest.approx(2.0)
    item = next(b for b in yes["bonus_items"] if b["id"] == "shared_use")
    assert "自己判断で該当" in item["reason"] and "過半数" in item["reason"]


def test_weakest_criteria_point_at_the_next_level_up():
    pack = load_pack(L4)
    levels = {"service_need": 5, "verification_items": 2, "verification_environment": 3,
              "remote_monitoring_safety": 4, "rollout_plan": 3}
    weak = weakest_criteria(pack, levels)
    # lost points: verification_items 25×0.75=18.75; rollout_plan 20×0.5=10; verification_environment 15×0.5=7.5
    assert [w["id"] for w in weak] == ["verification_items", "rollout_plan", "verification_environment"]
    first = weak[0]
    assert first["next_level"] == 3
    assert first["next_guidance"] == pack.criteria[1].guidance[3].ja
    assert first["gain"] == pytest.approx(25 * 0.25)
    assert all(w["id"] != "service_need" for w in weakest_criteria(pack, levels, limit=10))  # already at the top


def test_refuses_bad_levels_and_a_proposal_of_another_pack():
    pack = load_pack(L4)
    with pytest.raises(ValueError, match="verification_items: level 7"):
        self_check(pack, l4(), {"verification_items": 7}, {})
    with pytest.raises(ValueError, match="not a criterion"):
        self_check(pack, l4(), {"no_such": 3}, {})
    with pytest.raises(ValueError, match="pack 'subsidy'"):
        self_check(pack, proposal("X", "subsidy"), {}, {})


def test_capacity_pack_has_no_money():
    pack = load_pack("planning_support")
    p = proposal("DRAFT-1", "planning_support", kind="local_government", requested=None,
                 facts={"fiscal_strength_index": 0.45})
    res = self_check(pack, p, all_levels(pack, 4), {})
    assert res["funding"]["funded_yen"] is None
    assert rule(res, "fiscal_strength")["status"] == "pass"
    high = self_check(pack, proposal("D", "planning_support", kind="local_government", requested=None,
                                     facts={"fiscal_strength_index": 1.2}), all_levels(pack, 4), {})
    assert rule(high, "fiscal_strength")["status"] == "fail"


@pytest.mark.parametrize("pack_id", SHIPPED_PACKS)
def test_fact_fields_cover_what_the_pack_reads(pack_id):
    pack = load_pack(pack_id)
    fields = fact_fields(pack)
    assert {f.name for f in fields} == pack.facts_read()
    for f in fields:
        assert f.kind in ("bool", "number", "integer", "choice")
    summary = pack_summary(pack)
    assert summary["code"] == pack.programme.code and summary["description"]


def test_fact_fields_of_subsidy_offer_the_eligible_plan_kind():
    kinds = {f.name: f for f in fact_fields(load_pack("subsidy"))}
    assert kinds["has_wireless_network"].kind == "bool"
    assert kinds["plan_kind"].kind == "choice"
    assert set(kinds["plan_kind"].choices) == {"network_and_solution", "internet_access_only", "solution_only",
                                               "city_os"}


def test_workbook_holds_the_figures_in_house_style_and_is_formula_safe():
    pack = load_pack("subsidy")
    p = proposal("DRAFT-1", "subsidy", kind="local_government", name="=HYPERLINK(\"http://x\",\"町\")",
                 requested=None, eligible_cost=123_456_789,
                 facts={"has_wireless_network": True, "has_solution_equipment": True,
                        "plan_kind": "network_and_solution"},
                 cost_lines=[{"item": "@SUM(A1)", "category": "lease", "amount_yen": 123_456_789}])
    levels = all_levels(pack, 4)
    res = self_check(pack, p, levels, {})
    data = selfcheck_workbook(pack, p, res, {"regional_issue": "+1 メモ"})
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["概要", "要件", "自己評価", "経費明細", "地方負担（暫定）"]
    summary = {r[0]: r[1] for r in wb["概要"].iter_rows(min_row=2, values_only=True)}
    assert summary["補助金額（見込）"] == 61_728_000
    assert summary["基礎点（見込）"] == pytest.approx(75.0)
    assert summary["申請者"] == "'=HYPERLINK(\"http://x\",\"町\")"
    assert "審査委員会の判断ではありません" in wb["概要"]["A3"].value
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        assert ws.page_setup.orientation == "landscape"
        assert str(ws.page_setup.paperSize) == str(ws.PAPERSIZE_A4)
        assert ws["A1"].fill.fgColor.rgb.endswith("DDEBF7") and ws["A1"].font.b
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    costs = list(wb["経費明細"].iter_rows(min_row=2, values_only=True))
    assert costs[0][1] == "'@SUM(A1)"
    notes = [r[7] for r in wb["自己評価"].iter_rows(min_row=2, values_only=True)]
    assert notes[0] == "'+1 メモ"
    local = list(wb["地方負担（暫定）"].iter_rows(values_only=True))
    assert any(isinstance(r[0], str) and "暫定" in r[0] for r in local)
    kaso = next(r for r in local if r[0] == "過疎対策事業債")
    assert kaso[4] == 61_728_789 and kaso[5] == 43_210_152


def test_selfcheck_workbook_names_applicant_kinds_in_words_not_codes():
    """Issue 14 item 10: 申請者種別 shows 「企業」 (Company in English), not the code ``company``; so do the consortium
    members' kinds."""
    pack = load_pack(L4)
    p = l4(members=[("北雪町", "local_government")])
    res = self_check(pack, p, all_levels(pack, 4), {})
    for lang, kind, member in (("ja", "企業", "北雪町（地方公共団体（市区町村））"),
                               ("en", "Company", "北雪町（Local government (municipality)）")):
        wb = load_workbook(io.BytesIO(selfcheck_workbook(pack, p, res, lang=lang)))
        summary = {r[0]: r[1] for r in wb.worksheets[0].iter_rows(min_row=2, values_only=True)}
        assert summary["申請者種別" if lang == "ja" else "Applicant kind"] == kind
        assert summary["コンソーシアム構成員" if lang == "ja" else "Consortium members"] == member
