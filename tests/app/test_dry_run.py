"""The applicant dry-run page (応募前セルフチェック) through the real app shell, with Streamlit's AppTest.

Widgets are found by key. The page's error boundary turns an exception into a friendly message, so every
test also checks that no such message was shown (``assert_ok``).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.i18n import t
from app.ui import man_oku, score
from scoring.io.packs import load_pack
from scoring.packs import SHIPPED_PACKS
from tests.factories import by_id, proposal, rank_of, review_rows

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "review_app.py")
ADVICE_JA = "地方公共団体を1以上含むコンソーシアムを形成してください"


def assert_ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    boundary = [e.value for e in at.error if "問い合わせ番号" in e.value or "reference:" in e.value]
    assert not boundary, boundary


def open_dry_run(lang: str = "ja") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert_ok(at)
    if lang != "ja":
        at.radio(key="lang").set_value(lang).run()
    at.switch_page("app/pages/dry_run.py").run()
    assert_ok(at)
    return at


def texts(at: AppTest) -> list[str]:
    """Every message box and markdown text on the page."""
    out = []
    for kind in (at.error, at.warning, at.success, at.info, at.markdown, at.caption):
        out.extend(e.value for e in kind)
    return out


def box(at: AppTest, kind: str, needle: str) -> list[str]:
    return [e.value for e in getattr(at, kind) if needle in e.value]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def fill_l4(at: AppTest, members: list[tuple[str, str]], requested: str = "1億4,800万円") -> AppTest:
    at.selectbox(key="dr_pack").set_value("autonomous_l4").run()
    at.text_input(key="dr_app_name").input("株式会社北雪モビリティ")
    at.selectbox(key="dr_app_kind").set_value("company")
    at.text_input(key="dr_requested").input(requested).run()
    for name, kind in members:
        add_member(at, name, kind)
    assert_ok(at)
    return at


def add_member(at: AppTest, name: str, kind: str) -> None:
    n = sum(1 for w in at.text_input if w.key and w.key.startswith("dr_m_name_"))
    at.button(key="dr_m_add").click().run()
    at.text_input(key=f"dr_m_name_{n}").input(name)
    at.selectbox(key=f"dr_m_kind_{n}").set_value(kind).run()


def set_levels(at: AppTest, levels: dict[str, int]) -> None:
    for cid, lv in levels.items():
        at.radio(key=f"dr_level_{cid}").set_value(lv)
    at.run()


# --- the shell ---------------------------------------------------------------------------------------------

def test_anonymous_visitor_gets_the_login_page_first_and_can_open_the_self_check():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert_ok(at)
    assert [x.value for x in at.title] == ["ログイン"]
    at.switch_page("app/pages/dry_run.py").run()
    assert [x.value for x in at.title] == ["応募前セルフチェック"]


def test_login_refuses_unknown_credentials_with_the_message(tmp_path, monkeypatch):
    monkeypatch.setenv("SHINSA_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input(key="login_username").input("chair")
    at.text_input(key="login_password").input("wrong")
    at.button[0].click().run()
    assert_ok(at)
    assert box(at, "error", "ユーザー名またはパスワードが違います")
    assert "auth_user" not in at.session_state


def test_a_page_outside_the_role_is_not_reachable(monkeypatch):
    """Navigation is built from ROLE_PAGES only: a logged-in reviewer has no login page to switch to."""
    from app.auth import USER_KEY, User

    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[USER_KEY] = User("r1", "委員1", "reviewer", "R1")
    at.run()
    assert not at.exception
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app/pages/login.py")
    at.switch_page("app/pages/dry_run.py").run()   # the self-check stays open to every role
    assert_ok(at)
    assert [x.value for x in at.title] == ["応募前セルフチェック"]


def test_language_switch_shows_english_labels():
    at = open_dry_run("en")
    assert [x.value for x in at.title] == ["Pre-application self-check"]
    assert at.text_input(key="dr_app_name").label == "Applicant name"
    fill_l4(at, [("Yuki ICT", "local_ict_company")])
    fail = box(at, "error", "Consortium includes a local government")
    assert fail and "Form a consortium that includes at least one local government." in fail[0]
    assert not any(ADVICE_JA in x for x in texts(at))


# --- the page ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("pack_id", SHIPPED_PACKS)
def test_each_pack_renders_and_describes_itself(pack_id):
    pack = load_pack(pack_id)
    at = open_dry_run()
    at.selectbox(key="dr_pack").set_value(pack_id).run()
    assert_ok(at)
    # the description drawn from the pack
    assert any(pack.programme.description.ja[:20] in x for x in texts(at))
    at.text_input(key="dr_app_name").input("テスト町").run()
    at.selectbox(key="dr_app_kind").set_value("local_government").run()
    set_levels(at, {c: 4 for c in pack.criterion_ids})
    assert_ok(at)
    m = metrics(at)
    assert m["基礎点"] == "75.00"
    # every rule of the pack is shown with its status
    for r in pack.eligibility:
        assert any(r.label.ja in x for x in texts(at)), r.id
    # both downloads are offered
    assert at.get("download_button")


def test_l4_without_a_local_government_fails_with_advice_and_passes_once_one_joins():
    at = open_dry_run()
    fill_l4(at, [("株式会社ゆきICT", "local_ict_company")])
    fail = box(at, "error", "地方公共団体を含むコンソーシアム")
    assert fail, texts(at)
    assert ADVICE_JA in fail[0]
    assert box(at, "error", "満たしていない必須要件があります")

    add_member(at, "岩見沢市", "local_government")
    assert_ok(at)
    assert not box(at, "error", "地方公共団体を含むコンソーシアム")
    ok = box(at, "success", "地方公共団体が含まれています")
    assert ok
    assert not any(ADVICE_JA in x for x in texts(at))
    assert box(at, "success", "必須要件を満たしています")


def test_the_estimate_equals_the_scoring_core_for_the_same_input():
    pack = load_pack("autonomous_l4")
    levels = {"service_need": 5, "verification_items": 4, "verification_environment": 3,
              "remote_monitoring_safety": 4, "rollout_plan": 2}
    at = open_dry_run()
    fill_l4(at, [("岩見沢市", "local_government")], requested="１億６０００万円")
    at.selectbox(key="dr_fact_preceding_commercialization_area").set_value(True).run()
    set_levels(at, levels)
    assert_ok(at)

    p = proposal("DRAFT-001", "autonomous_l4", kind="company", name="株式会社北雪モビリティ",
                 members=[("岩見沢市", "local_government")], requested=160_000_000,
                 facts={"preceding_commercialization_area": True})
    rows = review_rows(pack, "self", "DRAFT-001", [levels[c] for c in pack.criterion_ids])
    expected = by_id(rank_of(pack, [p], rows, min_reviews=1))["DRAFT-001"]
    m = metrics(at)
    assert m["基礎点"] == score(expected["base_score"])
    assert m["加点"] == score(expected["bonus"])
    assert m["合計点"] == score(expected["total_score"])
    assert m["交付見込額"] == man_oku(expected["funded_yen"]) == "1億5,000万円"  # over the cap: clamped
    assert box(at, "warning", "上限 150,000,000円（1億5,000万円） で算定")
    # by hand: 20×1 + 25×0.75 + 15×0.5 + 20×0.75 + 20×0.25 = 66.25, plus the 先行的事業化地域 bonus 5
    assert expected["base_score"] == pytest.approx(66.25)
    assert (m["基礎点"], m["加点"], m["合計点"]) == ("66.25", "5.00", "71.25")


def test_weakest_criteria_show_the_guidance_one_level_up():
    pack = load_pack("autonomous_l4")
    at = open_dry_run()
    fill_l4(at, [("岩見沢市", "local_government")])
    set_levels(at, {c: 4 for c in pack.criterion_ids} | {"verification_items": 2})
    md = "\n".join(e.value for e in at.markdown)
    assert pack.criteria[1].guidance[3].ja in md  # verification_items, level 2 → guidance of level 3


def test_bad_money_input_gets_a_clear_message_and_no_estimate():
    at = open_dry_run()
    fill_l4(at, [("岩見沢市", "local_government")], requested="１億abc万円")
    msgs = box(at, "error", "「１億abc万円」を金額として読めません")
    assert msgs and msgs[0].startswith("申請額（提案額）")
    assert "交付見込額" not in metrics(at)


def test_uploaded_canonical_json_fills_the_form_and_flags_cost_lines():
    doc = [{"id": "AC-DRY", "pack": "advanced_comms", "title": "ローカル5Gによる漁港DX",
            "applicant": {"name": "株式会社みなとICT", "kind": "local_ict_company"},
            "consortium": [{"name": "スタートアップ合同会社", "kind": "startup", "role": "開発"}],
            "requested_yen": "9,800万円", "technologies": ["local5g"], "facts": {"digikatsu_chusankan": True},
            "cost_lines": [{"item": "エッジサーバ", "category": "purchase", "amount_yen": 3000000,
                            "unit_price_yen": 1500000, "useful_life_years": 5},
                           {"item": "基地局リース", "category": "lease", "amount_yen": 42000000}]}]
    at = open_dry_run()
    at.file_uploader(key="dr_upload_0").set_value(
        ("proposal.json", json.dumps(doc, ensure_ascii=False).encode(), "application/json")).run()
    assert_ok(at)
    assert at.selectbox(key="dr_pack").value == "advanced_comms"
    assert at.text_input(key="dr_app_name").value == "株式会社みなとICT"
    assert at.text_input(key="dr_m_name_0").value == "スタートアップ合同会社"
    assert at.selectbox(key="dr_fact_digikatsu_chusankan").value is True
    flags = box(at, "warning", "経費明細 1行目（エッジサーバ）")
    assert flags and "機器の購入経費" in flags[0] and "リース" in flags[0]
    assert not box(at, "warning", "経費明細 2行目")
    assert metrics(at)["申請額"] == "9,800万円"


def test_an_invalid_upload_is_refused_with_file_row_and_field():
    bad = [{"id": "X", "pack": "autonomous_l4", "applicant": {"name": "A", "kind": "company"},
            "requested_yen": "たくさん"}]
    at = open_dry_run()
    at.file_uploader(key="dr_upload_0").set_value(("bad.json", json.dumps(bad).encode(), "application/json")).run()
    assert_ok(at)
    errs = box(at, "error", "bad.json、1件目、項目「requested\\_yen」：")   # as the import says it (app/problems.py)
    assert errs, [e.value for e in at.error]


def test_subsidy_shows_grant_local_share_and_the_provisional_bond_table():
    pack = load_pack("subsidy")
    at = open_dry_run()
    at.selectbox(key="dr_pack").set_value("subsidy").run()
    at.text_input(key="dr_app_name").input("テスト町")
    at.selectbox(key="dr_app_kind").set_value("local_government")
    at.text_input(key="dr_eligible_cost").input("1億2,345万6,789円").run()
    at.selectbox(key="dr_fact_has_wireless_network").set_value(True)
    at.selectbox(key="dr_fact_has_solution_equipment").set_value(True)
    at.selectbox(key="dr_fact_plan_kind").set_value("network_and_solution").run()
    set_levels(at, {c: 4 for c in pack.criterion_ids})
    assert_ok(at)
    m = metrics(at)
    assert m["補助金額（1/2）"] == "6,172万8,000円"      # 万円, to the yen
    assert m["地方負担額"] == "6,172万8,789円"
    assert box(at, "warning", "暫定")
    bonds = [d.value for d in at.dataframe if "地方債" in d.value.columns]
    assert bonds and "過疎対策事業債" in bonds[0]["地方債"].tolist()
    kaso = bonds[0].set_index("地方債").loc["過疎対策事業債"]
    assert (kaso["起債額"], kaso["交付税措置額"]) == ("6,172万8,789円", "4,321万152円")


def test_clear_wipes_everything_entered():
    at = open_dry_run()
    fill_l4(at, [("岩見沢市", "local_government")])
    at.button(key="dry_run_clear").click().run()
    assert_ok(at)
    assert at.text_input(key="dr_app_name").value == ""
    assert at.text_input(key="dr_requested").value == ""
    assert not [w for w in at.text_input if w.key and w.key.startswith("dr_m_name_")]
    for key in ("dr_m_name_0", "dr_n_members"):
        assert key not in at.session_state or not at.session_state[key]
    assert "岩見沢" not in repr(at.session_state) and "北雪" not in repr(at.session_state)
    assert at.text_input(key="dr_id").value == "DRAFT-001"
    assert at.selectbox(key="dr_app_kind").value == "company"


# --- nothing stored, nothing logged ------------------------------------------------------------------------

class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        try:
            self.lines.append(record.getMessage())
        except Exception:  # a record whose args do not format still counts as text
            self.lines.append(f"{record.msg} {record.args}")


def _db_rows(path: Path) -> dict[str, int]:
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        return {tb: con.execute(f'select count(*) from "{tb}"').fetchone()[0] for tb in tables}
    finally:
        con.close()


def _snapshot(folder: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    for f in sorted(folder.rglob("*")):
        if f.is_file():
            out[str(f.relative_to(folder))] = _db_rows(f) if f.suffix in (".db", ".sqlite", ".sqlite3") else f.stat().st_size
    return out


def test_the_dry_run_stores_and_logs_nothing(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("SHINSA_DATA_DIR", str(data))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{data / 'shinsa.db'}")
    cap = _Capture()
    loggers = [logging.getLogger(), logging.getLogger("streamlit"), logging.getLogger("shinsa"),
               logging.getLogger("shinsa.app"), logging.getLogger("sqlalchemy")]
    old = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(cap)
        lg.setLevel(logging.DEBUG)
    try:
        at = AppTest.from_file(APP, default_timeout=60).run()
        before = _snapshot(data)       # whatever the shell itself keeps (e.g. an empty store) — not the dry run's
        at.switch_page("app/pages/dry_run.py").run()
        marker = "秘密の提案ZQX7"
        at.text_input(key="dr_title").input(marker)
        at.text_input(key="dr_app_name").input(marker + "株式会社")
        at.text_input(key="dr_requested").input("7,777万円").run()
        add_member(at, marker + "市", "local_government")
        set_levels(at, {c: 3 for c in load_pack("autonomous_l4").criterion_ids})
        at.text_input(key="dr_note_service_need").input(marker + "メモ").run()
        at.text_input(key="dr_requested").input("七千万円").run()  # a bad amount: the error path too
        assert_ok(at)
        assert box(at, "error", "七千万円")
    finally:
        for lg, level in old:
            lg.removeHandler(cap)
            lg.setLevel(level)
    after = _snapshot(data)
    assert after == before, (before, after)
    for f in data.rglob("*"):
        if f.is_file():
            assert marker.encode() not in f.read_bytes()
    logged = "\n".join(cap.lines)
    assert marker not in logged and "7,777" not in logged and "七千万円" not in logged


def test_uploaded_intake_excel_fills_the_form():
    import io

    from openpyxl import load_workbook

    from scoring.io.intake import intake_template

    wb = load_workbook(io.BytesIO(intake_template()))
    ws, mem = wb["応募"], wb["構成員"]
    head = {c.value: c.column for c in ws[1]}
    for col, v in (("提案ID", "L4-XL"), ("評価パック", "autonomous_l4"), ("提案名", "積雪地域のレベル4"),
                   ("申請者名", "株式会社北雪モビリティ"), ("申請者種別", "企業"), ("申請額", "1億4,000万円")):
        ws.cell(2, head[col], v)
    for col, v in enumerate(["L4-XL", "岩見沢市", "地方公共団体", "実証フィールド"], 1):
        mem.cell(2, col, v)
    buf = io.BytesIO()
    wb.save(buf)
    at = open_dry_run()
    at.file_uploader(key="dr_upload_0").set_value(
        ("応募一覧.xlsx", buf.getvalue(),
         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")).run()
    assert_ok(at)
    assert at.text_input(key="dr_id").value == "L4-XL"
    assert at.text_input(key="dr_m_name_0").value == "岩見沢市"
    assert at.selectbox(key="dr_m_kind_0").value == "local_government"
    assert metrics(at)["申請額"] == "1億4,000万円"
    assert box(at, "success", "地方公共団体が含まれています")


def test_a_fresh_form_lists_what_to_fill_in_without_an_error():
    at = open_dry_run()
    assert_ok(at)
    assert not at.error
    todo = box(at, "warning", "次の項目を入力・修正すると判定結果が表示されます。")
    assert todo and "申請者名を入力してください。" in todo[0]


def test_an_uploaded_zip_bomb_is_refused_with_a_message_naming_the_file():
    """Anonymous visitors can upload: a 130 KB workbook whose sheet expands to 128 MiB is refused before parsing."""
    from tests.excel.hostile import bomb_member, intake_bytes, patched

    sheet = "xl/worksheets/sheet1.xml"
    data = patched(intake_bytes(), {sheet: bomb_member(sheet, gib=0.125)})
    assert len(data) < 200_000
    at = open_dry_run()
    at.file_uploader(key="dr_upload_0").set_value(
        ("応募一覧.xlsx", data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")).run()
    assert_ok(at)
    errs = box(at, "error", f"応募一覧.xlsx、{sheet}：this part expands to 128.0 MB, over the limit of 64.0 MB")
    assert errs, [e.value for e in at.error]
    assert at.text_input(key="dr_id").value != "L4-1"   # nothing was loaded into the form
