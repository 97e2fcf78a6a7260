"""Accessibility in a real browser (issue 19, JIS X 8341-3:2016 level AA = WCAG 2.1 AA).

One demo server and one Chromium; per interface language one sweep that walks every page of every role in the
states people meet and runs axe-core's WCAG 2.1 A/AA rules on each (tests/browser/axe.py): login (also with a
refused login shown), the self-check filled in with its verdict, a reviewer's list, a proposal being scored with
levels chosen, the account page, the ranking after a what-if, the progress matrix, a proposal's detail with its
radar, the round administration with an import error shown, and the secretariat's pages; and the pages of the
hearing and decision stages on the demo's ai_edge programme (at stage ヒアリング): the discussion (委員間の議論)
with comments posted, the hearing form (評価入力 ?stage=hearing) with a level chosen, 審査段階・ヒアリング対象,
the hearing timetable once saved, 採否・通知 (chair and secretariat). Every violation of the whole sweep is listed
at once; only Streamlit's own, listed in ``STREAMLIT_KNOWN``, are allowed.

The sweep also checks ``<html lang>`` on every page (success criterion 3.1.1), in Japanese, in English and
right after switching between them.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from scoring.io.packs import load_pack
from tests.browser.axe import STREAMLIT_KNOWN, describe, violations
from tests.browser.conftest import click_button, fill_text, wait_idle, widget

pytestmark = pytest.mark.browser

L4 = load_pack("autonomous_l4")
AI = load_pack("ai_edge")        # the demo's programme at the hearing stage (app/demo.py HEARING_PACK)
LANG_LABEL = {"ja": "日本語", "en": "English"}


@pytest.fixture(scope="module")
def demo(start_server) -> str:
    return start_server("--demo")


def open_app(page, url: str) -> None:
    """The first request of a demo server seeds the demo round: on a busy machine that takes a while."""
    page.goto(url)
    expect(page.locator("h1").first).to_be_visible(timeout=120_000)
    wait_idle(page)


def settle(page) -> None:
    """Wait for the rerun to finish and for the elements of the previous run (stale, still drawn) to go."""
    wait_idle(page)
    page.wait_for_function("() => !document.querySelector('[data-stale=true]:not([data-retained=true])')")


class Sweep:
    """Walks the app in one browser tab (one Streamlit session, so the chosen language stays) and collects
    axe's findings per page and state."""

    def __init__(self, page, lang: str):
        self.page, self.lang = page, lang
        self.failures: dict[str, list[dict]] = {}
        self.known_seen: set[int] = set()
        self.checked: list[str] = []

    def check(self, name: str) -> None:
        settle(self.page)
        assert self.page.evaluate("document.documentElement.lang") == self.lang, f"<html lang> on {name}"
        found, known = violations(self.page)
        self.known_seen |= known
        self.checked.append(name)
        if found:
            self.failures[name] = found

    def switch_language(self, lang: str) -> None:
        self.page.locator("[data-testid=stSidebar]").get_by_text(LANG_LABEL[lang], exact=True).click()
        settle(self.page)
        self.lang = lang
        expect(self.page.locator("html")).to_have_attribute("lang", lang)

    def go(self, url_path: str) -> None:
        """Open a page from the menu (a link of the same session: the language stays); "" is the role's
        default page, which Streamlit links as "/"."""
        self.page.locator(f"[data-testid=stSidebarNavLink][href$='/{url_path}']").first.click()
        settle(self.page)

    def log_in(self, username: str, password: str = "shinsa-demo") -> None:
        settle(self.page)
        widget(self.page, "login_username").locator("input").fill(username)
        widget(self.page, "login_password").locator("input").fill(password)
        form = self.page.locator("[data-testid=stForm]").filter(has=widget(self.page, "login_username"))
        form.locator("[data-testid=stFormSubmitButton] button").click()
        wait_idle(self.page)

    def log_out(self) -> None:
        click_button(self.page, "logout")
        expect(widget(self.page, "login_username")).to_be_visible()
        wait_idle(self.page)

    def pick_programme(self, key: str = "app_pack_pick", pack=L4) -> None:
        settle(self.page)
        box = widget(self.page, key).get_by_role("combobox")
        box.click()
        self.page.get_by_role("option").filter(has_text=pack.programme.code).first.click()
        wait_idle(self.page)
        expect(box).to_have_value(re.compile("^" + re.escape(pack.programme.code)))

    def choose_level(self, key: str, level: int) -> None:
        settle(self.page)
        option = widget(self.page, key).locator("[data-testid=stRadioOption]").filter(
            has_text=re.compile(rf"^{level}\s"))
        option.click()                      # retried by Playwright while a rerun redraws the option
        wait_idle(self.page)


