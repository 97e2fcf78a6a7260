"""Generate the demo proposals' 提案書 PDFs: ``sample_proposals/documents/<id>_提案書.pdf`` (issue 16 item 6).

Each is a fictional 2–4 page Japanese proposal consistent with its entry in ``sample_proposals/proposals.json`` —
title, applicant, consortium with roles, technologies, requested amount, the cost table (items, categories,
amounts, total) and the summary — set in IPAex Gothic, embedded (a subset) so any viewer shows the Japanese.

The PDFs are committed: the demo (app/demo.py) and the tests load them without reportlab or the font. Run again
after changing the sample proposals (needs ``reportlab`` of requirements-dev.txt and the Debian package
``fonts-ipaexfont-gothic``)::

    python3 scripts/make_sample_pdfs.py [--font /path/to/ipaexg.ttf] [--out sample_proposals/documents]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reportlab.lib import colors  # noqa: E402
from reportlab.lib.enums import TA_CENTER  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.styles import ParagraphStyle  # noqa: E402
from reportlab.lib.units import mm  # noqa: E402
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.pdfbase.ttfonts import TTFont  # noqa: E402
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle  # noqa: E402

from scoring.labels import label  # noqa: E402
from scoring.money import format_man_oku, format_yen, parse_yen  # noqa: E402

FONT = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
NAME = "IPAexGothic"
PACK_NAMES = {"autonomous_l4": "自動運転レベル4 通信環境整備支援事業", "advanced_comms": "先進的無線システム実証事業",
              "ai_edge": "AI・エッジ活用 地域課題解決実証事業", "subsidy": "地域デジタル基盤整備 補助事業",
              "planning_support": "地域DX 計画策定支援事業", "promotion_system": "地域DX 推進体制構築支援事業"}


def styles():
    base = dict(fontName=NAME, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", fontSize=18, leading=28, alignment=TA_CENTER, spaceAfter=8 * mm, **base),
        "sub": ParagraphStyle("sub", fontSize=12, leading=18, alignment=TA_CENTER, **base),
        "h": ParagraphStyle("h", fontSize=13, leading=20, spaceBefore=5 * mm, spaceAfter=2 * mm,
                            textColor=colors.HexColor("#1f3a5f"), **base),
        "p": ParagraphStyle("p", fontSize=10.5, leading=17, firstLineIndent=10.5, **base),
        "cell": ParagraphStyle("cell", fontSize=9.5, leading=14, **base),
        "right": ParagraphStyle("right", fontSize=9.5, leading=14, alignment=2, **base),
    }


def table(rows, widths, header=True):
    t = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#888888")),
                           ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5") if header else colors.white),
                           ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("TOPPADDING", (0, 0), (-1, -1), 3),
                           ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
    return t


def story(p: dict, S) -> list:
    p = {**p, "requested_yen": parse_yen(p["requested_yen"]),   # amounts as the files may write them ("1億2000万円")
         "eligible_cost_yen": parse_yen(p["eligible_cost_yen"]) if p.get("eligible_cost_yen") is not None else None,
         "cost_lines": [{**c, "amount_yen": parse_yen(c["amount_yen"])} for c in p.get("cost_lines") or []]}
    P = lambda text, st="p": Paragraph(text, S[st])   # noqa: E731
    C = lambda text: Paragraph(str(text), S["cell"])   # noqa: E731
    R = lambda text: Paragraph(str(text), S["right"])   # noqa: E731
    app = p["applicant"]
    where = " ".join(x for x in (app.get("prefecture"), app.get("municipality")) if x)
    techs = "、".join(label(f"tech.{x}", "ja") for x in p.get("technologies", [])) or "—"
    out = [Spacer(1, 30 * mm), P(f"令和8年度 {PACK_NAMES.get(p['pack'], '')}", "sub"), Spacer(1, 6 * mm),
           P("提　案　書", "title"), P(p["title"], "title"), Spacer(1, 20 * mm)]
    out.append(table([[C("提案番号"), C(p["id"])], [C("提案者（代表機関）"), C(app["name"])],
                      [C("所在地"), C(where or "—")], [C("申請額"), C(f"{format_man_oku(p['requested_yen'])}"
                                                                    f"（{format_yen(p['requested_yen'])}）")],
                      [C("利用する技術"), C(techs)], [C("提出日"), C("令和8年5月15日")]],
                     [45 * mm, 115 * mm], header=False))
    out += [Spacer(1, 25 * mm), P("※ 本書はデモ用に作成した架空の提案書です。実在の団体・事業とは関係ありません。", "cell"),
            PageBreak()]

    out += [P("1. 事業の概要", "h"), P(p.get("summary") or "（概要なし）")]
    out += [P("2. 背景と課題", "h"),
            P(f"{where or '対象地域'}では、人口減少と担い手不足のもとで地域の生活・産業を支えるデジタル基盤の整備が急務と"
              f"なっている。本提案は「{p['title']}」により、地域が自ら運用できる仕組みとして{techs}を活用し、"
              "実証で得た知見を他地域でも再現できる形に整理する。")]
    out += [P("3. 実施体制", "h")]
    rows = [[C("構成員"), C("種別"), C("役割")],
            [C(app["name"] + "（代表）"), C(label(f"kind.{app['kind']}", "ja")), C("事業全体の統括・進捗管理")]]
    for m in p.get("consortium", []):
        rows.append([C(m["name"]), C(label(f"kind.{m['kind']}", "ja")), C(m.get("role") or "—")])
    out.append(table(rows, [55 * mm, 40 * mm, 65 * mm]))
    out += [P("4. 実施内容とスケジュール", "h")]
    sched = [[C("時期"), C("実施内容")], [C("第1四半期"), C("実施計画の詳細化、関係者との調整、機器・役務の調達")],
             [C("第2四半期"), C("環境構築・試験運用、評価指標と測定方法の確定")],
             [C("第3四半期"), C("本実証（データ取得・運用検証）、中間評価")],
             [C("第4四半期"), C("効果検証・報告書作成、横展開に向けた成果の公表")]]
    out.append(table(sched, [30 * mm, 130 * mm]))
    if p.get("facts"):
        out += [P("5. 申告事項", "h")]
        facts = [[C("項目"), C("内容")]] + [[C(k), C("該当" if v is True else "非該当" if v is False else v)]
                                          for k, v in p["facts"].items()]
        out.append(table(facts, [80 * mm, 80 * mm]))
    out.append(PageBreak())

    out += [P("6. 所要経費", "h")]
    lines = p.get("cost_lines") or []
    rows = [[C("経費項目"), C("区分"), C("金額（円）")]]
    for c in lines:
        rows.append([C(c["item"]), C(label(f"cost.category.{c['category']}", "ja")), R(format_yen(c["amount_yen"]))])
    total = sum(c["amount_yen"] for c in lines)
    rows.append([C("合計"), C(""), R(format_yen(total))])
    out.append(table(rows, [90 * mm, 30 * mm, 40 * mm]))
    out += [Spacer(1, 3 * mm),
            P(f"申請額は{format_man_oku(p['requested_yen'])}（{format_yen(p['requested_yen'])}）とする。"
              + (f"うち補助対象経費は{format_man_oku(p['eligible_cost_yen'])}である。" if p.get("eligible_cost_yen") else ""))]
    out += [P("7. 期待される効果と横展開", "h"),
            P("実証の成果は、導入コスト・運用体制・効果指標を含む手引きとしてまとめ、同様の課題を抱える自治体が"
              "参照できる形で公開する。構成員の地域企業が保守運用を担うことで、実証後も自立的に継続できる体制とする。"),
            P("8. リスクと対応", "h"),
            P("機器調達の遅延、電波環境の想定との相違、関係者の合意形成の遅れを主なリスクとして想定し、"
              "代替調達先の確保、事前の電波伝搬調査、定例会議による進捗共有で対応する。")]
    return out


def footer(canvas, doc, pid: str) -> None:
    canvas.saveState()
    canvas.setFont(NAME, 8)
    canvas.drawCentredString(A4[0] / 2, 10 * mm, f"{pid}　提案書　- {doc.page} -")
    canvas.restoreState()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--font", default=FONT)
    ap.add_argument("--out", default=str(ROOT / "sample_proposals" / "documents"))
    args = ap.parse_args(argv)
    pdfmetrics.registerFont(TTFont(NAME, args.font))   # TrueType: embedded as a subset
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    S = styles()
    proposals = json.loads((ROOT / "sample_proposals" / "proposals.json").read_text(encoding="utf-8"))
    for p in proposals:
        path = out / f"{p['id']}_提案書.pdf"
        doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=25 * mm, rightMargin=25 * mm, topMargin=20 * mm,
                                bottomMargin=20 * mm, title=f"{p['id']} 提案書 {p['title']}", author=p["applicant"]["name"],
                                invariant=1)
        doc.build(story(p, S), onFirstPage=lambda c, d, pid=p["id"]: footer(c, d, pid),
                  onLaterPages=lambda c, d, pid=p["id"]: footer(c, d, pid))
    print(f"{len(proposals)} PDFs in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
