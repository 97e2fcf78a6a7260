"""The server's memory over many runs (issue 15): does switching off Streamlit's collection after every run
(``runner.postScriptGC = false`` in .streamlit/config.toml) let the process grow?

Builds the round of ``bench/pages.py`` (``--proposals`` × ``--reviewers``), starts the app twice — as configured, and
with ``--runner.postScriptGC true`` (Streamlit's default) — and in each a chair walks the sidebar through every chair
page ``--laps`` times; prints the server's resident memory (RSS, from /proc) after
warming up and after every ``--every`` laps, and the median time of a sidebar switch. Not a test.
Run: ``python bench/server_memory.py [--proposals 500] [--laps 40]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_spec = importlib.util.spec_from_file_location("bench_pages", ROOT / "bench" / "pages.py")
bench_pages = sys.modules["bench_pages"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_pages)


def rss_mb(pid: int) -> float:
    """Resident memory of the server process and its children (the streamlit process itself), in MB."""
    total = 0
    for p in [pid] + [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def walk(data: Path, laps: int, every: int, extra: tuple[str, ...], label: str) -> None:
    from playwright.sync_api import sync_playwright

    bp = bench_pages
    env = {**os.environ, "SHINSA_DATA_DIR": str(data), "SHINSA_BCRYPT_ROUNDS": "4"}
    env.pop("SHINSA_DEMO", None)
    proc, url = bp.bench_app.serve(ROOT / "review_app.py", env, data.parent / f"{label}.log", extra)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=bp.CHROMIUM, args=["--headless", "--no-sandbox"])
            ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
            ctx.set_default_timeout(bp.TIMEOUT_MS)
            bp.login(ctx, url, "chair")
            pages = bp.ROLE_PAGES["chair"]
            tab = bp.new_tab(ctx)
            tab.goto(f"{url}/{pages[0][0]}")
            bp.finish(tab, 0, bp.visible(pages[0][1]))
            times, marks = [], []
            for lap in range(laps + 1):
                for path, marker in pages[1:] + pages[:1]:
                    link = bp.nav_link(tab, url, path, path == pages[0][0])
                    t = bp.timed(tab, link.click, bp.visible(marker))
                    if lap:
                        times.append(t)
                if lap == 0 or lap % every == 0:
                    marks.append((lap, rss_mb(proc.pid)))
            browser.close()
        print(f"{label:34} RSS MB by lap: " + ", ".join(f"{lap}: {mb:.0f}" for lap, mb in marks) +
              f"; sidebar switch median {statistics.median(times) * 1000:.0f} ms over {len(times)}")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--proposals", type=int, default=500)
    ap.add_argument("--reviewers", type=int, default=10)
    ap.add_argument("--laps", type=int, default=40)
    ap.add_argument("--every", type=int, default=10)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="shinsa-bench-memory-"))
    try:
        bench_pages.build(tmp, args.proposals, args.reviewers, 30, 0)
        print(f"round: {args.proposals} + 50 proposals × {args.reviewers} reviewers; {args.laps} laps of the chair's "
              f"{len(bench_pages.ROLE_PAGES['chair'])} pages")
        for label, extra in (("as configured (postScriptGC off)", ()),
                             ("Streamlit's default (postScriptGC on)", ("--runner.postScriptGC", "true"))):
            walk(tmp / "data", args.laps, args.every, extra, label)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
