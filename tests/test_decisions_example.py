"""The worked example of decisions.md (tests/data/decisions-small, computed by hand in its README) through the real
command line: a reduction freeing budget for a reserve (補欠繰上げ), a subsidy approved-cost rounding, a refused
over-budget set and a conditional adoption; the 選定結果 sheet, the notices' wiring and the feedback bands."""

import json
import subprocess
import sys
import types
from datetime import date

import pytest
from openpyxl import load_workbook

from scoring.cli import main
from scoring.decision_rules import decide
from scoring.decisions import DecisionEdit, promotion_reason
from scoring.io.call import load_call
from scoring.io.tables import read_decisions
from scoring.notices_data import PLACEHOLDERS, bands, notice_fields, placeholders
from tests.factories import ROOT

EX = ROOT / "tests" / "data" / "decisions-small"
ARGS = ["--pack", str(EX / "pack.yaml"), "--proposals", str(EX / "proposals.json"), "--reviews",
        str(EX / "reviews.csv"), "--reviewers", str(EX / "reviewers.csv")]


def run(*extra, check=True):
    return subprocess.run([sys.executable, "-m", "scoring", "decide", *ARGS, *extra], cwd=ROOT, capture_output=True,
                          text=True, check=check)


def example_ranking():
    call = load_call(EX / "pack.yaml", EX / "proposals.json", EX / "reviews.csv", EX / "reviewers.csv")
    return call.rank()


def test_the_committees_changes_match_the_hand_computed_expected_on_every_field():
    got = json.loads(run("--decisions", str(EX / "decisions.csv"), "--format", "json").stdout)
    expected = json.loads((EX / "expected.json").read_text(encoding="utf-8"))
    assert got["pack"] == "decisions_small" and got["confirmable"] is True
    assert got["budget"] == expected["budget"]
    assert [r["proposal_id"] for r in got["results"]] == [r["proposal_id"] for r in expected["results"]]
    for g, e in zip(got["results"], expected["results"]):
        for key, value in e.items():
            assert g[key] == value, (e["proposal_id"], key)


def test_without_decisions_the_proposed_ones_have_no_departure_and_carry_the_condition():
    got = json.loads(run().stdout)
    res = {r["proposal_id"]: r for r in got["results"]}
    assert [res[p]["decision"] for p in ("D-1", "D-2", "D-3", "D-4", "D-5", "D-6")] == [
        "adopted", "adopted_conditional", "adopted", "reserve", "reserve", "not_adopted"]
    assert res["D-2"]["conditions"] == "交付申請までに地方公共団体を1以上含むコンソーシアムを形成"
    assert [res[p]["reserve_position"] for p in ("D-4", "D-5")] == [1, 2]
    assert not any(r["departure"] for r in got["results"])
    assert got["budget"] == {"total_yen": 100000000, "awarded_yen": 95000000, "remaining_yen": 5000000}


def test_the_reduction_frees_budget_and_the_first_fitting_reserve_is_offered():
    ranking = example_ranking()
    d = decide(ranking, [DecisionEdit("D-1", approved_cost_yen="5000万1999円", reason="査定", row="2")])
    assert d.remaining == 20_000_000
    i = d.promotion_candidate()
    assert ranking.table.ids[i] == "D-4"
    assert promotion_reason() == "補欠繰上げ（減額による予算残）"
    # only the reduction: the remaining 20,000,000 is not offered to D-5 (F 15,000,000) before D-4
    assert d.promotion_candidate() == i


def test_an_over_budget_set_exits_2_naming_the_file_and_writes_nothing(tmp_path):
    out = tmp_path / "out.json"
    notices = tmp_path / "notices"
    p = run("--decisions", str(EX / "decisions-over.csv"), "--out", str(out), "--notices", str(notices), check=False)
    assert p.returncode == 2
    assert "decisions-over.csv: (budget): the adopted proposals' awarded total 115,000,000円 exceeds the budget " \
           "100,000,000円 by 15,000,000円" in p.stderr
    assert not out.exists() and not notices.exists()


