"""Benchmark of the browser app (issue 4 §7): a chair's what-if on a round of 1,000 proposals × 10 reviewers.

Builds a temp SQLite store (one round, pack autonomous_l4, 1,000 proposals, 10 reviewers who all submitted),
starts a real ``streamlit run review_app.py`` server, logs a chair in with Playwright (Chromium) and times,
N times each:

- what-if: from changing the budget on 「順位・採択」 to the re-rendered ranking: the budget gauge and the
  cumulative chart both show the new budget, Streamlit's run is over (its root element's
  ``data-test-script-state`` is ``notRunning``) and the browser has painted a frame;
- minimal: from changing a number on Streamlit's minimal page (``st.number_input`` + ``st.write``) served the
  same way on the same machine, to its re-rendered text, the run over and a frame painted.

Prints the medians and the bests and their ratios; the last line is ``{"whatif_vs_minimal_ratio": …}``. Target ≤ 3.
Run: ``python bench/app.py [--proposals 1000] [--reviewers 10] [--repeats 7]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench-chair-password"
MINIMAL = '''import streamlit as st
x = st.number_input("x", key="x", value=0, step=1)
st.write(f"value {x}")
'''


# --- a synthetic round (shared with bench/pages.py) -----------------------------------------------------------

def synthetic_proposals(base: dict, prefix: str, n: int, rng: random.Random, title: str = "合成提案 {k}") -> list[dict]:
    """``n`` copies of the sample proposal ``base``: ids ``{prefix}-0001``…, titles ``title`` (``{k}`` = 1…),
    requested amounts drawn from ``rng`` (50–149 million yen)."""
    out = []
    for k in range(n):
        p = json.loads(json.dumps(base))
        p["id"] = f"{prefix}-{k + 1:04d}"
        p["title"] = title.format(k=k + 1, prefix=prefix)
        p["requested_yen"] = rng.randrange(50, 150) * 1_000_000
        out.append(p)
    return out


def write_reviewers(path: Path, ids: list[str], name: str = "委員 {id}") -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["reviewer_id", "name", "role", "conflicts"])
        for r in ids:
            w.writerow([r, name.format(id=r, n=int(r[1:])), "reviewer", ""])


def write_submitted_reviews(path: Path, proposals: list[dict], reviewers: list[str], criteria: dict[str, list[str]],
                            rng: random.Random, comment: str = "", skip=frozenset()) -> None:
    """Every reviewer's submitted review of every proposal not in ``skip``: levels around a per-proposal quality
    (``criteria``: pack id → criterion ids)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["reviewer_id", "proposal_id", "item", "value", "status", "comment"])
        for p in proposals:
            if p["id"] in skip:
                continue
            quality = rng.random()
            for r in reviewers:
                for c in criteria[p["pack"]]:
                    level = min(5, max(1, round(1 + 4 * quality + rng.gauss(0, 0.8))))
                    w.writerow([r, p["id"], c, level, "submitted", comment])


def build_round(folder: Path, n_props: int, n_rev: int) -> None:
    from scoring.io.packs import load_pack
    from scoring.store import SYSTEM, Store

    pack = load_pack("autonomous_l4")
    sample = next(p for p in json.loads((ROOT / "sample_proposals" / "proposals.json").read_text("utf-8"))
                  if p["id"] == "L4-001")
    rng = random.Random(42)
    props = synthetic_proposals(sample, "L4", n_props, rng)
    (folder / "proposals.json").write_text(json.dumps(props, ensure_ascii=False), "utf-8")
    write_reviewers(folder / "reviewers.csv", [f"B{r + 1:02d}" for r in range(n_rev)], name="委員 {n}")
    write_submitted_reviews(folder / "reviews.csv", props, [f"B{r + 1:02d}" for r in range(n_rev)],
                            {"autonomous_l4": [c.id for c in pack.criteria]}, rng)
    os.environ["SHINSA_DATA_DIR"] = str(folder / "data")
    store = Store(create=True)
    rnd = store.rounds.create_round(SYSTEM, "ベンチマーク", ["autonomous_l4"])
    store.rounds.import_files(SYSTEM, rnd.id, proposals=folder / "proposals.json",
                              reviewers=folder / "reviewers.csv", reviews=folder / "reviews.csv")
    store.users.add_user(SYSTEM, "chair", "委員長", "chair", password=PASSWORD)
    store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(script: Path, env: dict, log: Path, extra: tuple[str, ...] = ()) -> tuple[subprocess.Popen, str]:
    """A ``streamlit run`` server of ``script`` (``extra``: more command-line options, e.g. a config override)."""
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true", "--server.port",
           str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
           "--browser.gatherUsageStats", "false", *extra]
    proc = subprocess.Popen(cmd, cwd=script.parent, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return proc, url
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.3)
    raise SystemExit(f"server did not start: {log.read_text(errors='replace')[-3000:]}")


