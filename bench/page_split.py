"""Where a page's time goes (issue 15): the server's share and the browser's, per page, and what the browser runs.

``bench/pages.py`` times each page as a whole; this splits it. Builds the round of ``bench/pages.py`` (or uses
``--data`` DIR, an existing ``SHINSA_DATA_DIR`` with its users), starts one ``streamlit run`` server and, for each
page of ``--roles``, loads it cold (a new tab) and by sidebar navigation, timing from the action to:
- ``ws-first``: the first message on the page's websocket (Streamlit's bundle loaded, the session started);
- ``finished``: Streamlit's ``script_finished`` message (the run is over);
- ``total``: the run over, the root ``notRunning`` and a painted frame (as ``bench/pages.py``);
and ``after`` = total − finished, the browser's share once the run is over; plus the bytes and messages the run sent.
``--js PAGE`` also records a JavaScript CPU profile of one cold load of PAGE (Chrome's sampling profiler over CDP)
and prints the time per script file and the top functions: which of Streamlit's chunks (Plotly, the data grid, the
syntax highlighter, Markdown) the page makes the browser run. Not a test. Run:
``python bench/page_split.py [--roles chair,reviewer] [--repeats 3] [--js ranking] [--data DIR]``.
"""

from __future__ import annotations

import argparse
import collections
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
bp = sys.modules["bench_pages"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bp)

EVENTS: list[tuple[float, str, int]] = []   # (when, ForwardMsg type, bytes) of the watched tab's websocket


def listen(page) -> None:
    def frame(payload) -> None:
        msg = bp.forward_msg(payload)
        if msg is not None:
            EVENTS.append((time.perf_counter(), msg.WhichOneof("type"), len(payload)))
    page.on("websocket", lambda ws: ws.on("framereceived", frame))


def split(t0: float, t1: float) -> tuple[float, float, float, int, int]:
    first = EVENTS[0][0] if EVENTS else t1
    done = [e[0] for e in EVENTS if e[1] == "script_finished"]
    return (t1 - t0, first - t0, (done[-1] if done else t1) - t0, sum(e[2] for e in EVENTS), len(EVENTS))


def show(kind: str, role: str, path: str, rows: list) -> None:
    med = [statistics.median(r[i] for r in rows) for i in range(5)]
    print(f"{kind:4} {role:11} /{path:14} total {med[0] * 1000:6.0f}  ws-first {med[1] * 1000:6.0f}  finished "
          f"{med[2] * 1000:6.0f}  after {(med[0] - med[2]) * 1000:6.0f}  bytes {med[3]:8.0f}  messages {med[4]:4.0f}")


def js_profile(ctx, base: str, path: str, marker: str) -> None:
    page = bp.new_tab(ctx)
    cdp = ctx.new_cdp_session(page)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 200})
    cdp.send("Profiler.start")
    t0 = time.perf_counter()
    page.goto(f"{base}/{path}")
    bp.finish(page, 0, bp.visible(marker))
    t1 = time.perf_counter()
    prof = cdp.send("Profiler.stop")["profile"]
    page.close()
    nodes = {n["id"]: n for n in prof["nodes"]}
    by_file, by_function = collections.Counter(), collections.Counter()
    for sample, delta in zip(prof["samples"], prof["timeDeltas"]):
        frame = nodes[sample]["callFrame"]
        name = frame["url"].rsplit("/", 1)[-1] or frame["functionName"] or "(native)"
        by_file[name] += delta
        by_function[f'{frame["functionName"] or "(anonymous)"} {name}:{frame["lineNumber"]}'] += delta
    print(f"\nJS CPU profile of a cold load of /{path}: {(t1 - t0) * 1000:.0f} ms (profiled, so slower); by file:")
    for name, us in by_file.most_common(15):
        print(f"  {us / 1000:7.0f} ms  {name}")
    print("top functions:")
    for name, us in by_function.most_common(15):
        print(f"  {us / 1000:7.0f} ms  {name}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--proposals", type=int, default=500)
    ap.add_argument("--reviewers", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--roles", default="chair,reviewer", help="comma-separated roles of bench/pages.py's ROLE_PAGES")
    ap.add_argument("--js", default="", help="a page path (e.g. ranking) to profile the browser's JavaScript on")
    ap.add_argument("--data", default="", help="an existing SHINSA_DATA_DIR (users as bench/pages.py makes them)")
    args = ap.parse_args()
    roles = [r for r in args.roles.split(",") if r]
    unknown = set(roles) - set(bp.ROLE_PAGES)
    if unknown:
        ap.error(f"--roles: unknown {sorted(unknown)}")
    js_role = next((r for r, pages in bp.ROLE_PAGES.items() if args.js in dict(pages)), None) if args.js else None
    if args.js and js_role is None:
        ap.error(f"--js: no page {args.js!r} in bench/pages.py's ROLE_PAGES")
    tmp = Path(tempfile.mkdtemp(prefix="shinsa-bench-split-"))
    data = Path(args.data) if args.data else tmp / "data"
    if not args.data:
        bp.build(tmp, args.proposals, args.reviewers, 30, 0)
    env = {**os.environ, "SHINSA_DATA_DIR": str(data), "SHINSA_BCRYPT_ROUNDS": "4"}
    for k in ("DATABASE_URL", "SHINSA_DEMO"):
        env.pop(k, None)
    proc, base = bp.bench_app.serve(ROOT / "review_app.py", env, tmp / "app.log")
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=bp.CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-background-timer-throttling",
                "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows"])
            ctxs = {}
            for role in set(roles) | ({js_role} if js_role else set()):
                ctxs[role] = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
                ctxs[role].set_default_timeout(bp.TIMEOUT_MS)
                if role != "anonymous":
                    bp.login(ctxs[role], base, bp.USERS[role])
            for role in roles:            # cold loads (each page warmed once first)
                for path, marker in bp.ROLE_PAGES[role]:
                    bp.goto_timed(ctxs[role], f"{base}/{path}", bp.visible(marker))
                    rows = []
                    for _ in range(args.repeats):
                        page = bp.new_tab(ctxs[role])
                        listen(page)
                        EVENTS.clear()
                        t0 = time.perf_counter()
                        page.goto(f"{base}/{path}")
                        bp.finish(page, 0, bp.visible(marker))
                        rows.append(split(t0, time.perf_counter()))
                        page.close()
                    show("cold", role, path, rows)
            for role in roles:            # sidebar navigation, one tab walking the role's menu
                if role == "anonymous":
                    continue
                pages = bp.ROLE_PAGES[role]
                tab = bp.new_tab(ctxs[role])
                listen(tab)
                tab.goto(f"{base}/{pages[0][0]}")
                bp.finish(tab, 0, bp.visible(pages[0][1]))
                rows: dict[str, list] = {}
                for _ in range(args.repeats + 1):
                    for path, marker in pages[1:] + pages[:1]:
                        link = bp.nav_link(tab, base, path, path == pages[0][0])
                        EVENTS.clear()
                        t0 = time.perf_counter()
                        bp.timed(tab, link.click, bp.visible(marker))
                        rows.setdefault(path, []).append(split(t0, time.perf_counter()))
                for path, _ in pages[1:] + pages[:1]:
                    show("nav", role, path, rows[path][1:])     # the first lap warms up
                tab.close()
            if js_role:
                js_profile(ctxs[js_role], base, args.js, dict(bp.ROLE_PAGES[js_role])[args.js])
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
