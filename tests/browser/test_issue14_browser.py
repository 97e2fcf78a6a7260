"""Issue 14 items 5 and 6 in a real browser (Chromium against ``streamlit run review_app.py -- --demo``):
the last keystrokes of a comment survive a reload made at once, and the language survives a reload and a typed
address (also the address of another role's page, which says in that language that it is not available)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import wait_idle, widget
from tests.browser.test_review_browser import login, open_proposal, wait_for_login_cookie

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(start_server) -> str:
    return start_server("--demo")


def test_a_comment_typed_just_before_a_reload_is_kept(demo, page):
    login(page, demo, "R01")
    open_proposal(page, "L4-003")                   # not started in the demo
    wait_for_login_cookie(page)
    box = widget(page, "rv_comment_service_need").locator("textarea")
    box.click()
    box.press_sequentially("最後の一文まで残ること。", delay=10)
    page.wait_for_timeout(100)                      # well inside the pause after which the field is committed
    page.reload()
    wait_idle(page)
    box = widget(page, "rv_comment_service_need").locator("textarea")
    expect(box).to_have_value("最後の一文まで残ること。")
    expect(page.get_by_text("下書きを保存しました", exact=False)).to_be_visible()
    expect(page.get_by_text("別の画面で変更されました", exact=False)).to_have_count(0)   # no false alarm
    page.evaluate("() => localStorage.clear()")     # what the browser kept is gone: the server has the text
    page.reload()
    wait_idle(page)
    expect(widget(page, "rv_comment_service_need").locator("textarea")).to_have_value("最後の一文まで残ること。")


def test_english_survives_a_reload_and_typed_addresses(demo, page):
    login(page, demo, "R02")
    wait_for_login_cookie(page)
    page.get_by_text("English", exact=True).click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="My proposals")).to_be_visible()
    page.reload()
    wait_idle(page)
    expect(page.get_by_role("heading", name="My proposals")).to_be_visible()
    page.goto(f"{demo}/my_proposals")               # a typed address: a new session
    wait_idle(page)
    expect(page.get_by_role("heading", name="My proposals")).to_be_visible()
    page.goto(f"{demo}/ranking")                    # a chair's page: not available to a reviewer, in English
    wait_idle(page)
    expect(page.get_by_text('"Ranking and selection" is not available to your role (Reviewer).')).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)
    page.context.clear_cookies(name=re.compile(r"^shinsa_session_"))   # no login; this browser chose English
    page.goto(demo)
    wait_idle(page)
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
