"""The hearing stage in a real browser (issue 17): against ``streamlit run review_app.py -- --demo``, the chair
cuts the hearing shortlist of 自動運転レベル4 with a what-if of the method (top 12), moves on and fixes it; three
members submit hearing reviews (through the store, as their forms would); the chair's ranking page then shows the
final ranking with both stage scores and the funding line on the final order. Screenshots of both pages go to
docs/screenshots/.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from scoring.io.packs import load_pack
from tests.browser.conftest import SCREENSHOTS, choose, click_button, wait_idle, widget
from tests.browser.test_review_browser import login, shoot

pytestmark = pytest.mark.browser

L4 = load_pack("autonomous_l4")
L4_LABEL = f"{L4.programme.code} {L4.programme.name.ja}"
HEAR = list(L4.hearing.criterion_ids)


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory):
    return tmp_path_factory.mktemp("hearing_data")


@pytest.fixture(scope="module")
def demo(start_server, demo_folder) -> str:
    """The demo server on a database seeded here first (the server finds it seeded and starts at once)."""
    from app.demo import seed_demo
    from scoring.store import Store

    store = Store(f"sqlite:///{demo_folder / 'shinsa.db'}", create=True)
    try:
        assert seed_demo(store)
    finally:
        store.close()
    return start_server("--demo", env={"SHINSA_DATA_DIR": str(demo_folder)})


def test_chair_fixes_the_shortlist_and_sees_the_final_ranking_with_both_scores(demo, demo_folder, page):
    from scoring.store import Store

    login(page, demo, "C01")
    expect(page.get_by_role("heading", name="順位・採択").first).to_be_visible()
    page.get_by_role("link", name="審査段階・ヒアリング対象").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="審査段階・ヒアリング対象").first).to_be_visible()
    choose(page, "app_pack_pick", L4_LABEL)
    choose(page, "stage_method", "上位n件")
    box = widget(page, "stage_n").locator("input")
    box.fill("12")
    box.press("Enter")
    wait_idle(page)
    expect(page.get_by_text("方式による対象（上位n件）")).to_be_visible()
    click_button(page, "stage_forward")                       # → ヒアリング対象の選定, with top 12
    expect(page.get_by_text("段階を「ヒアリング対象の選定」にしました。")).to_be_visible()
    click_button(page, "stage_forward")                       # → ヒアリング: the shortlist is fixed
    expect(page.get_by_text("ヒアリング対象は確定しています（方式：上位n件、12件）", exact=False)).to_be_visible()
    shoot(page, "chair_stage.png")

    store = Store(f"sqlite:///{demo_folder / 'shinsa.db'}")
    try:
        info = store.hearings.get_stage(store.users.get("C01"), 1, "autonomous_l4")
        assert info.stage == "hearing" and len(info.shortlist) == 12
        for k, who in enumerate(("R02", "R04", "R05")):
            me = store.users.get(who)
            for j, pid in enumerate(info.shortlist):
                level = 4 + (j + k) % 2                   # a final order unlike the documents
                v = store.reviews.save_draft(me, 1, pid, dict.fromkeys(HEAR, level), {}, None, "", base_version=0,
                                             stage="hearing")
                store.reviews.submit(me, 1, pid, v, stage="hearing")
    finally:
        store.close()

    page.get_by_role("link", name="順位・採択").click()
    wait_idle(page)
    choose(page, "app_pack_pick", L4_LABEL)
    expect(page.get_by_text("ヒアリング後の最終順位です（現在：ヒアリング）", exact=False)).to_be_visible()
    table = page.locator("[data-testid=stDataFrame]").first
    for header in ("最終順位", "書面点（B_d）", "ヒアリング点（B_h）", "最終点（S）", "ヒアリング評価数"):
        # the table is drawn on a canvas; its accessible twin (hidden) holds the column headers
        expect(table.locator("th[role=columnheader]", has_text=header).first).to_be_attached()
    expect(widget(page, "chair_cumulative").first.get_by_text("採択ライン")).to_be_visible()
    expect(page.locator("p", has_text="補欠").filter(has_text="1. L4-012").first).to_be_visible()   # final order
    shoot(page, "chair_ranking_hearing.png")
    assert (SCREENSHOTS / "chair_ranking_hearing.png").stat().st_size > 0
