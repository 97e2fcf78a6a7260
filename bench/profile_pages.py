"""Where a page's run spends its CPU (issue 15): the chair's pages and the self-check under cProfile, via AppTest.

Builds the round of ``bench/pages.py`` (``--proposals`` × ``--reviewers``, plus 50 ai_edge proposals), then runs
each scenario in AppTest with a profiler enabled in Streamlit's script thread only (CPU time of the script run:
what a rerun recomputes, not what the browser draws). A scenario's first run warms the caches and is not
profiled. Prints, per scenario, the script's CPU seconds per run and the top functions by cumulative time.
Not a test. Run: ``python bench/profile_pages.py [--proposals 500] [--only whatif,selfcheck_field] [--top 25]``.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_spec = importlib.util.spec_from_file_location("bench_pages", ROOT / "bench" / "pages.py")
bench_pages = sys.modules["bench_pages"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_pages)

APP = str(ROOT / "review_app.py")
PROFILE = cProfile.Profile()
ACTIVE = [False]
PROFILING = [True]
CPU: list[float] = []   # the script thread's CPU seconds of each profiled run


def _patch_runner() -> None:
    """Enable the profiler inside the script thread (AppTest runs the page in its own thread), and share one
    script cache across runs as a server does (AppTest compiles every script again on every run)."""
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner as lsr

    shared = ScriptCache()
    app_test.ScriptCache = lsr.ScriptCache = lambda: shared

    original = lsr.LocalScriptRunner._run_script_thread

    def run(self):
        if not ACTIVE[0]:
            return original(self)
        start = time.thread_time()
        if PROFILING[0]:
            PROFILE.enable()
        try:
            return original(self)
        finally:
            if PROFILING[0]:
                PROFILE.disable()
            CPU.append(time.thread_time() - start)
    lsr.LocalScriptRunner._run_script_thread = run


def filled(state) -> None:
    """The self-check filled from the sample proposal L4-001, every criterion scored (a complete form)."""
    import json

    from app import proposal_form as form
    from scoring.io.packs import load_pack
    from scoring.models import Proposal

    raw = next(p for p in json.loads((ROOT / "sample_proposals" / "proposals.json").read_text("utf-8"))
               if p["pack"] == "autonomous_l4")
    values: dict = {}
    form.proposal_to_state(Proposal.model_validate(raw), values)
    for c in load_pack("autonomous_l4").criteria:
        values[f"dr_level_{c.id}"] = 4
    for k, v in values.items():
        state[k] = v


def app_as(username: str | None, page: str | None, setup=None):
    from streamlit.testing.v1 import AppTest

    from app.auth import User
    from app.session import get_store

    at = AppTest.from_file(APP, default_timeout=300)
    if username is not None:
        info = get_store().users.get(username)
        at.session_state["auth_user"] = User(username=info.username, display_name=info.display_name,
                                             role=info.role, reviewer_id=info.username)
    if setup is not None:
        setup(at.session_state)
    at.run()
    if page is not None:
        at.switch_page(f"app/pages/{page}.py")
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def scenarios(info: dict, folder: Path) -> dict:
    """name → (user, page, action(at, k) or None for a plain rerun of the page)."""
    def budget(at, k):
        at.text_input(key="chair_budget").set_value(f"{50 + k}億円").run()

    def programme(at, k):
        box = at.selectbox(key="app_pack_pick")
        box.set_value("ai_edge" if box.value == "autonomous_l4" else "autonomous_l4").run()

    def detail(at, k):
        at.selectbox(key="chair_detail_pick").set_value(f"L4-{(k * 37) % info['n'] + 1:04d}").run()

    def title(at, k):
        at.text_input(key="dr_title").set_value(f"自治体DX 試算 {k}").run()

    def level(at, k):
        radios = [r for r in at.radio if r.key and r.key.startswith("dr_level_")]
        radios[k % len(radios)].set_value(3 + k % 2).run()

    def dr_pack(at, k):
        from scoring.packs import SHIPPED_PACKS

        packs = list(SHIPPED_PACKS)
        box = at.selectbox(key="dr_pack")
        box.set_value(packs[(packs.index(box.value) + 1) % len(packs)]).run()

    def after_import(at, k):
        # ラウンド管理 drawn right after an import of 500 proposals into a new round (the store's import itself runs
        # outside the measured script run here; the button runs it inside)
        from app.session import get_store
        from scoring.store import SYSTEM

        store = get_store()
        measured, ACTIVE[0] = ACTIVE[0], False       # only the run after the import is measured
        r = store.rounds.create_round(SYSTEM, f"取込プロファイル{k}", ["autonomous_l4"])
        at.run()
        at.selectbox(key="app_round_pick").set_value(r.id).run()
        store.rounds.import_files(SYSTEM, r.id, proposals=folder / "import.json")
        ACTIVE[0] = measured
        at.run()

    return {
        "admin_after_import": ("chair", "admin_round", after_import),
        "ranking_load": ("chair", "chair_ranking", None),
        "whatif": ("chair", "chair_ranking", budget),
        "programme": ("chair", "chair_ranking", programme),
        "progress_load": ("chair", "chair_progress", None),
        "proposal_load": ("chair", "chair_proposal", None),
        "proposal_open": ("chair", "chair_proposal", detail),
        "admin_load": ("chair", "admin_round", None),
        "stage_load": ("chair", "chair_stage", None),
        "timetable_load": ("chair", "chair_timetable", None),
        "decisions_load": ("chair", "chair_decisions", None),
        "reviewer_home_load": ("B01", "reviewer_home", None),
        "selfcheck_load": (None, "dry_run", None),
        "selfcheck_field": (None, "dry_run", title),
        "selfcheck_level": (None, "dry_run", level),
        "selfcheck_programme": (None, "dry_run", dr_pack),
        "selfcheck_full_load": (None, "dry_run", None, filled),
        "selfcheck_full_field": (None, "dry_run", title, filled),
        "selfcheck_full_level": (None, "dry_run", level, filled),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--proposals", type=int, default=500)
    ap.add_argument("--reviewers", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--only", default="")
    ap.add_argument("--sort", default="cumulative")
    ap.add_argument("--filter", default="", help="regex: list only functions whose file:line(name) matches")
    ap.add_argument("--no-profile", action="store_true", help="only the script thread's CPU per run, unprofiled")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="shinsa-profile-"))
    info = bench_pages.build(folder, args.proposals, args.reviewers, 30, 0)
    info["n"] = args.proposals
    os.environ["SHINSA_DATA_DIR"] = str(folder / "data")
    from app.session import reset_store

    reset_store()
    _patch_runner()
    PROFILING[0] = not args.no_profile
    wanted = {s for s in args.only.split(",") if s}
    summary = []
    for name, (user, page, action, *setup) in scenarios(info, folder).items():
        if wanted and name not in wanted:
            continue
        at = app_as(user, page, *setup)
        if action is not None:
            action(at, 0)          # warm: the first change may fill caches
        else:
            at.run()
        prof = globals()["PROFILE"] = cProfile.Profile(time.thread_time)
        CPU.clear()
        ACTIVE[0] = True
        for k in range(1, args.repeats + 1):
            if action is None:
                at.run()
            else:
                action(at, k)
        ACTIVE[0] = False
        assert not at.exception, [e.value for e in at.exception]
        runs = sorted(CPU)
        summary.append((name, len(runs), runs[len(runs) // 2], runs[0]))
        print(f"\n=== {name}: {len(runs)} script runs, CPU median {runs[len(runs) // 2] * 1000:.0f} ms, "
              f"best {runs[0] * 1000:.0f} ms{' (profiled)' if PROFILING[0] else ''} ===")
        if PROFILING[0]:
            out = io.StringIO()
            stats = pstats.Stats(prof, stream=out)
            stats.sort_stats(args.sort).print_stats(*([args.filter] if args.filter else []), args.top)
            print("\n".join(out.getvalue().splitlines()[:args.top + 12]))
    print(f"\nscenario                 runs  CPU ms/run median  best{'  (profiled)' if PROFILING[0] else ''}")
    for name, n, med, best in summary:
        print(f"{name:24} {n:4} {med * 1000:18.0f} {best * 1000:5.0f}")

if __name__ == "__main__":
    main()
