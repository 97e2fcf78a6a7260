"""The 提案書 and the discussion in a real browser (issue 16 items 3, 4, 8): a reviewer scores with the PDF visible
beside the form — the page fits the column's width, and a level click does not send the PDF again; a conflicted
reviewer, in another browser session, is refused the same document by every URL — the scoring page, and the
Streamlit media URL the document would have (docs/security/documents.md). Then 委員間の議論 under the default
policy ``after_own_submit``: before submitting, a reviewer sees neither the other reviews nor the thread; after,
both; a chairs-only comment never; a conflicted member no thread at all."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from scoring.io.packs import load_pack
from tests.browser.conftest import ROOT, click_button, pick_radio, wait_idle, widget
from tests.browser.test_review_browser import LEVELS, wait_for_login_cookie

pytestmark = pytest.mark.browser

TITLES = {p["id"]: p["title"] for p in json.loads((ROOT / "sample_proposals" / "proposals.json").read_text("utf-8"))}
PDF = ROOT / "sample_proposals" / "documents" / "L4-006_提案書.pdf"


@pytest.fixture(scope="module")
def demo(start_server) -> str:
    return start_server("--demo")


def media_url_of(data: bytes, base: str) -> str:
    """The URL ``st.pdf(data)`` would give the PDF in Streamlit's media store (its own id function)."""
    from streamlit.runtime.memory_media_file_storage import _calculate_file_id

    return f"{base.rstrip('/')}/media/{_calculate_file_id(data, 'application/pdf', None)}.pdf"


def warm_login(page, demo: str, user: str) -> None:
    """Log in; the first page of a fresh demo server seeds the demo round first (slow on a loaded machine)."""
    page.goto(demo)
    expect(page.get_by_text("デモ用アカウント")).to_be_visible(timeout=180_000)
    widget(page, "login_username").locator("input").fill(user)
    widget(page, "login_password").locator("input").fill("shinsa-demo")
    page.locator("[data-testid=stFormSubmitButton] button").click()
    wait_idle(page)
    wait_for_login_cookie(page, timeout_s=120)


