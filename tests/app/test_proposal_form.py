"""The self-check form's mapping (app.proposal_form) without AppTest: widget state ⇄ proposal.

The state is a plain dict standing in for ``st.session_state``; the cost table's rows are what the editor
returns (its ``to_dict("records")``). The page itself is tested through the app in test_dry_run.py.
"""

from __future__ import annotations

import json

import pytest

from app import proposal_form as form
from app.i18n import t
from scoring.errors import InputError
from scoring.models import Proposal
from scoring.io.packs import load_pack
from scoring.selfcheck import fact_fields


def cost_rows(state: dict) -> list[dict]:
    """The rows the cost editor shows for a prefilled state (the editor starts from ``dr_cost_base``)."""
    base = state.get("dr_cost_base")
    return [] if base is None else base.to_dict("records")


def read_back(state: dict, pack_id: str) -> tuple[Proposal | None, list[str]]:
    data, problems = form.read_form(state, load_pack(pack_id), cost_rows(state))
    return form.to_proposal(data, problems)


L4 = Proposal.model_validate({
    "id": "L4-RT", "pack": "autonomous_l4", "title": "積雪地域のレベル4", "summary": "冬季の実証",
    "applicant": {"name": "株式会社北雪モビリティ", "kind": "company", "prefecture": "北海道",
                  "municipality": "岩見沢市"},
    "consortium": [{"name": "岩見沢市", "kind": "local_government", "role": "実証フィールド"},
                   {"name": "株式会社ゆきICT", "kind": "local_ict_company", "role": ""}],
    "requested_yen": 148_000_000, "technologies": ["local5g", "lpwa"],
    "facts": {"preceding_commercialization_area": True, "course": "市街地"},   # course: not asked by the form
    "cost_lines": [
        {"item": "エッジサーバ", "category": "purchase", "amount_yen": 3_000_000, "unit_price_yen": 1_500_000,
         "useful_life_years": 5.0, "cannot_lease_reason": "特注品"},
        {"item": "基地局リース", "category": "lease", "amount_yen": 42_000_000, "years": 2.0}],
})

SUBSIDY = Proposal.model_validate({
    "id": "SB-RT", "pack": "subsidy", "title": "地域ネットワーク",
    "applicant": {"name": "テスト町", "kind": "local_government"},
    "eligible_cost_yen": 123_456_789,
    "facts": {"has_wireless_network": True, "has_solution_equipment": False, "plan_kind": "city_os"},
})


# --- the round trip ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("original", [L4, SUBSIDY], ids=["requested", "subsidy"])
def test_a_proposal_written_into_the_form_reads_back_unchanged(original):
    state: dict = {}
    form.proposal_to_state(original, state)
    proposal, problems = read_back(state, original.pack)
    assert problems == []
    assert proposal == original


def test_prefilled_fields_hold_what_the_applicant_would_type():
    state: dict = {}
    form.proposal_to_state(L4, state)
    assert state["dr_pack"] == "autonomous_l4" and state["dr_id"] == "L4-RT"
    assert state["dr_requested"] == "148,000,000" and state["dr_eligible_cost"] == ""
    assert (state["dr_n_members"], state["dr_m_name_1"], state["dr_m_kind_1"]) == (2, "株式会社ゆきICT",
                                                                                   "local_ict_company")
    assert state["dr_fact_preceding_commercialization_area"] is True
    assert state["dr_extra_facts"] == {"course": "市街地"}           # kept aside, travels on into the download
    assert state["dr_tech"] == ["local5g", "lpwa"]
    assert cost_rows(state)[0]["amount"] == "3,000,000" and cost_rows(state)[0]["unit_price"] == "1,500,000"
    assert state["dr_cost_version"] == 1


def test_prefilling_drops_what_the_previous_proposal_left_but_keeps_the_upload_marker_and_self_scores():
    state = {"dr_m_name_5": "古い構成員", "dr_level_x": 3, "dr_note_x": "根拠", "dr_judged_b": True,
             "dr_loaded_file": "a.json:1:", "dr_upload_0": "file"}
    form.proposal_to_state(SUBSIDY, state)
    assert "dr_m_name_5" not in state
    assert state["dr_loaded_file"] == "a.json:1:" and state["dr_upload_0"] == "file"
    # the self-scoring is not in the file: a re-upload keeps it (issue 14 §9)
    assert (state["dr_level_x"], state["dr_note_x"], state["dr_judged_b"]) == (3, "根拠", True)