# Streamlit marks its root element with the script state ("running" while a run or fragment run is under way,
# "notRunning" when it is over); after that, two animation frames = the browser has painted the result.
IDLE = ("() => document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state')"
        " === 'notRunning'")
PAINTED = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"


def settle(page) -> None:
    """Wait until Streamlit's run is over and the browser has painted a frame after it."""
    page.wait_for_function(IDLE)
    page.evaluate(PAINTED)


def set_number(page, key: str, value: int) -> None:
    box = page.locator(f".st-key-{key} input").first
    box.fill(str(value))
    box.press("Enter")


def time_minimal(page, url: str, repeats: int) -> list[float]:
    page.goto(url)
    page.get_by_text("value 0").wait_for()
    out = []
    for k in range(1, repeats + 1):
        t0 = time.perf_counter()
        set_number(page, "x", k)
        page.get_by_text(f"value {k}", exact=True).wait_for()
        settle(page)
        out.append(time.perf_counter() - t0)
    return out


def time_whatif(page, url: str, repeats: int) -> list[float]:
    page.goto(url)
    page.locator(".st-key-login_username input").fill("chair")
    page.locator(".st-key-login_password input").fill(PASSWORD)
    page.locator("[data-testid=stFormSubmitButton] button").click()
    page.locator(".st-key-chair_budget input").wait_for(timeout=120_000)
    page.locator(".st-key-chair_cumulative").wait_for(timeout=120_000)
    settle(page)
    out = []
    for k in range(repeats):
        budget = (5_000_000_000 if k % 2 == 0 else 8_000_000_000) + k * 1_000_000
        t0 = time.perf_counter()
        set_number(page, "chair_budget", budget)
        # re-rendered: the budget gauge and the cumulative chart both show the new budget, the run is over and
        # the browser has painted
        text = f"予算 {budget // 100_000_000}億"
        page.locator(".st-key-chair_gauge").get_by_text(text, exact=False).first.wait_for(timeout=120_000)
        page.locator(".st-key-chair_cumulative").get_by_text(text, exact=False).first.wait_for(timeout=120_000)
        settle(page)
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--proposals", type=int, default=1000)
    ap.add_argument("--reviewers", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    procs = []
    with tempfile.TemporaryDirectory(prefix="shinsa-bench-app-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        build_round(folder, args.proposals, args.reviewers)
        print(f"round built: {args.proposals} proposals × {args.reviewers} reviewers "
              f"({time.perf_counter() - t0:.1f} s)")
        env = {**os.environ, "SHINSA_DATA_DIR": str(folder / "data")}
        env.pop("DATABASE_URL", None)
        env.pop("SHINSA_DEMO", None)
        minimal = folder / "minimal_app.py"
        minimal.write_text(MINIMAL, "utf-8")
        try:
            p_app, url_app = serve(ROOT / "review_app.py", env, folder / "app.log")
            procs.append(p_app)
            p_min, url_min = serve(minimal, env, folder / "minimal.log")
            procs.append(p_min)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
                ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
                ctx.set_default_timeout(60_000)
                page = ctx.new_page()
                time_minimal(page, url_min, 2)                       # warm-up
                minimal_s = time_minimal(page, url_min, args.repeats)
                whatif_s = time_whatif(page, url_app, args.repeats + 1)[1:]   # first change warms caches
                browser.close()
        finally:
            for p in procs:
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGTERM)
                    p.wait(timeout=20)
    m_min, m_whatif = statistics.median(minimal_s), statistics.median(whatif_s)
    b_min, b_whatif = min(minimal_s), min(whatif_s)
    print(f"minimal page re-render: median {m_min * 1000:.0f} ms, best {b_min * 1000:.0f} ms  "
          f"({', '.join(f'{x * 1000:.0f}' for x in minimal_s)})")
    print(f"what-if re-render     : median {m_whatif * 1000:.0f} ms, best {b_whatif * 1000:.0f} ms  "
          f"({', '.join(f'{x * 1000:.0f}' for x in whatif_s)})")
    ratio = m_whatif / m_min
    print(f"ratio what-if / minimal: {ratio:.2f} of the medians, {b_whatif / b_min:.2f} of the bests (target ≤ 3)")
    print(json.dumps({"whatif_vs_minimal_ratio": round(ratio, 2), "best_ratio": round(b_whatif / b_min, 2),
                      "whatif_ms": round(m_whatif * 1000), "minimal_ms": round(m_min * 1000),
                      "whatif_best_ms": round(b_whatif * 1000), "minimal_best_ms": round(b_min * 1000),
                      "proposals": args.proposals, "reviewers": args.reviewers}))

if __name__ == "__main__":
    main()
