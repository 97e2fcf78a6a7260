"""Notices through LibreOffice (issue 18, "done when"): each default template, filled, converted headless to PDF
and its page rendered to PNG by pdftoppm; the text of the PDF read back by pdftotext. LibreOffice Writer and
poppler-utils are installed by scripts/install-test-deps.sh: without them these tests fail, never skip."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from scoring.io.notices import NoticeError, docx_to_pdf, render_notice, soffice_path, write_notices
from tests.test_notices import LABELS, feedback, fields


def _need(tool: str | None, package: str) -> str:
    if tool is None:
        pytest.fail(f"{package} is not installed (scripts/install-test-deps.sh installs it)", pytrace=False)
    return tool


def pdf_text(pdf: Path) -> str:
    exe = _need(shutil.which("pdftotext"), "poppler-utils")
    return subprocess.run([exe, "-layout", str(pdf), "-"], capture_output=True, check=True, timeout=60).stdout.decode()


@pytest.fixture(scope="module")
def lo_work(tmp_path_factory):
    """One LibreOffice profile for the module's conversions (the first start makes it)."""
    _need(soffice_path(), "LibreOffice Writer (libreoffice-writer-nogui)")
    return tmp_path_factory.mktemp("lo")


def test_each_default_template_converts_to_a_pdf_page_with_its_text(lo_work, tmp_path):
    pdftoppm = _need(shutil.which("pdftoppm"), "poppler-utils")
    for code in LABELS:
        fb = feedback() if code in ("reserve", "not_adopted") else None
        pdf = tmp_path / f"{code}.pdf"
        pdf.write_bytes(docx_to_pdf(render_notice(fields(code, fb=fb)), code, work=lo_work))
        assert pdf.read_bytes().startswith(b"%PDF")
        text = "".join(pdf_text(pdf).split())          # LibreOffice lays Japanese out with spaces between runs
        assert "株式会社みちのくモビリティ" in text and "選定結果について（通知）" in text, code
        assert LABELS[code] in text and "2026年11月29日" in text
        if code.startswith("adopted"):
            assert "40,000,000円（4,000万円）" in text
        if fb is not None:
            assert "評価の概要" in text and "サービスの必要性" in text and "地域の実情を踏まえた計画です。" in text
        subprocess.run([pdftoppm, "-r", "50", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / code)],
                       check=True, timeout=60)
        [png] = list(tmp_path.glob(f"{code}-*1.png"))
        assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 5_000


def test_write_notices_adds_pdfs_when_asked(lo_work, tmp_path):
    written = write_notices(tmp_path / "out", [fields("adopted", proposal_id="A-1"),
                                               fields("not_adopted", proposal_id="A-2")], pdf=True)
    assert [p.name for p in written] == ["A-1.docx", "A-1.pdf", "A-2.docx", "A-2.pdf", "notices.zip"]
    with zipfile.ZipFile(tmp_path / "out" / "notices.zip") as z:
        assert sorted(z.namelist()) == ["A-1.docx", "A-1.pdf", "A-2.docx", "A-2.pdf"]
    assert "不採択" in pdf_text(tmp_path / "out" / "A-2.pdf")


def test_a_conversion_that_hangs_is_stopped_and_nothing_is_written(tmp_path, monkeypatch):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "soffice").write_text("#!/bin/sh\nsleep 300\n")
    (fake / "soffice").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}:/usr/bin:/bin")
    monkeypatch.setenv("SHINSA_SOFFICE_TIMEOUT", "1")
    with pytest.raises(NoticeError, match="was stopped"):
        write_notices(tmp_path / "out", [fields("adopted")], pdf=True)
    assert not (tmp_path / "out").exists()
