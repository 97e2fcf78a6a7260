"""The demo proposals' 提案書 PDFs (issue 16 item 6): one per proposal, 2–4 pages, the Japanese font embedded, and
consistent with the proposal's JSON (title, applicant, consortium, requested amount, cost lines and total)."""

from __future__ import annotations

import json
from pathlib import Path

from pypdf import PdfReader

from scoring.money import format_man_oku, format_yen, parse_yen

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "sample_proposals" / "documents"


def _fonts(reader: PdfReader) -> list:
    out = []
    for page in reader.pages:
        for f in page["/Resources"]["/Font"].values():
            f = f.get_object()
            for d in f.get("/DescendantFonts", []):
                out.append(d.get_object()["/FontDescriptor"].get_object())
            if "/FontDescriptor" in f:
                out.append(f["/FontDescriptor"].get_object())
    return out


def test_every_demo_proposal_has_a_consistent_japanese_pdf_with_its_font_embedded():
    proposals = json.loads((ROOT / "sample_proposals" / "proposals.json").read_text("utf-8"))
    assert sorted(p.name for p in DOCS.glob("*.pdf")) == sorted(f"{p['id']}_提案書.pdf" for p in proposals)
    for p in proposals:
        reader = PdfReader(DOCS / f"{p['id']}_提案書.pdf")
        assert 2 <= len(reader.pages) <= 4, p["id"]
        descriptors = _fonts(reader)
        assert descriptors and all("/FontFile2" in d for d in descriptors), p["id"]   # TrueType, embedded
        text = "".join(page.extract_text() for page in reader.pages).replace("\n", "").replace(" ", "")
        for needle in [p["title"], p["applicant"]["name"], *(m["name"] for m in p["consortium"]),
                       format_man_oku(parse_yen(p["requested_yen"]))]:
            assert needle.replace(" ", "") in text, (p["id"], needle)
        lines = p.get("cost_lines") or []
        for c in lines:
            assert format_yen(parse_yen(c["amount_yen"])) in text, (p["id"], c["item"])
        assert format_yen(sum(parse_yen(c["amount_yen"]) for c in lines)) in text, p["id"]
