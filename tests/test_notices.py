"""Notices to applicants (issue 18 item 5, decisions.md §5): the default templates filled and read back with
python-docx; uploaded templates checked (unknown placeholders named, not a .docx, zip bombs, sandbox); text
inserted stays literal; feedback only when on and only for reserve / not adopted; no internal comment leaks."""

from __future__ import annotations

import csv
import importlib.util
import io
import zipfile
from datetime import date
from pathlib import Path

import docx
import pytest

from scoring.errors import InputError
from scoring.io import notices
from scoring.io.notices import check_template, default_template, render_notice, write_notices
from scoring.notices_data import PLACEHOLDERS, CriterionStanding, Feedback, NoticeFields, placeholders

ROOT = Path(__file__).resolve().parents[1]
LABELS = {"adopted": "採択", "adopted_conditional": "条件付き採択", "reserve": "補欠", "not_adopted": "不採択"}
INTERNAL = "【内部】費用積算に過大な点があり委員会で減額を議論"   # an internal `comment`: never in a notice


def feedback(comments=("地域の実情を踏まえた計画です。", "実施体制の具体化が望まれます。")) -> Feedback:
    return Feedback(base_score=58.25, pass_line=60.0, band="D",
                    criteria=(CriterionStanding("service_need", "サービスの必要性", "Need", 0.55, 0.812),
                              CriterionStanding("rollout_plan", "横展開計画", "Rollout", 0.6, None)),
                    applicant_comments=tuple(comments))


def fields(code: str, *, fb: Feedback | None = None, **kw) -> NoticeFields:
    adopts = code.startswith("adopted")
    base = dict(proposal_id="L4-007", title="中山間地域における自動運転バスの遠隔監視実証",
                applicant_name="株式会社みちのくモビリティ", programme_name="自動運転レベル4検証タイプ",
                round_name="令和8年度 1次公募", decision_code=code, decision_label=LABELS[code],
                awarded_yen=40_000_000 if adopts else 0,
                conditions="遠隔監視要員の配置計画を交付申請時に提出すること。" if code == "adopted_conditional" else "",
                reserve_position=2 if code == "reserve" else None, notice_date=date(2026, 11, 29),
                sender="総務省 総合通信基盤局長", feedback=fb)
    base.update(kw)
    return NoticeFields(**base)


def text_of(data: bytes) -> str:
    d = docx.Document(io.BytesIO(data))
    parts = [p.text for p in d.paragraphs]
    parts += [c.text for t in d.tables for r in t.rows for c in r.cells]
    return "\n".join(parts)


def all_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith((".xml", ".rels")))


def template_with(*paragraphs: str) -> bytes:
    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


# --- the interface ---------------------------------------------------------------------------------------------

def test_placeholders_are_exactly_the_names_templates_may_use():
    ctx = placeholders(fields("not_adopted", fb=feedback()))
    assert set(ctx) == PLACEHOLDERS
    assert ctx["awarded_yen"] == "0円" and ctx["notice_date"] == "2026年11月29日" and ctx["feedback"] is True
    assert placeholders(fields("adopted"))["awarded_man"] == "4,000万円"
    assert placeholders(fields("adopted"))["awarded_yen"] == "40,000,000円"
    assert placeholders(fields("adopted"))["criteria"] == [] and placeholders(fields("adopted"))["feedback"] is False


def test_default_templates_use_only_the_placeholders():
    for code in LABELS:
        check_template(default_template(code), f"notice_{code}.docx")      # no problem raised


