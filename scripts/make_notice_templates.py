"""Write the default notice templates (選定結果通知, decisions.md §5): one Word document per decision code.

    python3 scripts/make_notice_templates.py        # → scoring/io/templates/notice_<decision_code>.docx

The documents are formal Japanese letters (文書番号・日付・宛名・発信者・件名・本文・記・以上) with placeholders in
the docxtpl (Jinja) syntax, using only the names of ``scoring.notices_data.PLACEHOLDERS``. The secretariat edits
them in Word (docs/notices.md); this script is how the shipped defaults are made, and it writes the same bytes
every time (fixed zip dates and document properties) so that a change shows as a real change in git.
"""

from __future__ import annotations

import io
import sys
import zipfile
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "scoring" / "io" / "templates"
FONT = "游明朝"          # Word (Windows/Mac) has it; LibreOffice falls back to a Japanese serif font
FIXED = datetime(2026, 1, 1)

SUBJECT = "地域社会DX推進パッケージ事業　{{ programme_name }}の選定結果について（通知）"

# without a round name the lead reads 「　御提出いただいた…」 (no dangling において)
LEAD = "　{% if round_name %}{{ round_name }}において{% endif %}御提出いただいた標記事業の提案について、評価委員会における審査の結果を踏まえ、"

BODY = {
    "adopted": [
        LEAD + "下記のとおり採択することとしましたので通知します。",
        "　なお、本通知は契約又は交付の決定ではありません。契約又は交付申請の手続については、別途御連絡します。",
    ],
    "adopted_conditional": [
        LEAD + "下記の条件を付して採択することとしましたので通知します。",
        "　条件への対応状況は、契約又は交付申請の手続の際に確認させていただきます。なお、本通知は契約又は交付の"
        "決定ではありません。手続については、別途御連絡します。",
    ],
    "reserve": [
        LEAD + "下記のとおり補欠として選定しましたので通知します。",
        "　採択された提案の辞退、採択額の調整等により予算に残額が生じた場合には、補欠の順位に従い繰り上げて"
        "採択することがあります。その場合には、改めて御連絡します。",
    ],
    "not_adopted": [
        LEAD + "誠に残念ながら、今回は採択を見送ることとなりましたので通知します。",
        "　多数の御提案の中から厳正な審査を行った結果であり、御理解を賜りますようお願い申し上げます。"
        "本事業への御提案に御尽力いただきましたことに、改めて感謝申し上げます。",
    ],
}

ITEMS = {
    "adopted": [("採択額（上限）", "{{ awarded_yen }}（{{ awarded_man }}）")],
    "adopted_conditional": [("採択額（上限）", "{{ awarded_yen }}（{{ awarded_man }}）"),
                            ("採択の条件", "{{ conditions }}")],
    "reserve": [("補欠順位", "第{{ reserve_position }}位")],
    "not_adopted": [],
}


def _font(run_or_style, size: float | None = None, bold: bool = False) -> None:
    font = run_or_style.font
    font.name = FONT
    rpr = run_or_style.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), FONT)
    if size:
        font.size = Pt(size)
    if bold:
        font.bold = True


def _para(doc, text: str = "", align=None, bold: bool = False, size: float | None = None, indent_mm: float = 0,
          hanging_mm: float = 0, space_before: float = 0):
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    fmt = p.paragraph_format
    fmt.space_after = Pt(0)
    fmt.space_before = Pt(space_before)
    if indent_mm:
        fmt.left_indent = Mm(indent_mm)
    if hanging_mm:
        fmt.first_line_indent = Mm(-hanging_mm)
    if text:
        _font(p.add_run(text), size=size, bold=bold)
    return p


def _item(doc, number: int, label: str, value: str) -> None:
    _para(doc, f"{number}　{label}", indent_mm=0)
    _para(doc, value, indent_mm=10)