def pdf_messages(page) -> tuple[list[str], list[str]]:
    """Streamlit's messages to the page about the PDF, as they come: the hashes of those that carry it (the
    viewer's ``data:`` URI), and the references sent instead of a message the browser has cached already —
    Streamlit sends a large message once and then only its hash (``ref_hash``) while it is unchanged."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    carried: list[str] = []
    refs: list[str] = []

    def received(payload) -> None:
        if not isinstance(payload, bytes):
            return
        msg = ForwardMsg.FromString(payload)
        if b"data:application/pdf" in payload:
            carried.append(msg.hash)
        elif msg.WhichOneof("type") == "ref_hash":
            refs.append(msg.ref_hash)

    page.on("websocket", lambda ws: ws.on("framereceived", received))
    return carried, refs


def fits(viewer) -> bool:
    """Whether the viewer's first page lies within the viewer's width (not cut on the right)."""
    box, page_box = viewer.bounding_box(), viewer.locator("canvas").first.bounding_box()
    return box["x"] <= page_box["x"] and page_box["x"] + page_box["width"] <= box["x"] + box["width"]


def test_scoring_with_the_pdf_beside_the_form_and_a_conflicted_reviewer_refused_by_url(demo, browser):
    allowed = browser.new_context(viewport={"width": 1280, "height": 950}, locale="ja-JP")
    page = allowed.new_page()
    responses: list = []
    page.on("response", lambda r: responses.append((r.url, r.headers.get("content-type", ""))))
    carried, refs = pdf_messages(page)
    warm_login(page, demo, "R01")
    page.goto(f"{demo.rstrip('/')}/review?round=1&proposal=L4-006")
    wait_idle(page)
    expect(page.get_by_role("heading", name=f"L4-006　{TITLES['L4-006']}")).to_be_visible()
    viewer = widget(page, "rv_doc_pdf")
    expect(viewer.locator("canvas").first).to_be_visible(timeout=60_000)   # pdf.js drew the first page
    expect(page.get_by_text("L4-006_提案書.pdf", exact=False).first).to_be_visible()
    # beside the form on a wide screen: the viewer's left edge is left of the criteria
    box_pdf = viewer.bounding_box()
    box_form = widget(page, "rv_level_service_need").bounding_box()
    assert box_pdf["x"] + box_pdf["width"] <= box_form["x"] + 5
    # the A4 page fits the column (about 360 px wide at 1,280 px: the page is made smaller, not cut)
    for _ in range(100):
        if fits(viewer):
            break
        page.wait_for_timeout(100)
    assert fits(viewer), (viewer.bounding_box(), viewer.locator("canvas").first.bounding_box())

    # scoring works with the PDF visible (an open proposal of R01); a level click does not send the PDF again
    page.goto(f"{demo.rstrip('/')}/review?round=1&proposal=L4-003")
    wait_idle(page)
    expect(widget(page, "rv_doc_pdf").locator("canvas").first).to_be_visible(timeout=60_000)
    assert carried                                     # the page's own run sent it
    n_carried, n_refs = len(carried), len(refs)
    pick_radio(page, "rv_level_service_need", LEVELS[4])
    expect(page.get_by_text("下書きを保存しました")).to_be_visible()
    expect(widget(page, "rv_doc_pdf").locator("canvas").first).to_be_visible()
    # the click's run sent neither the PDF nor a reference to it: the viewer was not run again
    assert len(carried) == n_carried
    assert not set(refs[n_refs:]) & set(carried)

    # the PDF never went over an HTTP URL: no response of the allowed session was a PDF
    pdf_responses = [u for u, ct in responses if "pdf" in ct.lower() and not u.startswith("data:")]
    assert pdf_responses == []
    media = [u for u, _ in responses if "/media/" in u]

    # a conflicted reviewer (R03: L4-006) in another session, while the allowed one still shows the document
    other = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    try:
        bad = other.new_page()
        warm_login(bad, demo, "R03")
        bad.goto(f"{demo.rstrip('/')}/review?round=1&proposal=L4-006")
        wait_idle(bad)
        expect(bad.get_by_text("L4-006_提案書.pdf")).to_have_count(0)
        expect(bad.locator(".st-key-rv_doc_pdf")).to_have_count(0)
        page.goto(f"{demo.rstrip('/')}/review?round=1&proposal=L4-006")   # the allowed page shows it
        wait_idle(page)
        expect(widget(page, "rv_doc_pdf").locator("canvas").first).to_be_visible(timeout=60_000)
        for url in [media_url_of(PDF.read_bytes(), demo)] + media:
            r = bad.request.get(url)
            assert not (r.ok and r.body()[:5] == b"%PDF-"), url
    finally:
        other.close()
        allowed.close()


AC = load_pack("advanced_comms")
OPEN_POST = "R02より：実証の評価指標をもう少し具体的にできないか"
CHAIRS_POST = "R02より委員長へ：申請者の体制について"
R01_POST = "R01より：L4-006 の安全管理について"
# the table right under the heading 「他の委員の評価（提出済み）」 (the others' scores)
OTHERS_TABLE = ("xpath=//*[@data-testid='stElementContainer'][.//h3[contains(., '他の委員の評価（提出済み）')]]"
                "/following-sibling::*[@data-testid='stElementContainer'][1]//*[@data-testid='stDataFrame']")


def post(page, text: str, chairs_only: bool = False) -> None:
    widget(page, "disc_post_body").locator("textarea").fill(text)
    if chairs_only:
        pick_radio(page, "disc_post_vis", "委員長のみ")
    page.locator("[data-testid=stFormSubmitButton]").get_by_role("button", name="投稿", exact=True).click()
    wait_idle(page)
    expect(page.get_by_text("投稿しました")).to_be_visible()


def test_the_discussion_follows_the_review_visibility_policy(demo, browser):
    """Demo round 1: AC-002 is assigned to R01 (nothing saved) and to R02 (submitted); R03 is conflicted with
    L4-006, which R01 scores."""
    base = demo.rstrip("/")
    contexts = []

    def session(user: str):
        ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
        contexts.append(ctx)
        pg = ctx.new_page()
        warm_login(pg, demo, user)
        return pg

    try:
        r02 = session("R02")                        # submitted: posts for the committee and for the chairs
        r02.goto(f"{base}/review?round=1&proposal=AC-002")
        wait_idle(r02)
        post(r02, OPEN_POST)
        post(r02, CHAIRS_POST, chairs_only=True)
        expect(r02.get_by_text(CHAIRS_POST).first).to_be_visible()          # its author reads it

        r01 = session("R01")                        # not submitted: neither the others' reviews nor the thread
        r01.goto(f"{base}/review?round=1&proposal=AC-002")
        wait_idle(r01)
        expect(r01.get_by_role("heading", name="委員間の議論")).to_be_visible()
        expect(r01.get_by_text("他の委員の投稿が 1 件あります", exact=False)).to_be_visible()
        expect(r01.get_by_text("自分の評価を提出すると表示されます。")).to_be_visible()
        expect(r01.get_by_text(OPEN_POST)).to_have_count(0)
        expect(r01.get_by_text(CHAIRS_POST)).to_have_count(0)
        others = r01.locator(OTHERS_TABLE)
        expect(r01.get_by_role("heading", name="他の委員の評価（提出済み）")).to_be_visible()
        expect(others).to_have_count(0)
        for c in AC.criteria:                       # R01 scores and submits
            pick_radio(r01, f"rv_level_{c.id}", f"3 {next(s.label.ja for s in AC.scale if s.level == 3)}")
        click_button(r01, "rv_submit")
        click_button(r01, "rv_submit_confirm")
        expect(r01.get_by_text("評価を提出しました", exact=False).first).to_be_visible()
        expect(r01.get_by_text(OPEN_POST).first).to_be_visible()             # the thread …
        expect(r01.get_by_text("自分の評価を提出すると表示されます。")).to_have_count(0)
        expect(others).to_have_count(1)                                # … and the others' scores
        expect(r01.get_by_text(CHAIRS_POST)).to_have_count(0)          # never the chairs-only comment
        r01.reload()
        wait_idle(r01)
        expect(r01.get_by_text(OPEN_POST).first).to_be_visible()
        expect(r01.get_by_text(CHAIRS_POST)).to_have_count(0)

        r01.goto(f"{base}/review?round=1&proposal=L4-006")           # R01 posts on L4-006 …
        wait_idle(r01)
        post(r01, R01_POST)
        r03 = session("R03")                        # … which R03, conflicted with it, never sees
        r03.goto(f"{base}/review?round=1&proposal=L4-006")
        wait_idle(r03)
        expect(r03.get_by_text("このアドレスの提案はあなたの担当案件にありません", exact=False).first).to_be_visible()
        expect(r03.get_by_role("heading", name="委員間の議論")).to_have_count(0)
        expect(r03.get_by_text(R01_POST)).to_have_count(0)
    finally:
        for ctx in contexts:
            ctx.close()