def test_the_script_makes_the_committed_templates(tmp_path):
    spec = importlib.util.spec_from_file_location("make_notice_templates", ROOT / "scripts" / "make_notice_templates.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for path in mod.main(tmp_path):
        assert path.read_bytes() == (notices.TEMPLATES / path.name).read_bytes(), path.name


# --- filled notices, read by python-docx ------------------------------------------------------------------------

@pytest.mark.parametrize("code", list(LABELS))
def test_each_decision_makes_its_formal_notice(code):
    text = text_of(render_notice(fields(code)))
    assert "株式会社みちのくモビリティ　様" in text
    assert "地域社会DX推進パッケージ事業　自動運転レベル4検証タイプの選定結果について（通知）" in text
    assert "2026年11月29日" in text and "総務省 総合通信基盤局長" in text and "L4-007" in text
    assert "中山間地域における自動運転バスの遠隔監視実証" in text and "令和8年度 1次公募" in text
    assert f"\n{LABELS[code]}\n" in text and "記" in text and "以上" in text
    assert "{{" not in text and "{%" not in text
    if code.startswith("adopted"):
        assert "40,000,000円（4,000万円）" in text
    else:
        assert "円（" not in text
    if code == "adopted_conditional":
        assert "採択の条件" in text and "遠隔監視要員の配置計画を交付申請時に提出すること。" in text
    if code == "reserve":
        assert "補欠順位" in text and "第2位" in text
    if code == "not_adopted":
        assert "採択を見送る" in text


def test_adopted_notice_shows_conditions_only_when_given():
    assert "附記事項" not in text_of(render_notice(fields("adopted")))
    text = text_of(render_notice(fields("adopted", conditions="成果報告会で発表すること。\n報告書を提出すること。")))
    assert "附記事項" in text and "成果報告会で発表すること。\n報告書を提出すること。" in text


def test_an_amount_in_oku_is_written_in_oku_and_man():
    text = text_of(render_notice(fields("adopted", awarded_yen=148_000_000)))
    assert "148,000,000円（1億4,800万円）" in text


@pytest.mark.parametrize("code", ["reserve", "not_adopted"])
def test_feedback_is_shown_when_on(code):
    text = text_of(render_notice(fields(code, fb=feedback())))
    assert "（参考）評価の概要" in text and "58.25点（基準点 60.00点）" in text and "評価区分　D" in text
    assert "サービスの必要性\n0.55\n0.81" in text and "横展開計画\n0.60\n—" in text
    assert "・地域の実情を踏まえた計画です。" in text and "・実施体制の具体化が望まれます。" in text


@pytest.mark.parametrize("code", list(LABELS))
def test_no_feedback_when_off(code):
    text = text_of(render_notice(fields(code)))
    assert "評価の概要" not in text and "評価区分" not in text and "観点" not in text


@pytest.mark.parametrize("code", ["adopted", "adopted_conditional"])
def test_no_feedback_for_adopted_even_if_given(code):
    text = text_of(render_notice(fields(code, fb=feedback())))
    assert "評価の概要" not in text and "地域の実情" not in text


def test_feedback_without_applicant_comments_says_so():
    text = text_of(render_notice(fields("not_adopted", fb=feedback(comments=()))))
    assert "（所見の記載はありません。）" in text


def test_no_internal_comment_of_the_sample_reviews_in_any_notice(tmp_path):
    """The reviews' internal `comment` texts never reach a notice: notices carry only the applicant comments."""
    with open(ROOT / "sample_proposals" / "reviews.csv", encoding="utf-8-sig") as fh:
        internal = {r["comment"] for r in csv.DictReader(fh) if len(r.get("comment") or "") >= 8}
    internal.add(INTERNAL)
    assert internal
    fs = [fields(code, fb=feedback() if code in ("reserve", "not_adopted") else None, proposal_id=f"P-{i}")
          for i, code in enumerate(LABELS)]
    written = write_notices(tmp_path / "out", fs)
    for path in written:
        if path.suffix == ".docx":
            xml = all_xml(path.read_bytes())
            assert not [c for c in internal if c in xml], path.name


# --- escaping: inserted text stays literal -----------------------------------------------------------------------

def test_text_inserted_is_literal_not_a_template():
    title = "{{ sender }} {% if true %}X{% endif %} <w:t>&amp; \"引用\" 'q'"
    f = fields("not_adopted", title=title, applicant_name="{{ 7 * 7 }}商事", fb=feedback(comments=("{% raw %}",)))
    text = text_of(render_notice(f))
    assert title in text and "{{ 7 * 7 }}商事　様" in text and "・{% raw %}" in text and "49" not in text


def test_characters_xml_cannot_hold_are_dropped_and_line_breaks_kept():
    f = fields("adopted_conditional", title="A\x00B\x1bC", conditions="一\r\n二\x0c三")
    text = text_of(render_notice(f))
    assert "ABC" in text and "一\n二三" in text


# --- uploaded templates -----------------------------------------------------------------------------------------

def test_unknown_placeholders_are_refused_each_named():
    data = template_with("{{ applicant_name }} 様", "{{ applicant_address }}", "{% for x in budget_lines %}{{ x }}"
                         "{% endfor %}", "{{ criteria[0].label }}")
    with pytest.raises(InputError) as e:
        check_template(data, "通知_不採択.docx")
    fields_named = {p.field for p in e.value.problems}
    assert fields_named == {"applicant_address", "budget_lines"}
    assert all(p.file == "通知_不採択.docx" and "unknown placeholder" in p.message for p in e.value.problems)


def test_an_uploaded_template_with_known_placeholders_is_used():
    data = template_with("{{ applicant_name }} 御中", "{% if feedback %}区分 {{ band }}{% endif %}",
                         "{{ awarded_man }}")
    check_template(data, "mine.docx")
    text = text_of(render_notice(fields("reserve", fb=feedback()), template=data))
    assert "株式会社みちのくモビリティ 御中" in text and "区分 D" in text


def test_template_syntax_errors_are_refused():
    with pytest.raises(InputError) as e:
        check_template(template_with("{% if feedback %}no end"), "broken.docx")
    assert "not a valid template" in str(e.value) and "broken.docx" in str(e.value)


@pytest.mark.parametrize("source, named", [
    ("{{ ''.__class__.__mro__ }}", "access to attribute '__class__'"),     # Python internals: the sandbox
    ("{{ title.upper() }}", "a function or method call"),
    ("{% set x = title %}{{ x }}", "{% set %} is not allowed"),
    ("{% include 'x' %}", "{% include %} is not allowed"),
    ("{{ title|center(100000000) }}", "the filter |center is not allowed"),
    ("{{ 2 ** 1000 }}", "the ** operator is not allowed"),
])
def test_the_sandbox_refuses_what_a_notice_does_not_need(source, named):
    with pytest.raises(InputError) as e:
        check_template(template_with(source), "evil.docx")
    assert named in str(e.value) and "evil.docx" in str(e.value)


def test_a_long_repetition_is_refused_when_filled():
    with pytest.raises(InputError) as e:
        check_template(template_with("{{ title * 100000000 }}"), "big.docx")
    assert "repetition" in str(e.value)


def test_not_a_docx_is_refused():
    for data, name in [(b"%PDF-1.7 not a word file", "notice.pdf"),
                       (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "notice.doc")]:
        with pytest.raises(InputError) as e:
            check_template(data, name)
        assert name in str(e.value) and ".docx" in str(e.value)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "not word")
    with pytest.raises(InputError, match="no word/document.xml"):
        check_template(buf.getvalue(), "zip.docx")