def sweep_public(s: Sweep) -> None:
    page = s.page
    expect(widget(page, "login_username")).to_be_visible()
    s.check("login")
    s.log_in("R01", "wrong-password")
    expect(page.locator("[data-testid=stAlertContentError]")).to_be_visible()
    s.check("login, refused")

    s.go("self_check")
    s.pick_programme("dr_pack")
    fill_text(page, "dr_app_name", "株式会社北雪モビリティ")
    fill_text(page, "dr_requested", "148000000")
    for c in L4.criteria:
        s.choose_level(f"dr_level_{c.id}", 4)
    expect(page.locator("[data-testid=stMetric]").first).to_be_visible()
    expect(widget(page, "dr_pack").get_by_role("combobox")).to_have_value(re.compile("^" + re.escape(L4.programme.code)))
    s.check("self-check, filled in with its verdict")
    s.go("")                                                    # back to the login page


def sweep_reviewer(s: Sweep) -> None:
    page = s.page
    s.log_in("R01")
    expect(widget(page, "rv_home_open_1")).to_be_visible()
    s.check("reviewer: my proposals")
    widget(page, "rv_home_pick_1").get_by_role("combobox").click()
    page.keyboard.type("L4-001")
    page.get_by_role("option").filter(has_text="L4-001").first.click()
    wait_idle(page)
    click_button(page, "rv_home_open_1")
    expect(widget(page, "rv_level_service_need")).to_be_visible()
    s.choose_level("rv_level_service_need", 4)
    s.choose_level("rv_level_verification_items", 3)
    s.check("reviewer: scoring, levels chosen")
    post_comment(s, "審査項目の記述について、実証地域の選定理由を確認したい。")
    s.check("reviewer: scoring, discussion with a comment posted")
    mode = widget(page, "rv_mode").locator("[data-testid=stRadioOption]")
    mode.nth(1).click()                                          # ヒアリング審査: R01's hearing forms (ai_edge)
    wait_idle(page)
    first = AI.hearing.criteria[0].id
    expect(widget(page, f"rv_h_level_{first}")).to_be_visible()
    s.choose_level(f"rv_h_level_{first}", 4)
    s.check("reviewer: hearing form, a level chosen")
    mode.nth(0).click()                                          # back to 書面審査 for the next sweep
    wait_idle(page)
    s.go("account")
    s.check("reviewer: account")
    s.log_out()


def sweep_chair(s: Sweep) -> None:
    page = s.page
    s.log_in("C01")
    expect(widget(page, "logout")).to_be_visible()
    s.go("")                     # logged in at the address the last role left (its account page): go home
    expect(widget(page, "app_pack_pick")).to_be_visible()
    s.pick_programme()
    fill_text(page, "chair_budget", "2000000000")                  # a what-if
    expect(widget(page, "chair_cumulative").first).to_be_visible()
    s.check("chair: ranking after a what-if")
    s.go("progress")
    s.pick_programme()
    expect(page.locator("[data-testid=stDataFrame]").first).to_be_visible()
    s.check("chair: progress matrix")
    s.go("proposal")
    s.pick_programme()
    expect(widget(page, "chair_radar")).to_have_count(1)
    s.check("chair: proposal detail with radar")
    s.go("admin")
    uploader = widget(page, "adm_import_proposals")
    page.locator("[data-testid=stExpander]").filter(has=uploader).locator("summary").click()
    uploader.locator("input[type=file]").set_input_files(
        files=[{"name": "proposals.json", "mimeType": "application/json", "buffer": b'{"proposals": [{"id": '}])
    wait_idle(page)
    click_button(page, "adm_import_run")
    expect(page.locator("[data-testid=stAlertContentError]").first).to_be_visible()
    s.check("chair: round administration, import error shown")
    sweep_chair_hearing(s)
    s.log_out()


def post_comment(s: Sweep, text: str, chairs_only: bool = False) -> None:
    """Post a comment to the discussion (委員間の議論) of the proposal on the page (``chairs_only``: visible to
    the chairs only, shown with its badge)."""
    page = s.page
    settle(page)
    body = widget(page, "disc_post_body").locator("textarea")
    body.fill(text)
    if chairs_only:
        widget(page, "disc_post_vis").locator("[data-testid=stRadioOption]").nth(1).click()
    page.locator("[data-testid=stForm]").filter(has=body).locator("[data-testid=stFormSubmitButton] button").click()
    wait_idle(page)
    expect(page.get_by_text(text).first).to_be_visible()


