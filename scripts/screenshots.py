"""The README's screenshots, in Japanese and in English: ``python3 scripts/screenshots.py``.

Starts ``streamlit run review_app.py -- --demo`` on a free port with a fresh data folder, drives Debian's
Chromium (``/usr/bin/chromium``) with Playwright and writes docs/screenshots/:

- reviewer_scoring, chair_ranking, proposal_detail, dry_run (Japanese) and the same with ``_en`` (English);
- chair_stage, chair_ranking_hearing (the demo's programme in its hearing stage) and their ``_en`` twins;
- documents_scoring(_en): 評価入力 with the 提案書 beside the form, the window as it is (1,280 × 950).

Each page is shot whole (the window made as tall as the page), except documents_scoring. Look at every picture
after running it. ``--only documents`` (or any of self_check, reviewer, chair) makes only those.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from app.demo import DEMO_PASSWORD, HEARING_PACK  # noqa: E402
from scoring.io.packs import load_pack  # noqa: E402
from tests.browser.conftest import (CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, choose, click_button, fill_text,  # noqa: E402
                                    pick_radio, wait_idle, widget)
from tests.browser.test_review_browser import wait_for_login_cookie  # noqa: E402

L4 = load_pack("autonomous_l4")
HEARING = load_pack(HEARING_PACK)
WORDS = {  # what each language calls the links and choices the script clicks
    "ja": {"detail": "提案の詳細", "stage": "審査段階・ヒアリング対象", "ranking": "順位・採択", "kind": "地方公共団体（市区町村）"},
    "en": {"detail": "Proposal detail", "stage": "Stages and hearing shortlist", "ranking": "Ranking and selection",
           "kind": "Local government (municipality)"},
}


def pack_label(pack, lang: str) -> str:
    return f"{pack.programme.code} {pack.programme.name.get(lang)}"


def level_label(level: int, lang: str) -> str:
    return next(f"{s.level} {s.label.get(lang)}" for s in L4.scale if s.level == level)


def shoot(page, name: str) -> None:
    height = page.evaluate("() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
                           "[data-testid=stAppViewContainer]')].map(e => e.scrollHeight), 900)")
    page.set_viewport_size({"width": 1280, "height": min(int(height) + 40, 6000)})
    wait_idle(page)
    page.wait_for_timeout(800)          # charts finish drawing
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    print("wrote", SCREENSHOTS / name)


def login(page, url: str, username: str) -> None:
    page.goto(url)
    wait_idle(page)
    widget(page, "login_username").locator("input").fill(username)
    widget(page, "login_password").locator("input").fill(DEMO_PASSWORD)
    page.locator("[data-testid=stFormSubmitButton] button").click()
    wait_idle(page)


def self_check(page, url: str, lang: str, suffix: str) -> None:
    page.goto(f"{url}/self_check")
    wait_idle(page)
    fill_text(page, "dr_app_name", "岩見沢市" if lang == "ja" else "Iwamizawa City")
    choose(page, "dr_app_kind", WORDS[lang]["kind"])
    fill_text(page, "dr_requested", "1億4,800万円" if lang == "ja" else "148000000")
    for k, c in enumerate(L4.criteria):
        pick_radio(page, f"dr_level_{c.id}", level_label(4 if k % 2 == 0 else 3, lang))
    shoot(page, f"dry_run{suffix}.png")


def reviewer(page, url: str, lang: str, suffix: str) -> None:
    login(page, url, "R01")
    wait_for_login_cookie(page)          # the address below opens a new session: logged in by the cookie
    page.goto(f"{url}/review?round=1&proposal=L4-001")
    wait_idle(page)
    pick_radio(page, "rv_level_service_need", level_label(4, lang))
    fill_text(page, "rv_comment_service_need", "積雪期の課題設定が具体的で、横展開の道筋も明確。" if lang == "ja"
              else "A concrete problem for the snow season, and a clear path to roll it out.")
    pick_radio(page, "rv_level_verification_items", level_label(3, lang))
    page.mouse.wheel(0, -5000)
    shoot(page, f"reviewer_scoring{suffix}.png")


def documents(page, url: str, lang: str, suffix: str) -> None:
    login(page, url, "R01")
    wait_for_login_cookie(page)
    page.set_viewport_size({"width": 1280, "height": 950})
    page.goto(f"{url}/review?round=1&proposal=L4-006")
    wait_idle(page)
    expect(widget(page, "rv_doc_pdf").locator("canvas").first).to_be_visible()
    page.wait_for_timeout(2500)          # the viewer fits the page to its column, then draws it again
    page.screenshot(path=str(SCREENSHOTS / f"documents_scoring{suffix}.png"))
    print("wrote", SCREENSHOTS / f"documents_scoring{suffix}.png")


def chair(page, url: str, lang: str, suffix: str) -> None:
    login(page, url, "C01")
    choose(page, "app_pack_pick", pack_label(L4, lang))
    expect(widget(page, "chair_cumulative").first).to_be_visible()
    shoot(page, f"chair_ranking{suffix}.png")
    page.get_by_role("link", name=WORDS[lang]["detail"]).click()
    wait_idle(page)
    choose(page, "app_pack_pick", pack_label(L4, lang))
    expect(widget(page, "chair_radar").first).to_be_visible()
    shoot(page, f"proposal_detail{suffix}.png")
    page.get_by_role("link", name=WORDS[lang]["stage"]).click()       # the hearing stage of the demo programme
    wait_idle(page)
    choose(page, "app_pack_pick", pack_label(HEARING, lang))
    shoot(page, f"chair_stage{suffix}.png")
    page.get_by_role("link", name=WORDS[lang]["ranking"]).click()
    wait_idle(page)
    choose(page, "app_pack_pick", pack_label(HEARING, lang))
    expect(widget(page, "chair_cumulative").first).to_be_visible()
    shoot(page, f"chair_ranking_hearing{suffix}.png")


STEPS = {"self_check": self_check, "reviewer": reviewer, "chair": chair, "documents": documents}


def main() -> None:
    import argparse
    import os
    import subprocess

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", choices=list(STEPS), default=list(STEPS))
    steps = [STEPS[name] for name in ap.parse_args().only]

    from tests.browser.conftest import free_port, stop_server

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="shinsa-shots-") as tmp:
        port = free_port()
        env = {**os.environ, "SHINSA_DATA_DIR": tmp}
        env.pop("DATABASE_URL", None)
        log = open(Path(tmp) / "streamlit.log", "wb")
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "review_app.py"),
                                 "--server.headless", "true", "--server.port", str(port),
                                 "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
                                 "--", "--demo"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait(url)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                expect.set_options(timeout=60_000)
                for lang, suffix in (("ja", ""), ("en", "_en")):
                    for step in steps:
                        context = browser.new_context(viewport={"width": 1280, "height": 900},
                                                      locale="ja-JP" if lang == "ja" else "en-US")
                        context.add_cookies([{"name": "shinsa_lang", "value": lang, "url": url}])
                        page = context.new_page()
                        page.set_default_timeout(60_000)
                        step(page, url, lang, suffix)
                        context.close()
                browser.close()
        finally:
            stop_server(proc)
            log.close()


def _wait(url: str) -> None:
    import time
    import urllib.request

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the server did not start on {url}")


if __name__ == "__main__":
    main()
