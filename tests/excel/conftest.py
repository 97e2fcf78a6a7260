"""Shared helpers: the worked example, and LibreOffice as an independent reader of our workbooks."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "tests" / "data" / "l4-small"   # the worked example (tests/factories.py)
SAMPLE = ROOT / "sample_proposals"

# field separator 44 (,), text delimiter 34 ("), UTF-8 (76), first line 1, …, "save cell contents as shown" false
# (raw values, not the formatted text), …, sheet -1 (every sheet into its own file)
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


def soffice_convert(src: Path, fmt: str, outdir: Path) -> list[Path]:
    """Convert with LibreOffice headless; a private profile per call so parallel workers never collide."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        pytest.fail("LibreOffice (soffice) is not installed: install libreoffice-calc-nogui")
    profile = Path(f"/tmp/lo-{uuid.uuid4().hex}")
    outdir.mkdir(parents=True, exist_ok=True)
    try:
        proc = subprocess.run([exe, "--headless", "--norestore", f"-env:UserInstallation=file://{profile}",
                               "--convert-to", fmt, "--outdir", str(outdir), str(src)],
                              capture_output=True, text=True, timeout=240)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    made = sorted(p for p in outdir.iterdir() if p.stem.startswith(src.stem))
    assert proc.returncode == 0 and made, f"soffice failed: {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return made


def lo_sheets_csv(xlsx: Path, outdir: Path) -> dict[str, list[list[str]]]:
    """Every sheet as LibreOffice reads it: {sheet name: rows of cell texts}."""
    files = soffice_convert(xlsx, CSV_FILTER, outdir)
    out = {}
    for f in files:
        sheet = f.stem[len(xlsx.stem) + 1:]
        with f.open(encoding="utf-8", newline="") as fh:
            out[sheet] = list(csv.reader(fh))
    return out


@pytest.fixture
def example_paths():
    return {"pack": "autonomous_l4", "proposals": EXAMPLE / "proposals.json", "reviews": EXAMPLE / "reviews.csv",
            "reviewers": EXAMPLE / "reviewers.csv"}


def load_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))
