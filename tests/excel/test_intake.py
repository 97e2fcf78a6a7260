"""The intake list 応募一覧.xlsx: what people type is read; what cannot be read is listed, every cell at once."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook

from scoring.cli import main
from scoring.errors import InputError
from scoring.io import read_proposals
from scoring.io.intake import intake_template, read_intake

MESSY_MONEY = ["1億4,000万円", "１６０，０００，０００", " 90000000 ", "1.2億円", "100,000,000円"]
KIND_JA = {"local_government": "地方公共団体", "company": "企業", "prefecture": "都道府県"}


def put(ws, row, values):
    """Type values into a row (the template pre-formats rows as text, so append() would go below them)."""
    for col, v in enumerate(values, 1):
        if v is not None:
            ws.cell(row, col, v)


def write_intake(path, proposals):
    """Fill the shipped template as a secretariat would (Japanese labels, messy amounts, stray spaces)."""
    wb = load_workbook(io.BytesIO(intake_template()))
    ws, mem, cost = wb["応募"], wb["構成員"], wb["経費"]
    head = {c.value: c.column for c in ws[1]}
    mem_row = 2
    for k, p in enumerate(proposals):
        r = k + 2
        ws.cell(r, head["提案ID"], f" {p['id']} ")
        ws.cell(r, head["評価パック"], p["pack"])
        ws.cell(r, head["提案名"], p["title"])
        ws.cell(r, head["申請者名"], p["applicant"]["name"] + "\u3000")
        ws.cell(r, head["申請者種別"], KIND_JA.get(p["applicant"]["kind"], p["applicant"]["kind"]))
        ws.cell(r, head["申請額"], MESSY_MONEY[k % len(MESSY_MONEY)])
        ws.cell(r, head["技術"], "、".join({"local5g": "ローカル5G"}.get(t, t) for t in p["technologies"]))
        for name, v in p["facts"].items():
            ws.cell(r, head[f"fact:{name}"], {True: "はい", False: "いいえ"}.get(v, v))
        for m in p["consortium"]:
            put(mem, mem_row, [p["id"], m["name"], KIND_JA.get(m["kind"], m["kind"]), m.get("role", "")])
            mem_row += 1
    put(cost, 2, ["EX-1", "ローカル5G基地局", "リース", "４２,０００,０００", None, "5年", 3])
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(buf.getvalue())


def test_intake_round_trip_ranks_like_the_json(tmp_path, example_paths, capsys):
    src = json.loads(example_paths["proposals"].read_text(encoding="utf-8"))
    path = tmp_path / "応募一覧.xlsx"
    write_intake(path, src)
    got = {p.id: p for p in read_intake(path)}
    want = {p.id: p for p in read_proposals(example_paths["proposals"])}
    assert set(got) == set(want)
    amounts = {"EX-1": 140_000_000, "EX-2": 160_000_000, "EX-3": 90_000_000, "EX-4": 120_000_000,
               "EX-5": 100_000_000}
    for pid, p in got.items():
        w = want[pid]
        assert p.requested_yen == w.requested_yen == amounts[pid]
        assert p.applicant.name == w.applicant.name and p.applicant.kind == w.applicant.kind
        assert [(m.name, m.kind) for m in p.consortium] == [(m.name, m.kind) for m in w.consortium]
        assert p.technologies == w.technologies and p.facts == w.facts and p.title == w.title
    line = got["EX-1"].cost_lines[0]
    assert (line.category.value, line.amount_yen, line.useful_life_years, line.years) == ("lease", 42_000_000, 5, 3)

    def rank(proposals):
        capsys.readouterr()
        assert main(["rank", "--pack", "autonomous_l4", "--proposals", str(proposals), "--reviews",
                     str(example_paths["reviews"]), "--reviewers", str(example_paths["reviewers"]),
                     "--budget", "300000000", "--format", "json", "--out", "-"]) == 0
        return [(r["proposal_id"], r["decision"], r["total_score"], r["funded_yen"])
                for r in json.loads(capsys.readouterr().out)["results"]]
    assert rank(path) == rank(example_paths["proposals"])


def test_every_unreadable_cell_listed_at_once(tmp_path):
    wb = load_workbook(io.BytesIO(intake_template()))
    ws, mem, cost = wb["応募"], wb["構成員"], wb["経費"]
    put(ws, 2, ["A-1", "autonomous_l4", "t", "甲市", "地方公共団体", None, None, "百万円"])
    put(ws, 3, ["A-2", "autonomous_l4", "t", "乙社", "宇宙人"])
    put(ws, 4, ["A-3", "autonomous_l4", "t", None, "企業", None, None, "-5"])
    put(ws, 5, ["A-1", "autonomous_l4", "dup", "丙社", "企業"])
    put(mem, 2, ["A-9", "丁町", "地方公共団体"])
    put(cost, 2, ["A-1", "x", "wagyu", "1000", None, "十年"])
    path = tmp_path / "bad.xlsx"
    wb.save(path)
    with pytest.raises(InputError) as exc:
        read_intake(path)
    got = {(p.row, p.field) for p in exc.value.problems}
    assert got == {("応募!H2", "requested_yen"), ("応募!E3", "applicant_kind"), ("応募!D4", "applicant_name"),
                   ("応募!H4", "requested_yen"), ("応募!A5", "id"), ("構成員!A2", "proposal_id"),
                   ("経費!C2", "category"), ("経費!F2", "useful_life_years")}
    text = str(exc.value)
    assert "'宇宙人' is not a member kind" in text and "must not be negative" in text


def test_missing_columns_and_sheet_named(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "proposals"
    wb.active.append(["id", "Title", "謎の列"])
    wb.active.append(["A-1", "x", "y"])
    path = tmp_path / "cols.xlsx"
    wb.save(path)
    with pytest.raises(InputError) as exc:
        read_intake(path)
    got = {(p.row, p.field) for p in exc.value.problems}
    assert ("proposals!C1", "(header)") in got
    assert {("proposals!1", "pack"), ("proposals!1", "applicant_name"), ("proposals!1", "applicant_kind")} <= got


def test_cli_intake_template_is_documented(tmp_path, capsys):
    out = tmp_path / "t.xlsx"
    assert main(["intake-template", "--pack", "autonomous_l4", "--out", str(out)]) == 0
    wb = load_workbook(out)
    assert wb.sheetnames == ["応募", "構成員", "経費", "説明"]
    assert "fact:preceding_commercialization_area" in [c.value for c in wb["応募"][1]]
    assert read_intake(out) == []
    keys = {r[2] for r in wb["説明"].iter_rows(min_row=2, values_only=True)}
    assert {"id", "requested_yen", "amount_yen", "kind"} <= keys


def test_read_intake_takes_bytes_and_file_objects_naming_the_upload(tmp_path):
    wb = load_workbook(io.BytesIO(intake_template()))
    put(wb["応募"], 2, ["A-1", "autonomous_l4", "t", "甲市", "地方公共団体", None, None, "百万円"])
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    for source, kw, name in ((data, {"source_name": "応募一覧.xlsx"}, "応募一覧.xlsx"),
                             (("upload.xlsx", data), {}, "upload.xlsx"),
                             (io.BytesIO(data), {}, "(upload)")):
        with pytest.raises(InputError) as exc:
            read_intake(source, **kw)
        assert [(p.file, p.row, p.field) for p in exc.value.problems] == [(name, "応募!H2", "requested_yen")]
    with pytest.raises(InputError) as exc:
        read_intake(b"not a workbook", source_name="x.xlsx")
    assert exc.value.problems[0].file == "x.xlsx" and "not a readable .xlsx workbook" in exc.value.problems[0].message
