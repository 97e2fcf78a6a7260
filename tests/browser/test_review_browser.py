"""The review app in a real browser (issue 4 §6): Playwright drives Debian's Chromium against a real
``streamlit run review_app.py -- --demo`` server.

A reviewer logs in, scores a proposal, reloads and finds the draft, submits; the chair sees the ranking with
the funding line and downloads the workbook. Screenshots of the main pages go to docs/screenshots/.
"""

from __future__ import annotations

import json

import openpyxl
import pytest
from playwright.sync_api import expect

from scoring.io.packs import load_pack
from tests.browser.conftest import ROOT, SCREENSHOTS, choose, click_button, fill_text, pick_radio, wait_idle, widget

pytestmark = pytest.mark.browser

TITLES = {p["id"]: p["title"] for p in json.loads((ROOT / "sample_proposals" / "proposals.json").read_text("utf-8"))}
L4 = load_pack("autonomous_l4")
L4_LABEL = f"{L4.programme.code} {L4.programme.name.ja}"
LEVELS = {s.level: f"{s.level} {s.label.ja}" for s in L4.scale}


@pytest.fixture(scope="module")
def demo(start_server) -> str:
    return start_server("--demo")


def login(page, url: str, username: str) -> None:
    page.goto(url)
    expect(page.get_by_text("デモ用アカウント")).to_be_visible()
    fill = widget(page, "login_username").locator("input")
    fill.fill(username)
    widget(page, "login_password").locator("input").fill("shinsa-demo")
    page.locator("[data-testid=stFormSubmitButton] button").click()
    wait_idle(page)


def wait_for_login_cookie(page, timeout_s: float = 15) -> None:
    """The login cookie is written by a script the browser runs just after the login run has drawn."""
    import time

    deadline = time.monotonic() + timeout_s
    while not [c for c in page.context.cookies() if c["name"].startswith("shinsa_session_")]:
        assert time.monotonic() < deadline, "the login cookie was never set"
        page.wait_for_timeout(100)


def open_proposal(page, pid: str) -> None:
    expect(page.get_by_role("heading", name="担当案件").first).to_be_visible()
    widget(page, "rv_home_pick_1").get_by_role("combobox").click()
    page.keyboard.type(pid)                         # the list is long: filter it
    page.get_by_role("option", name=pid, exact=False).first.click()
    wait_idle(page)
    click_button(page, "rv_home_open_1")
    expect(page.get_by_role("heading", name=f"{pid}　{TITLES[pid]}")).to_be_visible()


def open_l4_001(page) -> None:
    open_proposal(page, "L4-001")


def shoot(page, name: str) -> None:
    """A screenshot of the whole page: Streamlit scrolls inside its own container, so the viewport is made as
    tall as the content for the picture."""
    height = page.evaluate("() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
                           "[data-testid=stAppViewContainer], section.main')].map(e => e.scrollHeight), 900)")
    page.set_viewport_size({"width": 1280, "height": min(int(height) + 40, 4000)})
    wait_idle(page)
    page.screenshot(path=str(SCREENSHOTS / name))
    page.set_viewport_size({"width": 1280, "height": 900})


def checked(page, key: str) -> str | None:
    wait_idle(page)
    group = widget(page, key)
    expect(group.locator("input[type=radio]").first).to_be_attached()  # the group has rendered
    box = group.locator("input[type=radio]:checked")
    if box.count() == 0:
        return None
    return box.first.evaluate("e => e.closest('label').innerText").strip()


