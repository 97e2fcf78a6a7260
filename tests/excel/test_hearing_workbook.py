"""The chair workbook of a two-stage run (docs/excel.md "Hearing stage sheets"): 「ヒアリング対象」 and
「ヒアリング審査」 with the figures of the ranking, the chair's edits with reason, who and when (JST), labels in ja/en,
formula-safe cells — and the one-stage workbook exactly as before."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, timezone

from openpyxl import load_workbook

from scoring.hearing_ranking import ShortlistEdit
from scoring.io.call import load_call
from scoring.io.chair_workbook import chair_workbook
from tests.factories import ROOT

EX = ROOT / "tests" / "data" / "hearing-small"
L4 = ROOT / "tests" / "data" / "l4-small"
AT = datetime(2026, 4, 1, 9, 0, tzinfo=timezone.utc)


def hearing_call():
    return load_call(str(EX / "pack.yaml"), EX / "proposals.json", EX / "reviews.csv", EX / "reviewers.csv")


def rows(ws):
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_two_stage_workbook_has_the_shortlist_and_hearing_sheets_with_the_rankings_figures():
    call = hearing_call()
    edit = ShortlistEdit("H-5", "add", "=HYPERLINK(\"http://x\")", by="chair", at="2026-04-01T00:30:00+00:00")
    ranking = call.rank_hearing(edits=[edit])
    wb = load_workbook(io.BytesIO(chair_workbook(ranking, call, generated_at=AT)))
    assert wb.sheetnames[-2:] == ["ヒアリング対象", "ヒアリング審査"]
    short = rows(wb["ヒアリング対象"])
    assert short[0] == ["書面順位", "提案ID", "提案名", "申請者", "書面合計点（S_d）", "ヒアリング対象", "変更の理由",
                        "変更者", "変更日時"]
    body = {r[1]: r for r in short[1:]}
    assert [r[1] for r in short[1:]] == ["H-1", "H-2", "H-4", "H-3", "H-5"]      # document order; H-6 never qualified
    assert [r[0] for r in short[1:]] == [1, 2, 3, 4, 5]
    assert body["H-4"][5] == body["H-3"][5] == "対象（選定方法による）"           # the tie at the cut
    assert body["H-5"][5:] == ["対象（追加）", "=HYPERLINK(\"http://x\")", "chair", "2026-04-01 09:30"]  # JST
    cell = next(c for c in wb["ヒアリング対象"]["G"] if c.value == "=HYPERLINK(\"http://x\")")
    assert cell.data_type == "s" and cell.quotePrefix                           # text, never a formula
    for r in short[1:]:
        assert abs(r[4] - float(ranking.document.total[ranking.table.index_of()[r[1]]])) < 1e-12
    hear = rows(wb["ヒアリング審査"])
    assert hear[0][:10] == ["最終順位", "提案ID", "提案名", "申請者", "書面合計点（S_d）", "基礎点", "ヒアリング点（B_h）",
                            "最終点（S）", "ヒアリング評価数", "判定"]
    results = {x["proposal_id"]: x for x in ranking.results()}
    assert [r[1] for r in hear[1:]] == ["H-4", "H-3", "H-2", "H-1", "H-5"]       # final order, then the unranked
    for r in hear[1:]:
        want = results[r[1]]
        assert r[0] == want["rank"] and r[8] == want["n_hearing_reviews"]
        assert abs(r[5] - want["document_score"]) < 1e-12
        for k, key in ((6, "hearing_score"), (7, "total_score")):     # none without a counted hearing review
            assert (r[k] is None) if want[key] is None else abs(r[k] - want[key]) < 1e-12, (r[1], key)
    assert [r[9] for r in hear[1:]] == ["採択", "採択", "補欠", "合格点未満", "評価数不足"]
    assert [r[13] for r in hear[1:]].count("ここまで採択") == 1 and hear[2][13] == "ここまで採択"


def test_english_labels_and_whatif_prefix():
    call = hearing_call()
    from scoring.params import WhatIf

    wb = load_workbook(io.BytesIO(chair_workbook(call.rank_hearing(WhatIf(budget=100_000_000)), call, lang="en",
                                                 whatif=WhatIf(budget=100_000_000), generated_at=AT)))
    assert wb.sheetnames[-2:] == ["試算_ヒアリング対象", "試算_ヒアリング審査"]
    assert rows(wb["試算_ヒアリング審査"])[0][6] == "Hearing score (B_h)"
    assert rows(wb["試算_ヒアリング対象"])[1][5] == "Shortlisted by the method"


def digest(data: bytes) -> str:
    """Every sheet name and every cell's value, number format, fill, bold and bottom border."""
    wb = load_workbook(io.BytesIO(data))
    h = hashlib.sha256()
    for ws in wb.worksheets:
        h.update(repr(ws.title).encode())
        for row in ws.iter_rows():
            for c in row:
                h.update(repr((c.coordinate, c.value, c.number_format, c.fill.fgColor.rgb if c.fill else None,
                               c.font.b if c.font else None, c.border.bottom.style if c.border else None)).encode())
    return h.hexdigest()


def test_the_one_stage_workbook_is_unchanged():
    """Digests taken from the workbook before the hearing sheets existed (same data, same time)."""
    golden = {("l4-small", "autonomous_l4"): "f2cdb9c5378e2b35825a5cbdf6797eed822b694f0f9f970d67a7fd81e32c9359",
              ("hearing-small", None): "036780f54f109fbcdddb754b1a961874c309493d410ecc38352a841d17c3082f"}
    for (d, pack), want in golden.items():
        ex = ROOT / "tests" / "data" / d
        call = load_call(str(ex / "pack.yaml") if pack is None else pack, ex / "proposals.json", ex / "reviews.csv",
                         ex / "reviewers.csv")
        data = chair_workbook(call.rank(), call, round_name="第1回", generated_at=AT)
        assert load_workbook(io.BytesIO(data)).sheetnames == ["概要", "採択候補一覧", "評価項目別", "委員別", "所見",
                                                             "要件審査", "グラフ"]
        assert digest(data) == want, d