def test_typed_amounts_in_any_accepted_form_become_yen():
    state = {"dr_app_name": "株式会社A", "dr_requested": "１億４,８００万円"}
    proposal, problems = read_back(state, "autonomous_l4")
    assert problems == [] and proposal.requested_yen == 148_000_000
    assert proposal.id == "DRAFT-001" and proposal.applicant.kind.value == "company"


def test_only_the_pack_s_own_amount_field_is_read():
    state = {"dr_app_name": "テスト町", "dr_requested": "1億円", "dr_eligible_cost": "2億円"}
    proposal, _ = read_back(state, "subsidy")
    assert (proposal.requested_yen, proposal.eligible_cost_yen) == (None, 200_000_000)
    capacity, _ = read_back(state, "planning_support")
    assert (capacity.requested_yen, capacity.eligible_cost_yen) == (None, None)


def test_unanswered_and_number_facts():
    state = {"dr_app_name": "テスト町", "dr_fact_lg_funded_or_nonprofit": form.NONE,
             "dr_fact_fiscal_strength_index": 0.45}
    proposal, _ = read_back(state, "planning_support")
    assert proposal.facts == {"fiscal_strength_index": 0.45}
    state = {"dr_app_name": "A", "dr_fact_previous_partner_count": 3.0, "dr_fact_previously_selected": False}
    proposal, _ = read_back(state, "promotion_system")
    assert proposal.facts == {"previous_partner_count": 3, "previously_selected": False}
    assert isinstance(proposal.facts["previous_partner_count"], int)


# --- messages name the field ------------------------------------------------------------------------------------

def test_an_unreadable_amount_is_named_by_its_field_and_text():
    state = {"dr_app_name": "株式会社A", "dr_requested": "１億abc万円"}
    proposal, problems = read_back(state, "autonomous_l4")
    assert proposal is None
    [msg] = problems
    assert msg.startswith(t("dry_run.field.requested") + "：") and "「１億abc万円」を金額として読めません" in msg
    assert form.parse_money("１億abc万円", "申請額") == (None, msg.replace(t("dry_run.field.requested"), "申請額"))
    assert form.parse_money("  ", "申請額") == (None, None)


def test_the_eligible_cost_field_is_named_in_english_too():
    assert form.parse_money("lots", form.money_label("dr_eligible_cost"))[1] is not None
    message = t("dry_run.error.money", "en", field=t("dry_run.field.eligible_cost", "en"), value="lots")
    assert message.startswith(t("dry_run.field.eligible_cost", "en") + ": ") and '"lots"' in message


def test_missing_names_come_first_in_the_form_s_order():
    state = {"dr_app_name": "  ", "dr_n_members": 2, "dr_m_name_0": "岩見沢市", "dr_m_kind_0": "local_government",
             "dr_m_name_1": "", "dr_requested": "abc"}
    data, problems = form.read_form(state, load_pack("autonomous_l4"), [])
    assert problems[0] == "申請者名を入力してください。"
    assert problems[1].startswith("構成員2：")
    assert problems[2].startswith("申請額（提案額）：")
    assert data["consortium"] == [{"name": "岩見沢市", "kind": "local_government", "role": ""}]


def test_a_bad_cost_line_is_named_by_its_line_and_column():
    rows = [{"item": "サーバ", "category": "purchase", "amount": "300万円", "unit_price": "たくさん"},
            {"item": None, "category": None, "amount": None},                  # an empty row: skipped
            {"item": "回線", "category": None, "amount": "10万円"},
            {"item": "工事", "category": "construction", "amount": float("nan")},
            {"item": "保守", "category": "outsourcing", "amount": "1,500万円", "years": 2, "useful_life_years": None}]
    lines, problems = form.cost_lines(rows)
    assert problems == [
        "経費明細 1行目「" + t("dry_run.cost.unit_price") + "」：「たくさん」を金額として読めません。例：1,500万円",
        "経費明細 3行目：区分を選んでください。",
        "経費明細 4行目：金額を入力してください。"]
    assert lines == [{"item": "保守", "category": "outsourcing", "amount_yen": 15_000_000, "years": 2.0}]


