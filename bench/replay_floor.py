"""Streamlit's floor for each page (issue 15): the same page, drawn by a script that does nothing but send it.

``bench/pages.py`` compares every page with Streamlit's minimal page; this asks how fast Streamlit itself draws
*the same elements*. It builds the round of ``bench/pages.py``, loads each page of ``--roles`` cold in the real app
and records every message the server sends for it (the elements, the sidebar's navigation, the page's settings:
the protobuf ``ForwardMsg`` frames of the page's websocket). A second server runs ``REPLAY``, a script that only
sends those recorded messages again, unchanged (no login, store, ranking, catalog or page logic), chosen by
``?p=``. Cold loads of the app's page and of its replay are then timed in turns, as ``bench/pages.py`` times them
(from ``page.goto`` to the run over, the page's marker shown and a painted frame), beside the minimal page's cold
load. ``app ÷ replay`` is what the app's own work adds to a cold load of that page; ``replay ÷ minimal`` is what
Streamlit needs to draw that page's elements at all. ``--first N`` does the same for the first page after a server
start (the login page; a fresh server and browser context each time, for the app, the replay and the minimal
page). ``--nav 1`` (the default) also walks each signed-in role's sidebar menu in the app and in a replay of the
role's pages (a ``st.navigation`` of the recorded pages, each sending its messages but its menu), as
``bench/pages.py`` walks it. Not a test. Run:
``python bench/replay_floor.py [--roles chair,reviewer,anonymous,secretariat] [--repeats 5] [--first 3]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import pickle
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

# what a page is made of; the run's own bookkeeping (new_session, script_finished, session status, timers of
# fragments that poll, the address bar's query string) is the replay's own
KEPT = ("delta", "navigation", "page_config_changed", "logo")

REPLAY = '''import os
import pickle

import streamlit as st
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx


@st.cache_resource
def recorded():
    with open(os.environ["SHINSA_REPLAY"], "rb") as f:
        return pickle.load(f)


def send(key: str, navigation: bool = True) -> None:
    ctx = get_script_run_ctx()
    for raw in recorded().get(key, []):
        msg = ForwardMsg()
        msg.ParseFromString(raw)
        if navigation or msg.WhichOneof("type") != "navigation":
            ctx.enqueue(msg)


role = os.environ.get("SHINSA_REPLAY_ROLE")
if role:        # sidebar navigation between the role's pages, each page its recorded messages (not its menu)
    paths = [k.split("/", 1)[1] for k in recorded() if k.startswith(role + "/")]
    st.navigation([st.Page(lambda k=f"{role}/{p}": send(k, navigation=False), title=p, url_path=p, default=i == 0)
                   for i, p in enumerate(paths)]).run()
elif st.query_params.get("p", "") in recorded():
    send(st.query_params["p"])
else:
    st.write("no such page")
'''


def record(ctx, url: str, marker) -> list[bytes]:
    frames: list[bytes] = []

    def keep(payload) -> None:
        msg = bp.forward_msg(payload)
        if msg is not None and msg.WhichOneof("type") in KEPT:
            frames.append(bytes(payload))

    page = bp.new_tab(ctx)
    page.on("websocket", lambda ws: ws.on("framereceived", keep))
    page.goto(url)
    bp.finish(page, 0, marker)
    page.close()
    return frames


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--proposals", type=int, default=500)
    ap.add_argument("--reviewers", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--roles", default="anonymous,reviewer,chair,secretariat")
    ap.add_argument("--shots", default="", help="a folder: a screenshot of each page and of its replay, to compare")
    ap.add_argument("--nav", type=int, default=1, help="1: also time sidebar navigation in the app and its replay")
    ap.add_argument("--first", type=int, default=3,
                    help="first pages after a server start: this many fresh servers each of the app, of the replay "
                         "of its login page and of the minimal page (0: none)")
    args = ap.parse_args()
    roles = [r for r in args.roles.split(",") if r]
    unknown = set(roles) - set(bp.ROLE_PAGES)
    if unknown:
        ap.error(f"--roles: unknown {sorted(unknown)}")
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="shinsa-bench-replay-"))
    procs = []
    try:
        bp.build(tmp, args.proposals, args.reviewers, 30, 0)
        env = {**os.environ, "SHINSA_DATA_DIR": str(tmp / "data"), "SHINSA_BCRYPT_ROUNDS": "4"}
        for k in ("DATABASE_URL", "SHINSA_DEMO"):
            env.pop(k, None)
        shutil.copytree(ROOT / ".streamlit", tmp / ".streamlit")     # served the same way as the app
        (tmp / "minimal_app.py").write_text(bp.MINIMAL, "utf-8")
        (tmp / "replay_app.py").write_text(REPLAY, "utf-8")
        p_app, base = bp.bench_app.serve(ROOT / "review_app.py", env, tmp / "app.log")
        p_min, url_min = bp.bench_app.serve(tmp / "minimal_app.py", env, tmp / "minimal.log")
        procs += [p_app, p_min]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=bp.CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-background-timer-throttling",
                "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows"])
            ctxs = {}
            for role in roles + ["replay"]:
                ctxs[role] = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
                ctxs[role].set_default_timeout(bp.TIMEOUT_MS)
                if role in bp.USERS:
                    bp.login(ctxs[role], base, bp.USERS[role])
            pages = [(role, path, marker) for role in roles for path, marker in bp.ROLE_PAGES[role]]
            recorded = {}
            for role, path, marker in pages:       # warm once, then record a cold load
                bp.goto_timed(ctxs[role], f"{base}/{path}", bp.visible(marker))
                recorded[f"{role}/{path}"] = record(ctxs[role], f"{base}/{path}", bp.visible(marker))
            (tmp / "recorded.pickle").write_bytes(pickle.dumps(recorded))
            p_rep, url_rep = bp.bench_app.serve(tmp / "replay_app.py", {**env, "SHINSA_REPLAY": str(tmp / "recorded.pickle")},
                                                tmp / "replay.log")
            procs.append(p_rep)
            rctx = ctxs["replay"]
            minimal_ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
            mark_min = bp.visible("[data-testid=stMarkdown]", "value 0")
            bp.goto_timed(minimal_ctx, url_min, mark_min)
            for role, path, marker in pages:       # the replay draws what the app drew: warm it once
                bp.goto_timed(rctx, f"{url_rep}/?p={role}/{path}", bp.visible(marker))
                if args.shots:
                    Path(args.shots).mkdir(parents=True, exist_ok=True)
                    for c, url, name in ((ctxs[role], f"{base}/{path}", "app"),
                                         (rctx, f"{url_rep}/?p={role}/{path}", "replay")):
                        tab = bp.new_tab(c)
                        tab.goto(url)
                        bp.finish(tab, 0, bp.visible(marker))
                        tab.screenshot(path=str(Path(args.shots) / f"{role}-{path}-{name}.png"), full_page=True)
                        tab.close()
            times: dict[str, list[float]] = {"minimal": []}
            for _ in range(args.repeats):
                times["minimal"].append(bp.goto_timed(minimal_ctx, url_min, mark_min))
                for role, path, marker in pages:
                    key = f"{role}/{path}"
                    times.setdefault(key, []).append(bp.goto_timed(ctxs[role], f"{base}/{path}", bp.visible(marker)))
                    times.setdefault("replay " + key, []).append(
                        bp.goto_timed(rctx, f"{url_rep}/?p={key}", bp.visible(marker)))
            # the first page after a server start: a fresh server and a fresh browser context each time
            firsts: dict[str, list[float]] = {"app": [], "replay": [], "minimal": []}
            login_marker = bp.visible(".st-key-login_username input")
            if args.first and "anonymous/login" not in recorded:
                recorded["anonymous/login"] = record(ctxs.get("anonymous") or rctx, f"{base}/login", login_marker)
                (tmp / "recorded.pickle").write_bytes(pickle.dumps(recorded))
            for k in range(args.first):
                for name, script, extra, url_suffix, marker in (
                        ("app", ROOT / "review_app.py", {}, "", login_marker),
                        ("replay", tmp / "replay_app.py", {"SHINSA_REPLAY": str(tmp / "recorded.pickle")},
                         "/?p=anonymous/login", login_marker),
                        ("minimal", tmp / "minimal_app.py", {}, "", mark_min)):
                    proc, url = bp.bench_app.serve(script, {**env, **extra}, tmp / f"first-{name}{k}.log")
                    try:
                        c = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
                        firsts[name].append(bp.goto_timed(c, url + url_suffix, marker))
                        c.close()
                    finally:
                        os.killpg(proc.pid, signal.SIGTERM)
                        proc.wait(timeout=30)
            # sidebar navigation: one tab per role walks its menu in the app and in a replay of the role's pages
            navs: dict[str, list[float]] = {"minimal": []}
            if args.nav:      # Streamlit's minimal two-page switch, as bench/pages.py's
                (tmp / "minimal_nav.py").write_text(bp.MINIMAL_NAV, "utf-8")
                proc, url_mnav = bp.bench_app.serve(tmp / "minimal_nav.py", env, tmp / "minimal-nav.log")
                procs.append(proc)
                mtab = bp.new_tab(rctx)
                mtab.goto(url_mnav)
                bp.finish(mtab, 0, bp.visible("[data-testid=stMarkdown]", "page one"))

                def minimal_switch(k: int) -> float:
                    where = "two" if k % 2 == 0 else "one"
                    link = mtab.locator("[data-testid=stSidebarNav] a", has_text={"one": "One", "two": "Two"}[where])
                    return bp.timed(mtab, link.click, bp.visible("[data-testid=stMarkdown]", f"page {where}"))
            for role in (r for r in roles if args.nav and r in bp.USERS):
                proc, url_nav = bp.bench_app.serve(tmp / "replay_app.py", {
                    **env, "SHINSA_REPLAY": str(tmp / "recorded.pickle"), "SHINSA_REPLAY_ROLE": role},
                    tmp / f"replay-nav-{role}.log")
                procs.append(proc)
                menu = bp.ROLE_PAGES[role]
                tabs = {}
                for name, c, where in (("app", ctxs[role], base), ("replay", rctx, url_nav)):
                    tab = bp.new_tab(c)
                    tab.goto(f"{where}/")
                    bp.finish(tab, 0, bp.visible(menu[0][1]))
                    tabs[name] = (tab, where)
                for lap in range(args.repeats + 1):      # the first lap warms up
                    for k in range(2):
                        took = minimal_switch(k)
                        if lap:
                            navs["minimal"].append(took)
                    for name, (tab, where) in tabs.items():
                        for path, marker in menu[1:] + menu[:1]:
                            link = bp.nav_link(tab, where, path, path == menu[0][0])
                            took = bp.timed(tab, link.click, bp.visible(marker))
                            if lap:
                                navs.setdefault(f"{name} {role}/{path}", []).append(took)
                for tab, _ in tabs.values():
                    tab.close()
            browser.close()
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in times.items()}
    m = med["minimal"]
    print(f"\nminimal page cold load: median {m * 1000:.0f} ms (best {min(times['minimal']) * 1000:.0f}); "
          f"{args.repeats} repeats, {args.proposals} proposals")
    print(f"{'cold load of':28} {'app':>7} {'replay':>7} {'app÷replay':>10} {'replay÷minimal':>14} {'app÷minimal':>11}"
          f" {'messages':>8} {'kB':>6}")
    for role, path, _ in pages:
        key = f"{role}/{path}"
        a, r = med[key], med["replay " + key]
        n = len(recorded[key])
        kb = sum(len(x) for x in recorded[key]) / 1024
        print(f"{key:28} {a * 1000:7.0f} {r * 1000:7.0f} {a / r:10.2f} {r / m:14.2f} {a / m:11.2f} {n:8d} {kb:6.0f}")
    if navs["minimal"]:
        sw = statistics.median(navs["minimal"])
        print(f"\nminimal two-page switch: median {sw * 1000:.0f} ms")
        print(f"{'sidebar navigation to':28} {'app':>7} {'replay':>7} {'app÷replay':>10} {'replay÷minimal':>14}"
              f" {'app÷minimal':>11}")
        for key in (k[4:] for k in navs if k.startswith("app ")):
            a, r = statistics.median(navs["app " + key]), statistics.median(navs["replay " + key])
            print(f"{key:28} {a * 1000:7.0f} {r * 1000:7.0f} {a / r:10.2f} {r / sw:14.2f} {a / sw:11.2f}")
    if firsts["app"]:
        f = {k: statistics.median(v) for k, v in firsts.items()}
        print(f"first page after a server start (login; {args.first} fresh servers each): app {f['app'] * 1000:.0f} ms, "
              f"replay {f['replay'] * 1000:.0f} ms, minimal page {f['minimal'] * 1000:.0f} ms; app ÷ replay "
              f"{f['app'] / f['replay']:.2f}, replay ÷ minimal cold {f['replay'] / m:.2f}, app ÷ minimal cold "
              f"{f['app'] / m:.2f}, minimal's own first page ÷ its cold {f['minimal'] / m:.2f}")


if __name__ == "__main__":
    main()
