"""A newcomer's dry run for ②-3 in Chromium against a real server: no login, Japanese, download the workbook."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, choose, click_button, fill_text, pick_radio, wait_idle, widget

pytestmark = pytest.mark.browser

ADVICE = "地方公共団体を1以上含むコンソーシアムを形成してください"
CRITERIA = ["service_need", "verification_items", "verification_environment", "remote_monitoring_safety",
            "rollout_plan"]


def test_dry_run_for_l4_in_japanese_and_download_the_workbook(server, page, tmp_path):
    page.goto(f"{server}/self_check")
    expect(page.get_by_role("heading", name="応募前セルフチェック")).to_be_visible()
    expect(page.get_by_text("結果は委員会の判断ではなく", exact=False)).to_be_visible()
    expect(page.get_by_text("ログイン", exact=True).first).to_be_visible()  # menu offers login; none needed

    expect(widget(page, "dr_pack").get_by_role("combobox")).to_have_value("②-3 自動運転レベル4検証タイプ")
    fill_text(page, "dr_app_name", "株式会社北雪モビリティ")
    fill_text(page, "dr_requested", "1億4,800万円")
    expect(page.get_by_text("148,000,000円（1億4,800万円）")).to_be_visible()

    # a consortium without a local government: the requirement fails with what to do
    click_button(page, "dr_m_add")
    fill_text(page, "dr_m_name_0", "株式会社ゆきICT")
    choose(page, "dr_m_kind_0", "地域ICT企業")
    fail = page.locator("[data-testid='stAlertContentError']").filter(has_text="地方公共団体を含むコンソーシアム")
    expect(fail).to_contain_text(ADVICE)

    # a local government joins: the requirement passes
    click_button(page, "dr_m_add")
    fill_text(page, "dr_m_name_1", "岩見沢市")
    choose(page, "dr_m_kind_1", "地方公共団体（市区町村）")
    expect(page.get_by_text("コンソーシアム（申請者を含む）に地方公共団体が含まれています")).to_be_visible()
    expect(page.get_by_text(ADVICE)).to_have_count(0)

    choose(page, "dr_fact_preceding_commercialization_area", "はい")
    for cid in CRITERIA:
        pick_radio(page, f"dr_level_{cid}", "4 優れている")
    base = page.locator("[data-testid='stMetric']").filter(has_text="基礎点")
    expect(base).to_contain_text("75.00")
    total = page.locator("[data-testid='stMetric']").filter(has_text="合計点")
    expect(total).to_contain_text("80.00")
    expect(page.get_by_text("基礎点 75.00 点は合格点 60.00 点以上")).to_be_visible()

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # Streamlit scrolls inside its main area: make the window as tall as the page for a whole-page picture
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1280, "height": min(int(height) + 40, 12_000)})
    wait_idle(page)
    page.screenshot(path=str(SCREENSHOTS / "dry_run.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    with page.expect_download() as dl:
        widget(page, "dr_dl_xlsx").locator("button").click()
    path = tmp_path / "selfcheck.xlsx"
    dl.value.save_as(path)
    wb = load_workbook(io.BytesIO(path.read_bytes()))
    summary = {r[0]: r[1] for r in wb["概要"].iter_rows(min_row=2, values_only=True)}
    assert summary["申請者"] == "株式会社北雪モビリティ"
    assert summary["申請額"] == 148_000_000
    assert summary["交付見込額"] == 148_000_000
    assert summary["基礎点（見込）"] == pytest.approx(75.0)
    assert summary["加点（見込）"] == pytest.approx(5.0)
    assert summary["合計点（見込）"] == pytest.approx(80.0)
    rules = {r[0]: r[1] for r in wb["要件"].iter_rows(min_row=2, values_only=True)}
    assert rules["地方公共団体を含むコンソーシアム"] == "適合"
    levels = [r[2] for r in wb["自己評価"].iter_rows(min_row=2, values_only=True)]
    assert levels == ["4 優れている"] * 5

    # 「クリア」 wipes what was entered
    click_button(page, "dry_run_clear")
    expect(widget(page, "dr_app_name").locator("input")).to_have_value("")
    expect(page.get_by_text("岩見沢市")).to_have_count(0)


def test_a_field_change_redraws_only_the_form_and_its_results(server, page):
    """A field change reruns the form and the results only (an st.fragment, issue 15): what the server sends back
    holds the changed result, not the title's notices, the upload or the sidebar again (the page's title is also
    its menu entry, in Streamlit's session message of every run)."""
    received: list[bytes] = []

    def on_ws(ws):
        ws.on("framereceived", lambda payload: received.append(payload if isinstance(payload, bytes)
                                                               else payload.encode("utf-8")))

    page.on("websocket", on_ws)
    page.goto(f"{server}/self_check")
    expect(page.get_by_role("heading", name="応募前セルフチェック")).to_be_visible()
    wait_idle(page)
    received.clear()
    fill_text(page, "dr_requested", "1億4,800万円")
    expect(page.get_by_text("148,000,000円（1億4,800万円）")).to_be_visible()
    wait_idle(page)
    sent = b"".join(received)
    assert "1億4,800万円".encode() in sent                     # the amount read back came
    assert "結果は委員会の判断ではなく".encode() not in sent     # the title's notice was not sent again,
    assert "ファイルから読み込む".encode() not in sent          # nor the upload,
    assert "日本語".encode() not in sent                       # nor the sidebar's language switch
    # the clear button is outside the fragment: it reruns the whole page and empties the form
    click_button(page, "dry_run_clear")
    expect(page.get_by_text("148,000,000円（1億4,800万円）")).to_have_count(0)
    expect(page.get_by_role("heading", name="応募前セルフチェック")).to_be_visible()