def test_reviewer_scores_reloads_finds_draft_and_submits(demo, page):
    login(page, demo, "R01")
    open_l4_001(page)
    expect(page.get_by_text("デモ").first).to_be_visible()
    pick_radio(page, "rv_level_service_need", LEVELS[4])
    expect(page.get_by_text("下書きを保存しました")).to_be_visible()
    fill_text(page, "rv_comment_service_need", "積雪期の課題設定が具体的で、横展開の道筋も明確。")
    pick_radio(page, "rv_level_verification_items", LEVELS[3])
    page.mouse.wheel(0, -5000)
    shoot(page, "reviewer_scoring.png")

    wait_for_login_cookie(page)
    page.reload()                                   # a new Streamlit session: still logged in, the draft is there
    wait_idle(page)
    expect(page.get_by_text("ログイン中：委員 山田 太郎")).to_be_visible()
    expect(widget(page, "login_username")).to_have_count(0)
    [cookie] = [c for c in page.context.cookies() if c["name"].startswith("shinsa_session_")]
    assert cookie["sameSite"] == "Strict" and cookie["path"] == "/" and cookie["expires"] > 0
    assert cookie["value"] not in page.url
    page.goto(demo)                                 # from the start page, as after closing the tab
    open_l4_001(page)
    assert checked(page, "rv_level_service_need") == LEVELS[4]
    assert checked(page, "rv_level_verification_items") == LEVELS[3]
    assert checked(page, "rv_level_rollout_plan") is None
    expect(widget(page, "rv_comment_service_need").locator("textarea")).to_have_value(
        "積雪期の課題設定が具体的で、横展開の道筋も明確。")

    click_button(page, "rv_submit")                 # incomplete: refused with the missing criteria
    expect(page.get_by_text("次の項目が未評価です")).to_be_visible()
    for c in L4.criteria[2:]:
        pick_radio(page, f"rv_level_{c.id}", LEVELS[3])
    click_button(page, "rv_submit")
    click_button(page, "rv_submit_confirm")
    expect(page.get_by_text("評価を提出しました。")).to_be_visible()
    expect(widget(page, "rv_level_service_need").locator("input").first).to_be_disabled()


def test_a_comment_is_saved_while_typing_without_leaving_the_field(demo, page):
    """Streamlit sends a text area's value only on blur or Ctrl+Enter; the page commits it after a pause in
    typing, so a comment typed and then the tab reloaded (focus still in the field) is kept."""
    login(page, demo, "R05")
    open_proposal(page, "L4-009")
    box = widget(page, "rv_comment_rollout_plan").locator("textarea")
    box.click()
    box.press("Control+a")                          # the demo draft has a comment already: type over it
    box.press_sequentially("横展開の体制が具体的。", delay=30)
    page.wait_for_timeout(2500)                     # a pause: the field is committed and the draft saved
    wait_idle(page)
    box.press_sequentially("費用対効果も妥当。", delay=30)   # typing on after the first save keeps every character
    expect(box).to_be_focused()
    wait_idle(page)
    page.wait_for_timeout(2500)                     # the pause after which the field is committed
    wait_idle(page)
    expect(box).to_have_value("横展開の体制が具体的。費用対効果も妥当。")
    wait_for_login_cookie(page)
    page.reload()                                   # focus never left the field
    wait_idle(page)
    page.goto(demo)
    open_proposal(page, "L4-009")
    expect(widget(page, "rv_comment_rollout_plan").locator("textarea")).to_have_value(
        "横展開の体制が具体的。費用対効果も妥当。")


def test_switching_language_keeps_every_choice(demo, page):
    """The browser holds a choice as its label; after switching to English the level must still be chosen
    (labelled in English) and the next save must keep it, as must the chair-style selectboxes on the page."""
    login(page, demo, "R01")
    open_proposal(page, "L4-003")                   # not started in the demo
    pick_radio(page, "rv_level_rollout_plan", LEVELS[2])
    page.get_by_text("English", exact=True).click()
    wait_idle(page)
    assert checked(page, "rv_level_rollout_plan") == "2 Somewhat insufficient"
    fill_text(page, "rv_comment_rollout_plan", "saved after the switch")    # another save of the same draft
    wait_for_login_cookie(page)
    page.reload()
    wait_idle(page)
    page.goto(f"{demo}/review?round=1&proposal=L4-003")   # a new session: still English (kept for R01), the level stored
    wait_idle(page)
    assert checked(page, "rv_level_rollout_plan") == "2 Somewhat insufficient"
    expect(widget(page, "rv_comment_rollout_plan").locator("textarea")).to_have_value("saved after the switch")


def test_logout_ends_the_login_also_after_a_reload(demo, page):
    login(page, demo, "R04")
    expect(page.get_by_text("ログイン中：委員 高橋 恵美")).to_be_visible()
    wait_for_login_cookie(page)
    click_button(page, "logout")
    expect(widget(page, "login_username")).to_be_visible()
    page.reload()
    wait_idle(page)
    expect(widget(page, "login_username")).to_be_visible()
    expect(page.get_by_text("ログイン中")).to_have_count(0)
    assert [c for c in page.context.cookies() if c["name"].startswith("shinsa_session")] == []