def test_every_broken_rule_of_a_file_is_listed_at_once_with_file_row_field(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("proposal_id,decision,awarded_yen,approved_cost_yen,conditions,reason,reserve_position\n"
                   "D-1,,,90000000,,,\n"                       # C' > eligible cost
                   "D-2,adopted,,,,,\n"                        # departure without reason
                   "D-3,adopted_conditional,,,,理由,\n"         # conditional without conditions
                   "D-5,,,,,,3\n"                              # reserve position out of 1..k
                   "D-6,adopted,40000000,,,理由,\n", encoding="utf-8")   # awarded_yen in a subsidy pack
    p = run("--decisions", str(bad), "--out", str(tmp_path / "o.json"), check=False)
    assert p.returncode == 2 and not (tmp_path / "o.json").exists()
    lines = p.stderr.splitlines()
    assert any(x.startswith(f"{bad}:2:approved_cost_yen: ") and "eligible cost" in x for x in lines)
    assert any(x.startswith(f"{bad}:3:reason: ") for x in lines)
    assert any(x.startswith(f"{bad}:4:conditions: ") for x in lines)
    assert any(x.startswith(f"{bad}:5:reserve_position: ") and "1..2" in x for x in lines)
    assert any(x.startswith(f"{bad}:6:awarded_yen: ") and "approved_cost_yen" in x for x in lines)


def test_xlsx_has_the_selection_record_sheet_and_its_cells_are_formula_safe(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text((EX / "decisions.csv").read_text(encoding="utf-8").replace(
        "使用許可が未取得のため条件を付す", "=HYPERLINK(\"http://x\")"), encoding="utf-8")
    out = tmp_path / "sel.xlsx"
    run("--decisions", str(f), "--format", "xlsx", "--out", str(out))
    wb = load_workbook(out)
    assert wb.sheetnames == ["選定結果"]
    ws = wb["選定結果"]
    header = [c.value for c in ws[1]]
    for col in ("順位", "案", "採否", "算定額F（円）", "採択額A（円）", "条件", "変更", "理由"):
        assert col in header
    rows = {r[1]: r for r in ws.iter_rows(min_row=2, values_only=True) if r[1]}
    d1 = rows["D-1"]
    assert d1[header.index("採択額A（円）")] == 25000000 and d1[header.index("減額")] == "○"
    assert rows["D-4"][header.index("採否")] == "採択" and rows["D-4"][header.index("案")] == "補欠"
    cell = next(c for row in ws.iter_rows(min_row=2) for c in row if c.value == "=HYPERLINK(\"http://x\")")
    assert cell.data_type == "s" and cell.quotePrefix


def test_notices_are_written_through_the_adapter_for_every_proposal(tmp_path, monkeypatch, capsys):
    """--notices calls scoring.io.notices.write_notices (the h18notice adapter, stood in for here) with one
    NoticeFields per proposal; with --feedback only reserve/not adopted ones carry feedback."""
    calls = []
    fake = types.ModuleType("scoring.io.notices")
    fake.write_notices = lambda out_dir, fields, templates=None, pdf=False: calls.append((out_dir, list(fields)))
    monkeypatch.setitem(sys.modules, "scoring.io.notices", fake)
    code = main(["decide", *ARGS, "--decisions", str(EX / "decisions.csv"), "--notices", str(tmp_path / "n"),
                 "--feedback", "--round-name", "令和8年度第1回", "--notice-date", "2026-11-29", "--out",
                 str(tmp_path / "o.json")])
    assert code == 0
    (out_dir, fields), = calls
    assert out_dir == tmp_path / "n"
    by_id = {f.proposal_id: f for f in fields}
    assert sorted(by_id) == ["D-1", "D-2", "D-3", "D-4", "D-5", "D-6"]
    assert by_id["D-1"].feedback is None and by_id["D-1"].awarded_yen == 25_000_000
    assert by_id["D-5"].reserve_position == 1 and by_id["D-5"].feedback.band == "C"
    ctx = placeholders(by_id["D-6"])
    assert set(ctx) == PLACEHOLDERS
    assert ctx["notice_date"] == "2026年11月29日" and ctx["round_name"] == "令和8年度第1回"
    assert ctx["band"] == "D" and ctx["decision"] == "不採択"
    assert ctx["applicant_comments"] == ["実証地域の選定理由が不明確です。", "費用対効果の説明を補強してください。"]
    assert "内部メモ" not in json.dumps(ctx, ensure_ascii=False)
    assert [c["adopted_mean"] for c in ctx["criteria"]] == ["0.75", "0.75"]
    assert placeholders(by_id["D-1"])["awarded_man"] == "2,500万円"
    assert placeholders(by_id["D-1"])["awarded_yen"] == "25,000,000円"
    # a refused set never calls the adapter
    calls.clear()
    assert main(["decide", *ARGS, "--decisions", str(EX / "decisions-over.csv"), "--notices",
                 str(tmp_path / "m"), "--out", str(tmp_path / "p.json")]) == 2
    assert calls == [] and not (tmp_path / "p.json").exists()


def test_bands_of_the_example_are_thirds_of_the_qualifying_by_final_rank():
    ranking = example_ranking()
    got = dict(zip(ranking.table.ids, bands(ranking)))
    assert got == {"D-1": "A", "D-2": "A", "D-3": "B", "D-4": "B", "D-5": "C", "D-6": "D"}


def test_no_internal_comment_reaches_any_notice_text():
    ranking = example_ranking()
    d = decide(ranking, read_decisions(EX / "decisions.csv"), source="decisions.csv")
    fields = notice_fields(d, round_name="R", notice_date=date(2026, 11, 29), sender="事務局", with_feedback=True)
    text = json.dumps([placeholders(f) for f in fields], ensure_ascii=False)
    assert "内部メモ" not in text and "横展開の計画は具体的で評価できます。" in text


def test_read_decisions_refuses_an_unknown_column(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("proposal_id,awarded\nD-1,1\n", encoding="utf-8")
    p = run("--decisions", str(f), check=False)
    assert p.returncode == 2 and f"{f}:1:awarded: unknown column" in p.stderr


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_stdout_output_is_complete(fmt):
    out = run("--decisions", str(EX / "decisions.csv"), "--format", fmt).stdout
    assert all(f"D-{k}" in out for k in range(1, 7)) and "補欠繰上げ（減額による予算残）" in out


def test_decide_on_the_final_ranking_of_the_hearing_stage():
    hs = ROOT / "tests" / "data" / "hearing-small"
    args = ["--pack", str(hs / "pack.yaml"), "--proposals", str(hs / "proposals.json"), "--reviews",
            str(hs / "reviews.csv"), "--reviewers", str(hs / "reviewers.csv")]
    ranked = json.loads(subprocess.run([sys.executable, "-m", "scoring", "rank", *args, "--stage", "hearing"],
                                       cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    got = json.loads(subprocess.run([sys.executable, "-m", "scoring", "decide", *args, "--stage", "hearing"],
                                    cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    assert got["parameters"]["stage"] == "hearing"
    want = {"selected": "adopted", "waitlisted": "reserve"}
    assert [(r["proposal_id"], r["rank"], r["computed_decision"]) for r in got["results"]] == [
        (r["proposal_id"], r["rank"], r["decision"]) for r in ranked["results"]]
    for r in got["results"]:
        assert r["proposed_decision"] == want.get(r["computed_decision"], "not_adopted")
    assert "not_shortlisted" in {r["computed_decision"] for r in got["results"]}


def _docx_text(path) -> str:
    from docx import Document

    doc = Document(str(path))
    return "\n".join([p.text for p in doc.paragraphs]
                     + [c.text for t in doc.tables for row in t.rows for c in row.cells])


def test_decide_notices_end_to_end_with_the_real_adapter(tmp_path):
    """The real command line and the real scoring.io.notices: one .docx per proposal and the zip, opened with
    python-docx; feedback and the applicant comments in the not-adopted notice, never the internal comment; the
    round's name in the lead — and without --round-name no dangling 「において」."""
    out = tmp_path / "n"
    run("--decisions", str(EX / "decisions.csv"), "--notices", str(out), "--feedback", "--round-name",
        "令和8年度第1回公募", "--notice-date", "2026-11-29", "--out", str(tmp_path / "o.json"))
    assert sorted(p.name for p in out.iterdir()) == [f"D-{i}.docx" for i in range(1, 7)] + ["notices.zip"]
    d1, d6 = _docx_text(out / "D-1.docx"), _docx_text(out / "D-6.docx")
    assert "令和8年度第1回公募において御提出いただいた" in d1 and "2,500万円" in d1 or "25,000,000円" in d1
    assert "費用対効果の説明を補強してください。" in d6 and "内部メモ" not in d6
    bare = tmp_path / "b"
    run("--notices", str(bare), "--out", str(tmp_path / "b.json"))
    lead = _docx_text(bare / "D-6.docx")
    assert "において" not in lead and "　御提出いただいた標記事業の提案" in lead
    assert "費用対効果" not in lead                   # feedback off by default