def sweep_chair_hearing(s: Sweep) -> None:
    """The hearing programme (ai_edge, at stage ヒアリング in the demo): its stage and shortlist, the hearing
    timetable once saved, the decisions page, and the discussion on a proposal's detail."""
    page = s.page
    s.go("stages")
    s.pick_programme(pack=AI)
    expect(page.locator("[data-testid=stDataFrame]").first).to_be_visible()
    s.check("chair: stages and hearing shortlist")
    s.go("hearing_timetable")
    s.pick_programme(pack=AI)
    form = page.locator("[data-testid=stForm]").filter(has=page.locator("[class*='st-key-tt_slot_']"))
    form.locator("[data-testid=stFormSubmitButton] button").click()
    wait_idle(page)
    expect(page.locator("[data-testid=stDataFrame]").first).to_be_visible()
    s.check("chair: hearing timetable, saved, with its slots")
    s.go("decisions")
    s.pick_programme(pack=AI)
    expect(page.locator("[data-testid=stDataFrame]").first).to_be_visible()
    s.check("chair: decisions and notices")
    s.go("proposal")
    s.pick_programme()
    settle(page)
    expect(widget(page, "disc_post_body")).to_be_visible()
    post_comment(s, "委員長から: ヒアリングで体制を確認します。", chairs_only=True)
    s.check("chair: proposal detail, discussion with comments")


def sweep_secretariat(s: Sweep) -> None:
    page = s.page
    s.log_in("S01")
    expect(widget(page, "logout")).to_be_visible()
    s.go("")                     # logged in at the address the chair left: go to the secretariat's home
    s.pick_programme()
    expect(page.locator("[data-testid=stDataFrame]").first).to_be_visible()
    s.check("secretariat: progress matrix")
    s.go("admin")
    s.check("secretariat: round administration")
    s.go("stages")
    s.pick_programme(pack=AI)
    s.check("secretariat: stages, the fixed shortlist")
    s.go("decisions")
    s.pick_programme(pack=AI)
    s.check("secretariat: decisions (none confirmed yet)")
    s.log_out()


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_page_of_every_role_has_no_wcag_21_aa_violation(demo, page, lang):
    open_app(page, demo)
    expect(page.locator("html")).to_have_attribute("lang", "ja")   # Japanese first
    s = Sweep(page, "ja")
    if lang == "en":
        s.switch_language("en")
    sweep_public(s)
    sweep_reviewer(s)
    sweep_chair(s)
    sweep_secretariat(s)
    assert len(s.checked) == 20
    assert not s.failures, "WCAG 2.1 A/AA violations (axe-core):\n" + "\n".join(
        f"{name}:\n{describe(found)}" for name, found in s.failures.items())
    stale = [k for i, k in enumerate(STREAMLIT_KNOWN) if i not in s.known_seen]
    assert not stale, f"allowed Streamlit violations no longer found (remove them from the list): {stale}"


def test_html_lang_follows_the_language_switch_on_every_page(demo, page):
    """<html lang> is "ja" by default, "en" right after switching (without a reload), "ja" again after
    switching back, and stays right while moving between pages."""
    open_app(page, f"{demo}/self_check")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "ja")
    s = Sweep(page, "ja")
    s.switch_language("en")
    s.go("")                                                   # the login page: the default page, at "/"
    expect(html).to_have_attribute("lang", "en")
    s.log_in("C01")
    expect(widget(page, "app_pack_pick")).to_be_visible()
    expect(html).to_have_attribute("lang", "en")
    for path in ("progress", "proposal", "admin", "my_proposals", "review", "self_check", "account"):
        s.go(path)
        expect(html).to_have_attribute("lang", "en")
    s.switch_language("ja")
    expect(html).to_have_attribute("lang", "ja")
    s.go("progress")
    expect(html).to_have_attribute("lang", "ja")


# --- keyboard only (issue 19 §3) ----------------------------------------------------------------------------------