def test_a_zip_bomb_is_refused_without_expanding_it():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"<a>" + b" " * (40 * 2**20) + b"</a>")   # 40 MB of blanks, ~40 KB packed
    assert len(buf.getvalue()) < 200_000
    with pytest.raises(InputError) as e:
        check_template(buf.getvalue(), "bomb.docx")
    assert "word/document.xml" in str(e.value) and "limit" in str(e.value)


def test_a_doctype_is_refused():
    data = template_with("{{ title }}")
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n in src.namelist():
            body = src.read(n)
            if n == "word/document.xml":
                body = body.replace(b"?>", b'?><!DOCTYPE w [<!ENTITY a "aaaa">]>', 1)
            z.writestr(n, body)
    with pytest.raises(InputError, match="DTD"):
        check_template(buf.getvalue(), "dtd.docx")


def test_a_file_too_big_is_refused():
    with pytest.raises(InputError, match="over the limit"):
        check_template(b"PK" + b"\0" * (notices.check_docx.__globals__["MAX_FILE_BYTES"]), "huge.docx")


# --- writing ------------------------------------------------------------------------------------------------------

def test_write_notices_writes_one_docx_each_and_a_zip(tmp_path):
    fs = [fields(code, proposal_id=f"P-{i:03d}") for i, code in enumerate(LABELS, start=1)]
    written = write_notices(tmp_path / "notices", fs)
    names = [p.name for p in written]
    assert names == ["P-001.docx", "P-002.docx", "P-003.docx", "P-004.docx", "notices.zip"]
    with zipfile.ZipFile(tmp_path / "notices" / "notices.zip") as z:
        assert sorted(z.namelist()) == names[:4]
        assert text_of(z.read("P-003.docx")) == text_of((tmp_path / "notices" / "P-003.docx").read_bytes())
    assert "補欠順位" in text_of((tmp_path / "notices" / "P-003.docx").read_bytes())


def test_write_notices_uses_the_rounds_template_for_its_decision(tmp_path):
    mine = template_with("独自様式 {{ applicant_name }} {{ decision }}")
    write_notices(tmp_path, [fields("not_adopted", proposal_id="A"), fields("adopted", proposal_id="B")],
                  templates={"not_adopted": mine})
    assert text_of((tmp_path / "A.docx").read_bytes()).startswith("独自様式 株式会社みちのくモビリティ 不採択")
    assert "独自様式" not in text_of((tmp_path / "B.docx").read_bytes())


def test_write_notices_refuses_everything_and_writes_nothing(tmp_path):
    bad = template_with("{{ secret_score }}")
    fs = [fields("adopted", proposal_id="X/1"), fields("adopted", proposal_id="X:1")]   # both would be X_1.docx
    with pytest.raises(InputError) as e:
        write_notices(tmp_path / "out", fs, templates={"not_adopted": bad, "accepted": bad})
    msg = str(e.value)
    assert "secret_score" in msg and "accepted" in msg and "X_1.docx" in msg
    assert not (tmp_path / "out").exists()


def test_a_proposal_id_cannot_escape_the_folder(tmp_path):
    written = write_notices(tmp_path / "out", [fields("adopted", proposal_id="../../etc/passwd")])
    assert all(p.parent == tmp_path / "out" for p in written)
    assert written[0].name == "_.._etc_passwd.docx"
    assert not list(tmp_path.glob("etc*"))