def _feedback(doc, number: int) -> None:
    """The feedback block (reserve / not adopted): base score, band, per-criterion standing, the reviewers'
    comments for the applicant. Present only when the round's feedback is on (``{%p if feedback %}``)."""
    _para(doc, "{%p if feedback %}")
    _para(doc, f"{number}　（参考）評価の概要", space_before=6)
    _para(doc, "(1) 基礎点　{{ base_score }}点"
               "{% if pass_line and pass_line != '—' %}（基準点 {{ pass_line }}点）{% endif %}", indent_mm=5)
    _para(doc, "(2) 評価区分　{{ band }}", indent_mm=5)
    _para(doc, "A：基準点を満たした提案のうち最終順位が上位3分の1、B：中位3分の1、C：下位3分の1、"
               "D：基準点に達しなかったもの", indent_mm=10, size=9)
    _para(doc, "(3) 観点別の評価", indent_mm=5)
    _para(doc, "評価比は各観点の得点の満点に対する比（委員の平均）、採択案件平均は採択された提案の同じ観点の"
               "評価比の平均です。", indent_mm=10, size=9)
    table = doc.add_table(rows=4, cols=3)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    rows = [("観点", "評価比", "採択案件平均"),
            ("{%tr for c in criteria %}", "", ""),
            ("{{ c.label }}", "{{ c.ratio }}", "{{ c.adopted_mean }}"),
            ("{%tr endfor %}", "", "")]
    widths = (Mm(95), Mm(30), Mm(35))
    for r, texts in enumerate(rows):
        for c, text in enumerate(texts):
            cell = table.rows[r].cells[c]
            cell.width = widths[c]
            p = cell.paragraphs[0]
            p.alignment = WD_ALIGN_PARAGRAPH.LEFT if c == 0 else WD_ALIGN_PARAGRAPH.CENTER
            if text:
                _font(p.add_run(text), bold=(r == 0))
    _para(doc, "(4) 評価委員からの所見", indent_mm=5, space_before=6)
    _para(doc, "{%p for t in applicant_comments %}")
    _para(doc, "・{{ t }}", indent_mm=10, hanging_mm=3.5)
    _para(doc, "{%p endfor %}")
    _para(doc, "{%p if not applicant_comments %}")
    _para(doc, "（所見の記載はありません。）", indent_mm=10)
    _para(doc, "{%p endif %}")
    _para(doc, "{%p endif %}")


def build(code: str) -> bytes:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(30)
    section.left_margin = section.right_margin = Mm(25)
    normal = doc.styles["Normal"]
    _font(normal, size=10.5)
    normal.paragraph_format.line_spacing = 1.15

    _para(doc, "第　　　　　号", align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc, "{{ notice_date }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc)
    _para(doc, "{{ applicant_name }}　様")
    _para(doc)
    _para(doc, "{{ sender }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc)
    _para(doc, SUBJECT, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, size=12)
    _para(doc)
    for text in BODY[code]:
        _para(doc, text)
    _para(doc)
    _para(doc, "記", align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc)
    items = [("提案番号", "{{ proposal_id }}"), ("提案名", "{{ title }}"), ("選定結果", "{{ decision }}")]
    items += ITEMS[code]
    for n, (label, value) in enumerate(items, start=1):
        _item(doc, n, label, value)
    n = len(items)
    if code == "adopted":      # an adopted proposal may carry conditions too (decisions.md §2): shown when given
        _para(doc, "{%p if conditions %}")
        _item(doc, n + 1, "附記事項", "{{ conditions }}")
        _para(doc, "{%p endif %}")
    if code in ("reserve", "not_adopted"):
        _feedback(doc, n + 1)
    _para(doc)
    _para(doc, "以上", align=WD_ALIGN_PARAGRAPH.RIGHT)

    props = doc.core_properties
    props.author = props.last_modified_by = "Shinsa"
    props.title = "選定結果通知"
    props.created = props.modified = FIXED
    props.revision = 1
    buf = io.BytesIO()
    doc.save(buf)
    return _fixed_zip(buf.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same .docx with fixed member dates, so the script writes identical bytes every run."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


CODES = ("adopted", "adopted_conditional", "reserve", "not_adopted")


def main(out: Path = OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for code in CODES:
        path = out / f"notice_{code}.docx"
        path.write_bytes(build(code))
        written.append(path)
    return written


if __name__ == "__main__":
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT):
        print(p)