def test_a_rule_of_the_model_is_named_by_its_field_path():
    state = {"dr_app_name": "株式会社A"}
    rows = [{"item": "機器", "category": "purchase", "amount": "100万円", "useful_life_years": -1.0}]
    data, problems = form.read_form(state, load_pack("autonomous_l4"), rows)
    assert problems == []
    proposal, problems = form.to_proposal(data, problems)
    assert proposal is None
    assert problems == ["cost_lines[0].useful_life_years: must be ≥ 0 (got -1.0)"]


# --- the buttons ------------------------------------------------------------------------------------------------

def test_clear_blanks_every_widget_and_drops_the_rest():
    state: dict = {}
    form.proposal_to_state(L4, state)
    state.update({"dr_level_service_need": 4, "dr_note_service_need": "メモ", "dr_judged_x": True,
                  "dr_fact_fiscal_strength_index": 0.4, "dr_upload_0": object(), "other": "kept"})
    form.clear_form(state)
    assert state["dr_id"] == "DRAFT-001" and state["dr_pack"] == "autonomous_l4"
    assert state["dr_app_name"] == "" and state["dr_requested"] == "" and state["dr_m_name_0"] == ""
    assert state["dr_app_kind"] == "company" and state["dr_tech"] == []
    assert state["dr_level_service_need"] is None and state["dr_note_service_need"] == ""
    assert state["dr_judged_x"] is False
    assert state["dr_fact_preceding_commercialization_area"] == form.NONE      # a yes/no question: unanswered
    assert state["dr_fact_fiscal_strength_index"] is None                       # a number: empty
    for dropped in ("dr_n_members", "dr_extra_facts", "dr_cost_base", "dr_upload_0", "dr_m_kind_0"):
        assert dropped not in state
    assert "北雪" not in repr(state) and "岩見沢" not in repr(state)
    assert state["other"] == "kept" and form.generation(state) == 1
    form.clear_form(state)
    assert form.generation(state) == 2


def test_members_are_added_empty_and_removed_with_the_rest_moving_up():
    state: dict = {}
    for name in ("A", "B", "C"):
        form.add_member(state)
        state[form.member_key("name", state["dr_n_members"] - 1)] = name
    assert [state[f"dr_m_name_{i}"] for i in range(3)] == ["A", "B", "C"]
    state["dr_m_kind_2"] = "startup"
    form.remove_member(state, 1)
    assert state["dr_n_members"] == 2
    assert (state["dr_m_name_0"], state["dr_m_name_1"], state["dr_m_kind_1"]) == ("A", "C", "startup")
    assert "dr_m_name_2" not in state and "dr_m_kind_2" not in state


def test_answers_a_question_cannot_show_are_asked_again():
    state = {"dr_fact_plan_kind": "no_such_plan", "dr_fact_has_wireless_network": "yes",
             "dr_fact_has_solution_equipment": True}
    form.prepare_fact_state(state, fact_fields(load_pack("subsidy")))
    assert state == {"dr_fact_plan_kind": form.NONE, "dr_fact_has_wireless_network": form.NONE,
                     "dr_fact_has_solution_equipment": True}


def test_fact_choices_and_cost_categories_are_labelled_in_the_users_language():
    assert form.choice_label("x", form.NONE, "en") == t("dry_run.fact.unanswered", "en")
    assert form.choice_label("x", True, "ja") == t("common.yes", "ja")
    assert form.choice_label("plan_kind", "city_os", "ja") == t("fact.choice.plan_kind.city_os", "ja")
    assert form.choice_label("unknown_fact", "odd", "ja") == "odd"
    assert form.category_label("", "ja") == ""


# --- uploads ----------------------------------------------------------------------------------------------------

def test_an_uploaded_single_proposal_object_is_read_in_memory():
    doc = L4.model_dump(mode="json")
    [read] = form.read_upload("p.json", json.dumps(doc, ensure_ascii=False).encode("utf-8-sig"))
    assert read == L4


def test_an_upload_that_is_not_json_says_so_with_the_file_name():
    with pytest.raises(form.UploadError, match="broken.json"):
        form.read_upload("broken.json", b"{not json")


def test_an_invalid_upload_names_file_row_and_field():
    bad = [{"id": "X", "pack": "autonomous_l4", "applicant": {"name": "A", "kind": "company"},
            "requested_yen": "たくさん"}]
    with pytest.raises(InputError) as err:
        form.read_upload("bad.json", json.dumps(bad).encode())
    assert any(str(p).startswith("bad.json:[0]:requested_yen") for p in err.value.problems), err.value.problems