def test_a_bookmarked_default_page_opens_without_page_not_found(demo, page):
    """Streamlit serves a role's default page at "/" only; its own URL (a bookmark) must open it too, while a
    page of another role stays unreachable."""
    login(page, demo, "C01")
    wait_for_login_cookie(page)
    page.goto(f"{demo}/ranking")                    # the chair's default page, by its URL
    wait_idle(page)
    expect(page.get_by_role("heading", name="順位・採択")).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)
    assert page.url.endswith("/ranking")
    expect(page.get_by_role("link", name="順位・採択")).to_have_count(1)   # one menu entry, not two


def test_reviewer_cannot_reach_chair_pages_by_url(demo, page):
    login(page, demo, "R02")
    expect(page.get_by_role("link", name="順位・採択")).to_have_count(0)
    page.goto(f"{demo}/ranking")                    # a new session: the chair page is not reachable
    wait_idle(page)
    expect(page.get_by_text("予算の使用")).to_have_count(0)
    expect(page.get_by_text("採択ライン")).to_have_count(0)


def test_chair_sees_ranking_with_funding_line_and_downloads_workbook(demo, page, tmp_path):
    login(page, demo, "C01")
    expect(page.get_by_role("heading", name="順位・採択").first).to_be_visible()
    choose(page, "app_pack_pick", L4_LABEL)
    wait_idle(page)
    chart = widget(page, "chair_cumulative").first
    expect(chart.get_by_text("採択ライン")).to_be_visible()
    expect(widget(page, "chair_gauge").first.get_by_text("予算の使用", exact=False)).to_be_visible()
    shoot(page, "chair_ranking.png")

    click_button(page, "chair_xlsx_prepare")
    with page.expect_download() as dl:
        click_button(page, "chair_dl_xlsx")
    path = tmp_path / "chair.xlsx"
    dl.value.save_as(path)
    wb = openpyxl.load_workbook(path)
    cells = "\n".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value)
    assert "L4-011" in cells and "L4-012" in cells

    # what-if: a larger budget selects more, instantly, in the browser
    fill_text(page, "chair_budget", "2000000000")
    expect(page.get_by_text("試算中")).to_be_visible()

    page.get_by_role("link", name="提案の詳細").click()
    wait_idle(page)
    choose(page, "app_pack_pick", L4_LABEL)
    wait_idle(page)
    expect(widget(page, "chair_radar").first).to_be_visible()
    shoot(page, "proposal_detail.png")

    page.get_by_role("link", name="進捗").click()
    wait_idle(page)
    choose(page, "app_pack_pick", L4_LABEL)
    expect(page.get_by_role("heading", name="督促リスト", exact=False)).to_be_visible()
    shoot(page, "progress.png")


def test_whatif_change_redraws_only_the_ranking_fragment(demo, page):
    """A what-if change reruns only the ranking part of the page (an st.fragment): what the server sends back
    holds the new ranking, not the pickers or the sidebar again (Streamlit's session message, which names the
    pages, comes with every run)."""
    received: list[bytes] = []

    def on_ws(ws):
        ws.on("framereceived", lambda payload: received.append(payload if isinstance(payload, bytes)
                                                               else payload.encode("utf-8")))

    page.on("websocket", on_ws)
    login(page, demo, "C01")
    choose(page, "app_pack_pick", L4_LABEL)
    wait_idle(page)
    expect(widget(page, "chair_gauge").get_by_text("予算 17億", exact=False)).to_be_visible()
    received.clear()
    fill_text(page, "chair_budget", "2000000000")
    expect(widget(page, "chair_gauge").get_by_text("予算 20億", exact=False)).to_be_visible()
    expect(widget(page, "chair_cumulative").get_by_text("予算 20億", exact=False)).to_be_visible()
    wait_idle(page)
    sent = b"".join(received)
    assert "予算 20億".encode() in sent                       # the new ranking came
    assert "審査ラウンド".encode() not in sent                 # the round picker was not sent again,
    assert "ログイン中".encode() not in sent                   # nor the sidebar,
    assert L4_LABEL.encode() not in sent                      # nor the programme picker
