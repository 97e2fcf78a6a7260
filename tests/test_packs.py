import copy

import pytest

from scoring.errors import PackError
from scoring.io.packs import load_pack, pack_path, read_pack_file
from scoring.packs import SHIPPED_PACKS, validate_pack


@pytest.mark.parametrize("pack_id", SHIPPED_PACKS)
def test_every_shipped_pack_is_valid_and_complete(pack_id):
    pack = load_pack(pack_id)
    assert sum(c.points for c in pack.criteria) == pack.total_points == 100
    assert [s.level for s in pack.scale] == [5, 4, 3, 2, 1]
    for c in pack.criteria:
        assert set(c.guidance) == {1, 2, 3, 4, 5}
        assert all(g.ja and g.en for g in c.guidance.values()), c.id
        assert c.label.en
    assert pack.notes, "every pack says where its content is derived"


def test_pack_ids_of_the_contract_stay_as_formats_md_names_them():
    assert load_pack("autonomous_l4").criterion_ids == [
        "service_need", "verification_items", "verification_environment", "remote_monitoring_safety", "rollout_plan"]
    assert [b.id for b in load_pack("advanced_comms").bonuses] == ["startup", "digikatsu", "local_ict", "shared_use"]
    assert load_pack("subsidy").funding.subsidy_rate.denominator == 2
    assert load_pack("planning_support").budget.capacity_count == 40


def _raw(pack_id="autonomous_l4"):
    return copy.deepcopy(read_pack_file(pack_path(pack_id)))


def test_negative_points_are_refused_naming_the_field():
    data = _raw()
    data["criteria"][1]["points"] = -5
    with pytest.raises(PackError) as exc:
        validate_pack(data, source="criteria/autonomous_l4.yaml")
    assert "criteria/autonomous_l4.yaml: criteria[1].points: must be > 0 (got -5)" in str(exc.value)


def test_all_problems_are_listed_at_once():
    data = _raw()
    data["criteria"][0]["points"] = 30           # sum 110
    data["criteria"][2]["guidance"].pop(3)       # a level without guidance
    data["selection"]["aggregation"] = "mode"    # not an aggregation
    data["eligibility"][0]["require"]["op"] = "approx"
    with pytest.raises(PackError) as exc:
        validate_pack(data, source="p.yaml")
    text = str(exc.value)
    assert "p.yaml: selection.aggregation:" in text
    assert "p.yaml: eligibility[0].require.op: 'approx' is not one of" in text
    # semantic checks run once the structure is valid
    data["selection"]["aggregation"] = "mean"
    data["eligibility"][0]["require"]["op"] = "ge"
    with pytest.raises(PackError) as exc:
        validate_pack(data, source="p.yaml")
    text = str(exc.value)
    assert "p.yaml: criteria: points sum to 110, but total_points is 100" in text
    assert "p.yaml: criteria[2].guidance: no guidance for level(s) [3]" in text


def test_rules_are_data_not_code():
    data = _raw()
    data["eligibility"][0]["require"] = "__import__('os').system('echo pwned')"
    with pytest.raises(PackError, match=r"eligibility\[0\]\.require: a condition must be a mapping"):
        validate_pack(data, source="p.yaml")
    data = _raw()
    data["eligibility"][0]["require"] = {"left": {"python": "1+1"}, "op": "eq", "right": 2}
    with pytest.raises(PackError, match=r"unknown operand 'python'"):
        validate_pack(data, source="p.yaml")


def test_unknown_pack_and_bad_yaml(tmp_path):
    with pytest.raises(PackError, match="unknown pack 'nope'"):
        load_pack("nope")
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(PackError, match="not valid YAML"):
        load_pack(bad)


def test_pack_round_trips_as_stored_data():
    from scoring.packs import pack_from_dict, pack_to_dict
    pack = load_pack("promotion_system")
    again = pack_from_dict(pack_to_dict(pack))
    assert pack_to_dict(again) == pack_to_dict(pack)
    assert again.facts_read() == pack.facts_read()
