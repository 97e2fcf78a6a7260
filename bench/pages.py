"""Page benchmark (issue 15): every page of every role against Streamlit's own minimal pages, in one run.

Builds a temp SQLite store: round 1 with pack autonomous_l4 (``--proposals`` proposals × ``--reviewers``
reviewers, all submitted except the first ``--open`` proposals, which every reviewer has assigned and not yet
scored) and pack ai_edge (50 proposals), so the chair can switch programme; plus empty rounds that the
admin-import rows fill. Starts real ``streamlit run`` servers — the app, a minimal page (``st.number_input`` +
``st.write``) and a minimal two-page ``st.navigation`` app, all with the project's ``.streamlit/config.toml`` —
and drives Chromium with Playwright.

Every figure is the time from the action (``page.goto``, a click, a key) to **Streamlit's run being over and a
painted frame**: an init script counts finished runs (the ``data-test-script-state`` attribute of the app root
leaving ``running``); after the action we wait for one more finished run, the root ``notRunning``, the row's
marker element visible, and two animation frames. Repeats are interleaved with the matching minimal figure, so
both see the same machine load.

Rows and the minimal figure each one is compared with:
- ``first``: first page after a server start (login page; and with ``--demo`` on an empty database) vs the
  minimal page's cold load; the minimal page's own first page (a fresh server and browser context too) is printed
  beside them for reference (what Streamlit itself allows), in none of the JSON's ratios;
- ``cold``: a fresh tab opening each page of each role (logged in by cookie) vs the minimal cold load, each in a
  browser context with no other tab open (an open tab of the same site would let Chromium reuse its process);
- ``nav``: sidebar navigation to each page vs the minimal two-page app's switch;
- ``act``: interactions people repeat vs the minimal rerun (what-if: target 2.5×, others 2×);
- ``load``: 10 reviewer sessions saving a level at once, p50/p95 vs the unloaded median of a level save (≤ 3×).

Reference rows (``(reference) …``, in no ratio of the JSON) give Streamlit's own floor for the app's heavy
widgets, each against the same minimal figure as the app's rows of that kind: the minimal page with one Plotly
chart, loaded cold until the chart is drawn (the app's pages with a chart are timed until theirs is drawn too);
typing a proposal's id into a 500-option selectbox and picking it (opening a proposal's detail); picking another
option of a 4-option selectbox (the programme switch); ten minimal pages (a browser context each) rerunning at
once, p50/p95 against one minimal page's rerun alone (the load row). ``bench/replay_floor.py`` gives the floor of
each whole page: the same elements, sent by a script that does nothing else.

Prints a table (median, best, ratio of medians) and one JSON line last with ``max_nav_ratio``,
``max_cold_ratio``, ``max_interaction_ratio``, ``whatif_ratio``, ``first_page_ratio``, ``load_p95_ratio`` (each
the worst of its kind, by median). Not a test. Run: ``python bench/pages.py [--proposals 500] [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_spec = importlib.util.spec_from_file_location("bench_app", ROOT / "bench" / "app.py")
bench_app = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_app)

CHROMIUM = "/usr/bin/chromium"
TIMEOUT_MS = 90_000   # one step that takes longer than this is a failure of the run, not a figure
PASSWORD = "bench-page-password-2026"
MINIMAL = '''import streamlit as st
x = st.number_input("x", key="x", value=0, step=1)
st.write(f"value {x}")
'''
MINIMAL_NAV = '''import streamlit as st

def one():
    st.number_input("x", key="x1", value=0, step=1)
    st.write("page one")

def two():
    st.number_input("y", key="y2", value=0, step=1)
    st.write("page two")

st.navigation([st.Page(one, title="One", url_path="one"), st.Page(two, title="Two", url_path="two")]).run()
'''

# Streamlit's floor for the app's heavy widgets (reference rows, in no ratio of the JSON): the minimal page with one
# Plotly chart of 500 points (the app's 順位・採択 and 提案の詳細 draw one; timed until the chart is drawn), and a
# page whose only widgets are a selectbox of 500 proposals (the detail picker: type an id, pick it) and one of four
# programmes (the programme switch).
MINIMAL_CHART = MINIMAL + '''import plotly.graph_objects as go
st.plotly_chart(go.Figure(go.Scatter(x=list(range(500)), y=[i * i for i in range(500)], mode="lines+markers")),
                key="chart")
'''
MINIMAL_PICK = '''import streamlit as st
ids = [f"L4-{i:04d}" for i in range(1, 501)]
pid = st.selectbox("p", ids, key="pick", format_func=lambda p: f"{p}\u3000合成提案 L4 {int(p[3:])}")
prog = st.selectbox("programme", ["②-1", "②-2", "②-3", "③"], key="prog")
st.write(f"picked {pid} {prog}")
'''
CHART_DRAWN = "[data-testid=stPlotlyChart] .main-svg"

# A run is over when Streamlit's server sends its ``script_finished`` message over the page's websocket (read
# with Streamlit's own protobuf classes); the root element's ``data-test-script-state`` then says
# ``notRunning`` once the frontend has applied it.
IDLE = bench_app.IDLE
PAINTED = bench_app.PAINTED


REFERENCE = "(reference) "   # a row of Streamlit's own minimal page, printed beside the app's, in no ratio of the JSON


# --- the round --------------------------------------------------------------------------------------------

def build(folder: Path, n_props: int, n_rev: int, n_open: int, import_rounds: int) -> dict:
    from scoring.io.packs import load_pack
    from scoring.store import SYSTEM, Store

    rng = random.Random(7)
    samples = json.loads((ROOT / "sample_proposals" / "proposals.json").read_text("utf-8"))

    def make(pack: str, prefix: str, n: int) -> list[dict]:
        base = next(p for p in samples if p["pack"] == pack)
        return bench_app.synthetic_proposals(base, prefix, n, rng, title="合成提案 {prefix} {k}")

    l4, edge = make("autonomous_l4", "L4", n_props), make("ai_edge", "AE", 50)
    (folder / "proposals.json").write_text(json.dumps(l4 + edge, ensure_ascii=False), "utf-8")
    # the file the admin-import rows upload: n_props fresh proposals
    (folder / "import.json").write_text(json.dumps(make("autonomous_l4", "IM", n_props), ensure_ascii=False),
                                        "utf-8")
    reviewers = [f"B{r + 1:02d}" for r in range(n_rev)]
    bench_app.write_reviewers(folder / "reviewers.csv", reviewers)
    packs = {"autonomous_l4": load_pack("autonomous_l4"), "ai_edge": load_pack("ai_edge")}
    open_ids = [p["id"] for p in l4[:n_open]]
    bench_app.write_submitted_reviews(folder / "reviews.csv", l4 + edge, reviewers,
                                      {k: [c.id for c in v.criteria] for k, v in packs.items()}, rng, comment="所見",
                                      skip=set(open_ids))
    os.environ["SHINSA_DATA_DIR"] = str(folder / "data")
    store = Store(create=True)
    names = []   # empty rounds for the admin-import rows, made first: the app picks the newest round by default
    for i in range(import_rounds):
        names.append(f"取込{i + 1:02d}")
        store.rounds.create_round(SYSTEM, names[-1], ["autonomous_l4"])
    rnd = store.rounds.create_round(SYSTEM, "ベンチマーク", ["autonomous_l4", "ai_edge"])
    store.rounds.import_files(SYSTEM, rnd.id, proposals=folder / "proposals.json",
                              reviewers=folder / "reviewers.csv", reviews=folder / "reviews.csv")
    for r in reviewers:
        store.users.set_password(SYSTEM, r, PASSWORD)
    for pid in open_ids:
        for r in reviewers:
            store.assignments.assign(SYSTEM, rnd.id, pid, r)
    store.users.add_user(SYSTEM, "chair", "委員長", "chair", password=PASSWORD)
    store.users.add_user(SYSTEM, "sec", "事務局", "secretariat", password=PASSWORD)
    store.close()
    criteria = [c.id for c in packs["autonomous_l4"].criteria]
    return {"round": rnd.id, "open": open_ids, "reviewers": reviewers, "criteria": criteria, "import_rounds": names}


# --- timing helpers ---------------------------------------------------------------------------------------

@dataclass
class Row:
    kind: str          # first | cold | nav | act | load
    name: str
    ref: str           # the minimal figure it is compared with
    times: list[float] = field(default_factory=list)
    target: float = 2.0


FINISHED: dict[int, int] = {}   # id(page) → script_finished messages received


def forward_msg(payload):
    """The Streamlit ``ForwardMsg`` a websocket frame carries (read with Streamlit's own protobuf classes), or None
    for a frame that is not one."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    if not isinstance(payload, (bytes, bytearray)):
        return None
    msg = ForwardMsg()
    try:
        msg.ParseFromString(bytes(payload))
    except Exception:  # noqa: BLE001 - not a ForwardMsg
        return None
    return msg


def _count_finished(page_id: int, payload) -> None:
    msg = forward_msg(payload)
    if msg is not None and msg.WhichOneof("type") == "script_finished":
        FINISHED[page_id] = FINISHED.get(page_id, 0) + 1


def watch(page):
    FINISHED[id(page)] = 0
    page.on("websocket", lambda ws: ws.on("framereceived", lambda p: _count_finished(id(page), p)))
    return page


def runs(page) -> int:
    return FINISHED.get(id(page), 0)


SHOTS: list[Path] = []   # where a failed wait leaves a screenshot of its page


def finish(page, before: int, marker=None) -> None:
    try:
        _finish(page, before, marker)
    except Exception:
        if SHOTS:
            page.screenshot(path=str(SHOTS[0] / f"failed-{time.time():.0f}.png"))
            print(f"failed on {page.url}; screenshot in {SHOTS[0]}", file=sys.stderr)
        raise


def _finish(page, before: int, marker=None) -> None:
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while FINISHED.get(id(page), 0) <= before:
        if time.monotonic() > deadline:
            raise TimeoutError("no script_finished within 180 s")
        page.wait_for_timeout(2)
    if marker is not None:
        marker(page)
    page.wait_for_function(IDLE, timeout=TIMEOUT_MS)
    page.evaluate(PAINTED)


def timed(page, action, marker=None) -> float:
    page.bring_to_front()     # a background tab's animation frames are throttled: the paint wait would time that
    page.evaluate(PAINTED)    # and the tab has drawn itself after coming to the front, before the clock starts
    before = runs(page)
    t0 = time.perf_counter()
    try:
        action()
    except Exception:
        if SHOTS:
            page.screenshot(path=str(SHOTS[0] / f"failed-action-{time.time():.0f}.png"))
            print(f"action failed on {page.url}; screenshot in {SHOTS[0]}", file=sys.stderr)
        raise
    finish(page, before, marker)
    return time.perf_counter() - t0


def visible(selector: str, text: str | None = None):
    def wait(page):
        loc = page.locator(selector)
        if text is not None:
            loc = loc.get_by_text(text, exact=False)
        loc.first.wait_for(state="visible", timeout=TIMEOUT_MS)
    return wait


def new_tab(ctx):
    return watch(ctx.new_page())


def goto_timed(ctx, url: str, marker) -> float:
    page = new_tab(ctx)
    try:
        t0 = time.perf_counter()
        page.goto(url)
        finish(page, 0, marker)
        return time.perf_counter() - t0
    finally:
        page.close()


def login(ctx, base: str, user: str) -> None:
    page = new_tab(ctx)
    page.goto(base + "/")
    finish(page, 0, visible(".st-key-login_username input"))
    page.locator(".st-key-login_username input").fill(user)
    page.locator(".st-key-login_password input").fill(PASSWORD)
    before = runs(page)
    page.locator("[data-testid=stFormSubmitButton] button").click()
    finish(page, before)
    page.locator(".st-key-logout").wait_for(timeout=120_000)   # logged in: the sidebar offers the logout
    page.wait_for_function(IDLE)
    page.close()


def choose_other(page, key: str, typed: str | None = None) -> None:
    """Open the selectbox ``key`` and pick an option that is not the current one (or the one typed)."""
    box = page.locator(f".st-key-{key}").get_by_role("combobox")
    box.click()
    if typed is not None:
        page.keyboard.type(typed)
        page.get_by_role("option", name=typed, exact=False).first.click()
        return
    page.locator("[role=option][aria-selected=false]").first.click()


# --- the minimal reference figures --------------------------------------------------------------------------

class Minimal:
    """The minimal figures. ``ctx`` holds the pages that are rerun and switched; cold loads open their tab in
    ``cold_ctx``, a browser context with no other tab open, as the app's cold loads (a tab of the same site open in
    the same context lets Chromium reuse its renderer process: ~160 ms less per cold load of the minimal page)."""

    def __init__(self, ctx, url: str, nav_url: str, cold_ctx):
        self.ctx, self.url, self.nav_url, self.cold_ctx = ctx, url, nav_url, cold_ctx
        self.page = new_tab(ctx)
        self.page.goto(url)
        finish(self.page, 0, visible("[data-testid=stMarkdown]", "value 0"))
        self.value = 0
        self.nav = new_tab(ctx)
        self.nav.goto(nav_url)
        finish(self.nav, 0, visible("[data-testid=stMarkdown]", "page one"))
        self.where = "one"

    def cold(self) -> float:
        return goto_timed(self.cold_ctx, self.url, visible("[data-testid=stMarkdown]", "value 0"))

    def rerun(self) -> float:
        self.value += 1
        box = self.page.locator(".st-key-x input")

        def act():
            box.fill(str(self.value))
            box.press("Enter")
        return timed(self.page, act, visible("[data-testid=stMarkdown]", f"value {self.value}"))

    def switch(self) -> float:
        self.where = "two" if self.where == "one" else "one"
        title = {"one": "One", "two": "Two"}[self.where]
        link = self.nav.locator("[data-testid=stSidebarNav] a", has_text=title)
        return timed(self.nav, link.click, visible("[data-testid=stMarkdown]", f"page {self.where}"))


class Floor:
    """Streamlit's own figures for the app's heavy widgets (reference rows): a cold load of the minimal page with a
    Plotly chart, until the chart is drawn; picking one of 500 options by typing its id; picking another option of
    a short selectbox (opening the dropdown and clicking, as the programme switch)."""

    def __init__(self, ctx, chart_url: str, pick_url: str, cold_ctx):
        self.ctx, self.chart_url, self.cold_ctx = ctx, chart_url, cold_ctx
        self.page = new_tab(ctx)
        self.page.goto(pick_url)
        finish(self.page, 0, visible("[data-testid=stMarkdown]", "picked"))
        self.k = 0

    def chart_cold(self) -> float:
        return goto_timed(self.cold_ctx, self.chart_url, visible(CHART_DRAWN))

    def typed_pick(self) -> float:
        self.k += 1
        target = f"L4-{(self.k * 37) % 500 + 1:04d}"
        return timed(self.page, lambda: choose_other(self.page, "pick", target),
                     visible("[data-testid=stMarkdown]", f"picked {target}"))

    def short_pick(self) -> float:
        return timed(self.page, lambda: choose_other(self.page, "prog"))


# --- the app's rows -----------------------------------------------------------------------------------------

ROLE_PAGES = {  # role → (url path, marker selector) in menu order; markers are elements each page always draws
    # (a page with a Plotly chart: the chart drawn, as the reference row of the minimal page with a chart)
    "anonymous": [("login", ".st-key-login_username"), ("self_check", ".st-key-dr_pack")],
    "reviewer": [("my_proposals", "[data-testid=stMainBlockContainer] h1"), ("review", ".st-key-rv_pick"),
                 ("self_check", ".st-key-dr_pack"), ("account", "[data-testid=stMainBlockContainer] h1")],
    "chair": [("ranking", ".st-key-chair_cumulative .main-svg"), ("progress", "[data-testid=stDataFrame]"),
              ("proposal", ".st-key-chair_radar .main-svg"), ("admin", ".st-key-adm_pack_pick"),
              ("my_proposals", "[data-testid=stMainBlockContainer] h1"),
              ("self_check", ".st-key-dr_pack"), ("account", "[data-testid=stMainBlockContainer] h1")],
    "secretariat": [("progress", "[data-testid=stDataFrame]"), ("admin", ".st-key-adm_pack_pick"),
                    ("self_check", ".st-key-dr_pack"), ("account", "[data-testid=stMainBlockContainer] h1")],
}
USERS = {"reviewer": "B01", "chair": "chair", "secretariat": "sec"}


def nav_link(page, base: str, path: str, first: bool):
    """The sidebar link to ``path`` (the role's first page is linked as the site root)."""
    href = f"{base}/" if first else f"{base}/{path}"
    return page.locator(f'[data-testid=stSidebarNav] a[href="{href}"]').first


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--proposals", type=int, default=500)
    ap.add_argument("--reviewers", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--open", type=int, default=30, help="proposals every reviewer still has to score")
    ap.add_argument("--keep", action="store_true", help="keep the temp folder (server logs)")
    ap.add_argument("--only", default="first,cold,nav,act,load",
                    help="comma-separated sections to run (first, cold, nav, act, load); default all")
    args = ap.parse_args()
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = only - {"first", "cold", "nav", "act", "load"}
    if unknown:
        ap.error(f"--only: unknown section(s) {sorted(unknown)}")
    from playwright.sync_api import sync_playwright

    reps = args.repeats
    tmp = Path(tempfile.mkdtemp(prefix="shinsa-bench-pages-"))
    SHOTS.append(tmp)
    procs = []
    rows: dict[str, Row] = {}
    ref: dict[str, list[float]] = {"cold": [], "rerun": [], "switch": []}

    def row(kind, name, refname, target=2.0) -> Row:
        return rows.setdefault(f"{kind}:{name}", Row(kind, name, refname, target=target))

    def stop(p):
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=20)
            except Exception:  # noqa: BLE001
                os.killpg(p.pid, signal.SIGKILL)

    try:
        t0 = time.perf_counter()
        info = build(tmp, args.proposals, args.reviewers, args.open, reps + 1)
        print(f"round built: {args.proposals} + 50 proposals × {args.reviewers} reviewers "
              f"({time.perf_counter() - t0:.1f} s); {args.open} proposals open for scoring")
        env = {**os.environ, "SHINSA_DATA_DIR": str(tmp / "data"), "SHINSA_BCRYPT_ROUNDS": "4"}
        for k in ("DATABASE_URL", "SHINSA_DEMO"):
            env.pop(k, None)
        # served the same way as the app: from a folder with the project's Streamlit config (no collection after
        # each run, no magic; the same theme), so the difference is the pages', not the configuration's
        shutil.copytree(ROOT / ".streamlit", tmp / ".streamlit")
        (tmp / "minimal_app.py").write_text(MINIMAL, "utf-8")
        (tmp / "minimal_nav.py").write_text(MINIMAL_NAV, "utf-8")
        (tmp / "minimal_chart.py").write_text(MINIMAL_CHART, "utf-8")
        (tmp / "minimal_pick.py").write_text(MINIMAL_PICK, "utf-8")
        p_min, url_min = bench_app.serve(tmp / "minimal_app.py", env, tmp / "minimal.log")
        p_nav, url_nav = bench_app.serve(tmp / "minimal_nav.py", env, tmp / "minimal_nav.log")
        p_chart, url_chart = bench_app.serve(tmp / "minimal_chart.py", env, tmp / "minimal_chart.log")
        p_pick, url_pick = bench_app.serve(tmp / "minimal_pick.py", env, tmp / "minimal_pick.log")
        procs += [p_min, p_nav, p_chart, p_pick]
        with sync_playwright() as pw:
            # no throttling of tabs in the background (several tabs share a window here; only one is in front)
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-background-timer-throttling",
                "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows"])

            def context():
                c = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
                c.set_default_timeout(TIMEOUT_MS)
                return c

            mctx = context()
            cold_ctx = context()      # never holds an open tab between cold loads, as the app's role contexts
            minimal = Minimal(mctx, url_min, url_nav, cold_ctx)
            minimal.cold(), minimal.rerun(), minimal.switch()       # warm-up
            floor = Floor(mctx, url_chart, url_pick, cold_ctx)
            floor.chart_cold(), floor.typed_pick(), floor.short_pick()

            # --- first page after a server start (fresh server each repeat) ---------------------------
            for k in range(reps if "first" in only else 0):
                ref["cold"].append(minimal.cold())
                # what Streamlit itself allows: the minimal page's own first page (fresh server, fresh browser
                # context, as below) — printed for reference, not one of the app's rows
                proc, url = bench_app.serve(tmp / "minimal_app.py", env, tmp / f"minimal_first{k}.log")
                try:
                    c = context()
                    row("first", REFERENCE + "minimal page's own first page", "cold").times.append(
                        goto_timed(c, url, visible("[data-testid=stMarkdown]", "value 0")))
                    c.close()
                finally:
                    stop(proc)
                for name, extra, data in (("login page (round database)", (), tmp / "data"),
                                          ("login page (--demo, empty database)", ("--demo",), None)):
                    folder = data
                    if folder is None:
                        folder = tmp / f"demo{k}"
                        shutil.rmtree(folder, ignore_errors=True)
                    e = {**env, "SHINSA_DATA_DIR": str(folder)}
                    proc, url = bench_app.serve(ROOT / "review_app.py", {**e, "SHINSA_DEMO": "1"} if extra else e,
                                                tmp / f"first{k}.log")
                    try:
                        c = context()
                        row("first", name, "cold").times.append(
                            goto_timed(c, url, visible(".st-key-login_username input")))
                        c.close()
                    finally:
                        stop(proc)

            # --- the app server for everything else ---------------------------------------------------
            p_app, base = bench_app.serve(ROOT / "review_app.py", env, tmp / "app.log")
            procs.append(p_app)
            ctxs = {"anonymous": context()}
            for role, user in USERS.items():
                ctxs[role] = context()
                login(ctxs[role], base, user)
            # warm every page once (caches are the server's state after a first visit)
            for role, pages in ROLE_PAGES.items():
                for path, marker in pages:
                    goto_timed(ctxs[role], f"{base}/{path}", visible(marker))

            # cold loads, interleaved with the minimal cold load
            for _ in range(reps if "cold" in only else 0):
                ref["cold"].append(minimal.cold())
                row("cold", REFERENCE + "minimal page with a Plotly chart (drawn)", "cold").times.append(
                    floor.chart_cold())
                for role, pages in ROLE_PAGES.items():
                    for path, marker in pages:
                        row("cold", f"{role} /{path}", "cold").times.append(
                            goto_timed(ctxs[role], f"{base}/{path}", visible(marker)))

            # sidebar navigation: one tab per role walks its menu, page by page
            for role, pages in (ROLE_PAGES.items() if "nav" in only else ()):
                if role == "anonymous":
                    continue
                tab = new_tab(ctxs[role])
                tab.goto(f"{base}/{pages[0][0]}")
                finish(tab, 0, visible(pages[0][1]))
                for _ in range(reps):
                    ref["switch"].append(minimal.switch())
                    order = pages[1:] + pages[:1]
                    for path, marker in order:
                        link = nav_link(tab, base, path, path == pages[0][0])
                        row("nav", f"{role} → {path}", "switch").times.append(timed(tab, link.click, visible(marker)))
                tab.close()

            rid, crit = info["round"], info["criteria"]
            if "act" in only:
                # --- interactions ------------------------------------------------------------------------
                rv = new_tab(ctxs["reviewer"])
                rv.goto(f"{base}/review?round={rid}&proposal={info['open'][0]}")
                finish(rv, 0, visible(f".st-key-rv_level_{crit[0]}"))
                ch = new_tab(ctxs["chair"])
                ch.goto(f"{base}/ranking")
                finish(ch, 0, visible(".st-key-chair_gauge"))
                det = new_tab(ctxs["chair"])
                det.goto(f"{base}/proposal")
                finish(det, 0, visible(".st-key-chair_detail_pick"))
                sc = new_tab(ctxs["anonymous"])
                sc.goto(f"{base}/self_check")
                finish(sc, 0, visible(".st-key-dr_pack"))
                radios = lambda c: rv.locator(f".st-key-rv_level_{c} [role=radiogroup] label")  # noqa: E731
                for k in range(reps):
                    ref["rerun"].append(minimal.rerun())
                    row("act", REFERENCE + "minimal: type an id in 500 options, pick", "rerun").times.append(
                        floor.typed_pick())
                    row("act", REFERENCE + "minimal: pick in a 4-option selectbox", "rerun").times.append(
                        floor.short_pick())
                    c = crit[k % len(crit)]
                    opt = radios(c).nth(k % 2)
                    row("act", "reviewer: level click (autosave)", "rerun").times.append(timed(rv, opt.click))
                    box = rv.locator(f".st-key-rv_comment_{c} textarea")

                    def comment():
                        box.fill(f"所見 {k} " * 5)
                        box.press("Tab")
                    row("act", "reviewer: comment save", "rerun").times.append(timed(rv, comment))
                    budget = (5_000_000_000 if k % 2 == 0 else 8_000_000_000) + k * 1_000_000
                    bx = ch.locator(".st-key-chair_budget input").first

                    def whatif():
                        bx.fill(str(budget))
                        bx.press("Enter")
                    row("act", "chair: what-if (budget)", "rerun", target=2.5).times.append(
                        timed(ch, whatif, visible(".st-key-chair_gauge")))
                    row("act", "chair: programme switch", "rerun").times.append(
                        timed(ch, lambda: choose_other(ch, "app_pack_pick"), visible(".st-key-chair_gauge")))
                    target = f"L4-{(k * 37) % args.proposals + 1:04d}"
                    row("act", "chair: open a proposal's detail", "rerun").times.append(
                        timed(det, lambda: choose_other(det, "chair_detail_pick", target)))
                    tb = sc.locator(".st-key-dr_title input")

                    def title():
                        tb.fill(f"自治体DX 試算 {k}")
                        tb.press("Enter")
                    row("act", "self-check: field change", "rerun").times.append(timed(sc, title))
                    row("act", "self-check: programme switch", "rerun").times.append(
                        timed(sc, lambda: choose_other(sc, "dr_pack"), visible(".st-key-dr_pack")))
                # submit: one per open proposal (each a fresh review); all levels chosen first, not timed
                for k in range(reps):
                    ref["rerun"].append(minimal.rerun())
                    pid = info["open"][1 + k]
                    rv.goto(f"{base}/review?round={rid}&proposal={pid}")
                    finish(rv, 0, visible(f".st-key-rv_level_{crit[0]}"))
                    for c in crit:
                        before = runs(rv)
                        radios(c).nth(1).click()
                        finish(rv, before)
                    row("act", "reviewer: submit (with confirmation)", "rerun").times.append(
                        timed(rv, lambda: rv.locator(".st-key-rv_submit button").click(),
                              visible(".st-key-rv_submit_confirm")) +
                        timed(rv, lambda: rv.locator(".st-key-rv_submit_confirm button").click()))
                # admin import of N proposals into an empty round
                ad = new_tab(ctxs["chair"])
                ad.goto(f"{base}/admin")
                finish(ad, 0, visible(".st-key-adm_pack_pick"))
                for k in range(reps):
                    ref["rerun"].append(minimal.rerun())
                    before = runs(ad)
                    choose_other(ad, "app_round_pick", info["import_rounds"][k])
                    finish(ad, before, visible(".st-key-adm_pack_pick"))
                    box = ad.locator("[data-testid=stExpander] details", has_text="取り込み").first
                    if box.get_attribute("open") is None:      # open the import section (it stays open after a run)
                        box.locator("summary").click()
                    ad.locator(".st-key-adm_import_run").wait_for(state="visible")
                    ad.locator(".st-key-adm_import_proposals input[type=file]").set_input_files(tmp / "import.json")
                    ad.wait_for_function(IDLE)
                    row("act", f"admin: import {args.proposals} proposals", "rerun").times.append(
                        timed(ad, lambda: ad.locator(".st-key-adm_import_run button").click()))
                for t in (rv, ch, det, sc, ad):
                    t.close()

            if "load" in only:
                # --- under load: 10 reviewer sessions saving a level at once --------------------------------
                n_load = min(10, len(info["reviewers"]))
                tabs = []
                for r in info["reviewers"][:n_load]:
                    c = context()
                    login(c, base, r)
                    tab = new_tab(c)
                    tab.goto(f"{base}/review?round={rid}&proposal={info['open'][-1]}")
                    finish(tab, 0, visible(f".st-key-rv_level_{crit[0]}"))
                    tabs.append(tab)
                single = []
                for k in range(reps):
                    single.append(timed(tabs[0], tabs[0].locator(f".st-key-rv_level_{crit[k % len(crit)]} [role=radiogroup] label")
                                        .nth(k % 2).click))
                row("load", "level save, 1 session (unloaded)", "self").times.extend(single)
                loaded = []
                for k in range(reps):
                    starts = []
                    for tab in tabs:
                        before = runs(tab)
                        t0 = time.perf_counter()
                        # options the unloaded rows never chose (3rd/4th): every click changes the level, so it saves
                        tab.locator(f".st-key-rv_level_{crit[k % len(crit)]} [role=radiogroup] label").nth(2 + k % 2).click()
                        starts.append((tab, before, t0))
                    for tab, before, t0 in starts:
                        finish(tab, before)
                        loaded.append(time.perf_counter() - t0)
                row("load", f"level save, {n_load} sessions at once", "self", target=3.0).times.extend(loaded)
                # Streamlit's own figure: as many minimal pages (one browser context each, as the reviewers) changing
                # their number at once, against one minimal page's rerun alone
                mins = []
                for i in range(n_load):
                    c = context()
                    tab = new_tab(c)
                    tab.goto(url_min)
                    finish(tab, 0, visible("[data-testid=stMarkdown]", "value 0"))
                    mins.append(tab)
                alone, together = [], []
                for k in range(reps):
                    box = mins[0].locator(".st-key-x input")

                    def change(box=box, v=100 + k):
                        box.fill(str(v))
                        box.press("Enter")
                    alone.append(timed(mins[0], change, visible("[data-testid=stMarkdown]", f"value {100 + k}")))
                for k in range(reps):
                    starts = []
                    for tab in mins:
                        before = runs(tab)
                        box = tab.locator(".st-key-x input")
                        t0 = time.perf_counter()
                        box.fill(str(200 + k))
                        box.press("Enter")
                        starts.append((tab, before, t0))
                    for tab, before, t0 in starts:
                        finish(tab, before)
                        together.append(time.perf_counter() - t0)
                row("load", REFERENCE + "minimal rerun, 1 session", "self").times.extend(alone)
                row("load", REFERENCE + f"minimal rerun, {n_load} sessions at once", "minimal-self",
                    target=3.0).times.extend(together)
            browser.close()
    finally:
        for p in procs:
            stop(p)
        if args.keep or sys.exc_info()[0] is not None:
            print(f"kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    # --- the table ------------------------------------------------------------------------------------------
    nan = float("nan")
    med = {k: statistics.median(v) if v else nan for k, v in ref.items()}      # nan: section not run (--only)
    best = {k: min(v) if v else nan for k, v in ref.items()}
    base_row = rows.get("load:level save, 1 session (unloaded)")
    unloaded = statistics.median(base_row.times) if base_row else nan
    print(f"\nminimal page: cold load median {med['cold'] * 1000:.0f} ms (best {best['cold'] * 1000:.0f}), "
          f"rerun {med['rerun'] * 1000:.0f} ms (best {best['rerun'] * 1000:.0f}), two-page switch "
          f"{med['switch'] * 1000:.0f} ms (best {best['switch'] * 1000:.0f})")
    print(f"{'kind':5} {'what':52} {'median':>8} {'best':>8} {'ratio':>6} {'target':>6}")
    worst: dict[str, float] = {}
    for r in rows.values():
        m, b = statistics.median(r.times), min(r.times)
        if r.ref == "minimal-self":      # Streamlit's own figure under the same load (reference)
            alone = statistics.median(rows[f"load:{REFERENCE}minimal rerun, 1 session"].times)
            p95 = statistics.quantiles(r.times, n=20)[-1] if len(r.times) >= 2 else m
            print(f"{r.kind:5} {r.name + ' (p50)':52} {m * 1000:8.0f} {b * 1000:8.0f} {m / alone:6.2f}")
            print(f"{r.kind:5} {r.name + ' (p95)':52} {p95 * 1000:8.0f} {'':8} {p95 / alone:6.2f}")
            continue
        if r.ref == "self":
            if "sessions" not in r.name:
                print(f"{r.kind:5} {r.name:52} {m * 1000:8.0f} {b * 1000:8.0f}")
                continue
            p95 = statistics.quantiles(r.times, n=20)[-1] if len(r.times) >= 2 else m
            ratio = p95 / unloaded
            print(f"{r.kind:5} {r.name + ' (p50)':52} {m * 1000:8.0f} {b * 1000:8.0f} {m / unloaded:6.2f}")
            print(f"{r.kind:5} {r.name + ' (p95)':52} {p95 * 1000:8.0f} {'':8} {ratio:6.2f} {r.target:6.1f}")
            worst["load_p95_ratio"] = ratio
            continue
        ratio = m / med[r.ref]
        reference = r.name.startswith(REFERENCE)
        print(f"{r.kind:5} {r.name:52} {m * 1000:8.0f} {b * 1000:8.0f} {ratio:6.2f} "
              f"{'' if reference else f'{r.target:6.1f}'}{'' if reference or ratio <= r.target else '  ✗'}")
        if r.name.startswith(REFERENCE):
            continue      # Streamlit's own figure, not the app's
        key = {"first": "first_page_ratio", "cold": "max_cold_ratio", "nav": "max_nav_ratio",
               "act": "max_interaction_ratio"}[r.kind]
        if r.name.startswith("chair: what-if"):
            worst["whatif_ratio"] = ratio
        else:
            worst[key] = max(worst.get(key, 0.0), ratio)
    out = {k: round(v, 2) for k, v in worst.items()}
    out.update({k2: (None if med[k] != med[k] else round(med[k] * 1000)) for k, k2 in
                (("cold", "minimal_cold_ms"), ("rerun", "minimal_rerun_ms"), ("switch", "minimal_switch_ms"))})
    out.update({"only": sorted(only), "proposals": args.proposals,
                "reviewers": args.reviewers, "repeats": reps})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