FOCUS_OUTLINE = "solid 2px rgb(11, 87, 208)"    # app/ui.py FOCUS_COLOUR
_FOCUSED = """() => {
  const a = document.activeElement;
  if (!a || a === document.body) return null;
  // a table (st.dataframe) is a canvas grid that draws its focused cell itself, behind an ARIA grid of cells
  if (a.closest("[data-testid=stDataFrame]")) return {key: "", tag: "GRID", text: "", outline: "drawn by the grid"};
  const box = a.closest("[class*='st-key-']");
  const key = box ? [...box.classList].find(c => c.startsWith("st-key-")).slice(7) : "";
  // a radio option's input is clipped to 1 px: its label carries the focus outline
  const marked = a.matches("input[type=radio], input[type=checkbox]") ? a.closest("label") : a;
  const cs = getComputedStyle(marked);
  return {key, tag: a.tagName, text: (a.innerText || a.value || "").slice(0, 40),
          outline: `${cs.outlineStyle} ${cs.outlineWidth} ${cs.outlineColor}`};
}"""


def focused(page) -> dict | None:
    return page.evaluate(_FOCUSED)


def tab_to(page, key: str, tag: str, backwards: bool = False, limit: int = 80) -> dict:
    """Press Tab (Shift+Tab) until the widget ``key``'s ``tag`` element has the focus; every element focused on
    the way must show the focus outline."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        now = focused(page)
        if now is None or now["tag"] == "GRID":
            continue
        assert now["outline"] == FOCUS_OUTLINE, f"no visible focus on {now}"
        if now["key"] == key and now["tag"] == tag:
            return now
    raise AssertionError(f"{key} ({tag}) never got the keyboard focus in {limit} presses")


def chosen(page, key: str) -> str:
    """The chosen option's label (one must be chosen: waits for the redrawn group)."""
    box = widget(page, key).locator("input[type=radio]:checked")
    expect(box).to_have_count(1)
    return box.first.evaluate("e => e.closest('label').innerText").strip()


def test_a_reviewer_scores_and_submits_with_the_keyboard_only(demo, page):
    """R01 opens L4-003 from 担当案件, chooses every level (Space, arrows), writes a comment and submits with
    its confirmation — Tab, Shift+Tab, arrows, Space and Enter only, the focus visible on every stop."""
    levels = {s.level: f"{s.level} {s.label.ja}" for s in L4.scale}
    open_app(page, demo)
    Sweep(page, "ja").log_in("R01")
    expect(widget(page, "rv_home_open_1")).to_be_visible()

    tab_to(page, "rv_home_pick_1", "INPUT")
    page.keyboard.type("L4-003")                      # the list filters as one types
    page.keyboard.press("Enter")
    wait_idle(page)
    tab_to(page, "rv_home_open_1", "BUTTON")
    page.keyboard.press("Enter")
    wait_idle(page)
    expect(page.get_by_role("heading", name="L4-003", exact=False).first).to_be_visible()

    first, *rest = L4.criteria
    tab_to(page, f"rv_level_{first.id}", "INPUT")     # the group's first option (5) has the focus
    page.keyboard.press("Space")
    settle(page)
    assert chosen(page, f"rv_level_{first.id}") == levels[5]
    tab_to(page, f"rv_comment_{first.id}", "TEXTAREA")
    page.keyboard.type("キーボードだけで入力したコメント。")
    page.wait_for_timeout(1_500)    # the comment's autosave (0.8 s after the last key) and its rerun are over
    settle(page)
    tab_to(page, f"rv_level_{first.id}", "INPUT", backwards=True)   # back to the level: change it with an arrow
    page.keyboard.press("ArrowRight")
    settle(page)
    assert chosen(page, f"rv_level_{first.id}") == levels[4]
    for c in rest:
        tab_to(page, f"rv_level_{c.id}", "INPUT")
        page.keyboard.press("ArrowRight")             # moves to 4 and chooses it (the draft is saved)
        settle(page)
        page.keyboard.press("ArrowRight")             # and on to 3
        settle(page)
        assert chosen(page, f"rv_level_{c.id}") == levels[3], c.id

    tab_to(page, "rv_submit", "BUTTON")
    page.keyboard.press("Enter")
    wait_idle(page)
    tab_to(page, "rv_submit_confirm", "BUTTON", backwards=True)
    page.keyboard.press("Enter")
    wait_idle(page)
    expect(page.get_by_text("評価を提出しました。")).to_be_visible()
    settle(page)
    assert chosen(page, f"rv_level_{first.id}") == levels[4]
    assert [chosen(page, f"rv_level_{c.id}") for c in rest] == [levels[3]] * len(rest)
    expect(widget(page, f"rv_comment_{first.id}").locator("textarea")).to_have_value("キーボードだけで入力したコメント。")
    expect(widget(page, f"rv_level_{first.id}").locator("input").first).to_be_disabled()
