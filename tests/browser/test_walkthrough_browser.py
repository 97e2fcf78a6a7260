"""Issue 14 "Done when": all four roles walked end to end in Chromium against one ``streamlit run review_app.py
-- --demo`` server, every page once in Japanese and once in English, and afterwards the server's log holds no
traceback and no warning, and no page showed Streamlit's exception box.

The walk: an applicant (no login) fills the self-check and reads its verdict; reviewer R01 opens a proposal from
担当案件, chooses the levels, writes a comment and submits; the secretariat (S01) opens 進捗 and ラウンド管理; the
chair (C01) opens 順位・採択 and runs a what-if, then 提案の詳細, the stage page and the hearing timetable.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from scoring.io.packs import load_pack
from tests.browser.conftest import choose, click_button, fill_text, pick_radio, wait_idle, widget
from tests.browser.test_review_browser import login, open_proposal

pytestmark = pytest.mark.browser

L4 = load_pack("autonomous_l4")
L4_LABEL = f"{L4.programme.code} {L4.programme.name.ja}"
LEVELS = {s.level: f"{s.level} {s.label.ja}" for s in L4.scale}
EXCEPTION_BOX = "[data-testid=stException]"


LANGUAGE_NAMES = {"ja": "日本語", "en": "English"}
# Streamlit logs without the level by default; with it, a warning line says WARNING
LOG_FORMAT = {"STREAMLIT_LOGGER_MESSAGE_FORMAT": "%(asctime)s %(levelname)s %(name)s: %(message)s"}


@pytest.fixture(scope="module")
def demo_log(start_server, tmp_path_factory) -> tuple[str, Path]:
    """The demo server and the log file the fixture writes for it."""
    base = tmp_path_factory.getbasetemp()
    def logs() -> set[Path]:     # server0/, server1/ … (and a "servercurrent" link to the newest)
        return {p.resolve() for p in base.glob("server*/streamlit.log")}

    before = logs()
    url = start_server("--demo", env=LOG_FORMAT)
    [log] = logs() - before
    return url, log


class Walk:
    """One browser through every page; the language alternates, so each page is seen in both with one switch."""

    def __init__(self, page, url: str):
        self.page, self.url, self.lang = page, url, "ja"

    def clean(self, where: str) -> None:
        wait_idle(self.page)
        boxes = self.page.locator(EXCEPTION_BOX)
        assert boxes.count() == 0, f"Streamlit's exception box on {where}: " + " | ".join(boxes.all_inner_texts())

    def both(self, where: str, ja: str, en: str) -> None:
        """The page shows ``ja`` in Japanese and ``en`` in English (in the current language first, then after the
        switch); no exception box in either."""
        texts = {"ja": ja, "en": en}
        for _ in range(2):
            expect(self.page.get_by_text(texts[self.lang], exact=False).first).to_be_visible()
            self.clean(f"{where} ({self.lang})")
            if _ == 0:
                self.switch("en" if self.lang == "ja" else "ja")

    def switch(self, lang: str) -> None:
        if lang != self.lang:
            self.page.get_by_text(LANGUAGE_NAMES[lang], exact=True).click()
            wait_idle(self.page)
            self.lang = lang
            self.wait_for_language_cookie()

    def wait_for_language_cookie(self) -> None:
        """The browser keeps the choice in a cookie a script sets just after the run (app/language.py): the
        next address typed (a login) opens in it."""
        deadline = time.monotonic() + 15
        while {c["name"]: c["value"] for c in self.page.context.cookies()}.get("shinsa_lang", "ja") != self.lang:
            assert time.monotonic() < deadline, f"the language cookie never became {self.lang}"
            self.page.wait_for_timeout(100)

    def open(self, ja: str, en: str) -> None:
        self.page.get_by_role("link", name=ja if self.lang == "ja" else en).click()
        wait_idle(self.page)

    def login(self, username: str) -> None:
        self.switch("ja")
        login(self.page, self.url, username)
        self.lang = "ja"     # the demo accounts have no stored language of their own until they switch

    def log_out(self) -> None:
        click_button(self.page, "logout")
        expect(widget(self.page, "login_username")).to_be_visible()


def test_four_roles_walk_every_page_in_both_languages_with_a_clean_server_log(demo_log, page):
    demo, log = demo_log
    walk = Walk(page, demo)

    # an applicant at a municipality: the self-check, no login
    page.goto(f"{demo}/self_check")
    wait_idle(page)
    expect(page.get_by_role("heading", name="応募前セルフチェック")).to_be_visible()
    fill_text(page, "dr_app_name", "岩見沢市")
    choose(page, "dr_app_kind", "地方公共団体（市区町村）")
    fill_text(page, "dr_requested", "1億2,000万円")
    for c in L4.criteria:
        pick_radio(page, f"dr_level_{c.id}", LEVELS[4])
    walk.both("the self-check", "基礎点 75.00 点は合格点 60.00 点以上", "The base score 75.00 reaches the pass line 60.00")

    # a reviewer: 担当案件 → a proposal → levels, a comment, submit
    walk.login("R01")
    walk.both("担当案件", "担当案件", "My proposals")
    walk.switch("ja")
    open_proposal(page, "L4-001")
    for c in L4.criteria:
        pick_radio(page, f"rv_level_{c.id}", LEVELS[4])
    fill_text(page, "rv_comment_service_need", "積雪期の課題設定が具体的。")
    walk.both("the scoring page", "下書きを保存しました", "Draft saved")
    click_button(page, "rv_submit")
    click_button(page, "rv_submit_confirm")
    expect(page.get_by_text({"ja": "評価を提出しました。", "en": "The review is submitted."}[walk.lang])).to_be_visible()
    walk.clean("the scoring page after submitting")
    walk.log_out()

    # the secretariat: 進捗 and ラウンド管理
    walk.login("S01")
    walk.both("進捗", "督促リスト", "Reminder")
    walk.open("ラウンド管理", "Round administration")
    walk.both("ラウンド管理", "ラウンド管理", "Round administration")
    walk.log_out()

    # the chair: 順位・採択 with a what-if, 提案の詳細, the stage page, the timetable
    walk.login("C01")
    choose(page, "app_pack_pick", L4_LABEL)
    expect(widget(page, "chair_cumulative").first.get_by_text("採択ライン")).to_be_visible()
    fill_text(page, "chair_budget", "20億円")
    walk.both("順位・採択 (what-if)", "試算中", "What-if: the results below")
    walk.open("提案の詳細", "Proposal detail")
    walk.both("提案の詳細", "提案の詳細", "Proposal detail")
    walk.open("審査段階・ヒアリング対象", "Stages and hearing shortlist")
    walk.both("the stage page", "審査段階・ヒアリング対象", "Stages and hearing shortlist")
    walk.open("ヒアリング日程", "Hearing timetable")
    walk.both("the timetable", "ヒアリング日程", "Hearing timetable")
    walk.log_out()

    text = log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in text and "Stack (most recent call last)" not in text, text[-6000:]
    bad = [line for line in text.splitlines() if re.search(r"Warning|WARNING", line)]
    assert not bad, "\n".join(bad)
