"""The 提案書 in a real browser (issue 16 items 3, 4): a reviewer scores with the PDF visible beside the form; a
conflicted reviewer, in another browser session, is refused the same document by every URL — the scoring page,
and the Streamlit media URL the document would have (docs/security/documents.md)."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ROOT, SCREENSHOTS, pick_radio, wait_idle, widget
from tests.browser.test_review_browser import LEVELS, login, wait_for_login_cookie

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


def test_scoring_with_the_pdf_beside_the_form_and_a_conflicted_reviewer_refused_by_url(demo, browser):
    allowed = browser.new_context(viewport={"width": 1400, "height": 950}, locale="ja-JP")
    page = allowed.new_page()
    responses: list = []
    page.on("response", lambda r: responses.append((r.url, r.headers.get("content-type", ""))))
    login(page, demo, "R01")
    wait_for_login_cookie(page)
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
    page.wait_for_timeout(1500)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "documents_scoring.png"))

    # scoring works with the PDF visible (an open proposal of R01)
    page.goto(f"{demo.rstrip('/')}/review?round=1&proposal=L4-003")
    wait_idle(page)
    expect(widget(page, "rv_doc_pdf").locator("canvas").first).to_be_visible(timeout=60_000)
    pick_radio(page, "rv_level_service_need", LEVELS[4])
    expect(page.get_by_text("下書きを保存しました")).to_be_visible()
    expect(widget(page, "rv_doc_pdf").locator("canvas").first).to_be_visible()

    # the PDF never went over an HTTP URL: no response of the allowed session was a PDF
    pdf_responses = [u for u, ct in responses if "pdf" in ct.lower() and not u.startswith("data:")]
    assert pdf_responses == []
    media = [u for u, _ in responses if "/media/" in u]

    # a conflicted reviewer (R03: L4-006) in another session, while the allowed one still shows the document
    other = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    try:
        bad = other.new_page()
        login(bad, demo, "R03")
        wait_for_login_cookie(bad)
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
