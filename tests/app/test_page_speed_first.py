"""The first page after a server start (issue 15, docs/app.md "Page speed"): drawn without loading the store's code
or opening the store, the demo data seeded in the background while the login page says so, a login waiting for them.
"""

from __future__ import annotations

import subprocess
import sys
import threading

from streamlit.testing.v1 import AppTest

from tests.app.review_fixtures import APP, ROOT, no_exception, texts
from tests.app.review_fixtures import data_dir, demo_db  # noqa: F401  (fixtures)

PREPARING = "デモデータを準備しています"


def config_option(name: str) -> str:
    """A Streamlit option as ``streamlit run`` reads it: in a fresh process started in the project's folder."""
    code = ("import streamlit.config as c\n"
            "c.get_config_options(force_reparse=True)\n"
            f"print(c.get_option({name!r}))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_the_shell_and_the_login_page_load_no_store_code():
    """What the first page imports: no store services, no SQLAlchemy, pandas, numpy, SciPy, openpyxl, Alembic or
    pydantic (the packs' models; ~10 ms to import)."""
    code = ("import sys\n"
            "import app.auth, app.demo, app.i18n, app.language, app.navigation, app.session, app.settings, app.ui\n"
            "heavy = ('scoring.store.store', 'sqlalchemy', 'pandas', 'numpy', 'scipy', 'openpyxl', 'alembic', "
            "'pydantic')\n"
            "print(sorted(m for m in heavy if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_first_page_is_drawn_before_the_store_is_opened(data_dir, monkeypatch):
    """A process that has not loaded the store's code yet (a server just started) draws the login form without
    opening the store; the store is opened afterwards (here: never, the background warm-up is switched off)."""
    from app import session

    opened = []
    monkeypatch.setattr(session, "store_ready", lambda: False)
    monkeypatch.setattr(session, "warm_up", lambda: None)
    monkeypatch.setattr(session, "_open_store", lambda: opened.append(1))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    no_exception(at)
    assert at.text_input(key="login_username") is not None and "ログイン" in texts(at)
    assert opened == []


def test_demo_data_are_seeded_in_the_background_and_a_login_waits_for_them(tmp_path, monkeypatch):
    from app import demo, session

    monkeypatch.setenv("SHINSA_DATA_DIR", str(tmp_path / "fresh"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SHINSA_DEMO", "1")
    session.reset_store()
    gate = threading.Event()
    seed = demo.seed_demo

    def slow_seed(store):          # seeding that takes as long as the test wants
        gate.wait(300)
        return seed(store)

    monkeypatch.setattr(demo, "seed_demo", slow_seed)
    try:
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()                     # drawn while the demo data are still being seeded (seeding blocked it before)
        no_exception(at)
        assert PREPARING in texts(at) and at.text_input(key="login_username") is not None
        assert not demo.demo_ready()
        threading.Timer(1.0, gate.set).start()
        at.text_input(key="login_username").input("C01")
        at.text_input(key="login_password").input(demo.DEMO_PASSWORD)
        at.button[0].click().run()   # the login waits for the demo accounts, then goes through
        no_exception(at)
        assert demo.demo_ready() and at.session_state["auth_user"].username == "C01"
        assert PREPARING not in texts(at)
    finally:
        gate.set()
        demo.wait_demo(300)
        session.reset_store()


def test_streamlit_does_not_collect_the_whole_heap_after_every_run():
    """Streamlit's ``runner.postScriptGC`` (on by default) runs ``gc.collect(2)`` after every script run, holding
    the interpreter lock 100-200 ms in this app's process while the run's last message waits: the project's
    config switches it off, read the way ``streamlit run`` reads it (from the folder the server starts in)."""
    assert config_option("runner.postScriptGC") == "False"


def test_no_page_draws_by_magic_and_magic_is_off():
    """Streamlit recompiles the pages after the last session leaves, and its "magic" rewrites each script first
    (~35 ms of the next first run). The project's config switches magic off; that changes no page only because no
    script Streamlit runs (the shell and every page) holds an expression magic would draw (``st.write`` it)."""
    import ast

    from streamlit.runtime.scriptrunner import magic

    assert config_option("runner.magicEnabled") == "False"
    scripts = [ROOT / "review_app.py", *sorted((ROOT / "app" / "pages").glob("*.py"))]
    assert len(scripts) > 10
    for path in scripts:
        tree = magic.add_magic(path.read_text("utf-8"), str(path))
        drawn = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
                 and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
                 and node.func.value.id == "__streamlitmagic__"]
        assert drawn == [], f"{path.name}: magic would draw the expression on line(s) {drawn}"


def test_the_warm_up_freezes_what_was_loaded_at_start(data_dir, monkeypatch):
    """Once the store is open, what the process loaded is moved out of the collector's sight (``gc.freeze``), so
    Python's own full collections do not walk the libraries' objects again and again."""
    import gc

    from app import session

    session.reset_store()
    gc.unfreeze()
    try:
        session._open_and_freeze()
        assert session.store_ready()
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
        session.reset_store()


def test_a_server_skips_streamlits_run_from_a_shell_check(monkeypatch):
    """Under a server the first element no longer triggers Streamlit's ``is_repl()`` stack walk (its console hint is
    never printed under ``streamlit run``); outside a server the check is left to Streamlit."""
    from streamlit import delta_generator, env_util, runtime

    from app.startup import skip_direct_run_check

    walked = []
    monkeypatch.setattr(env_util, "is_repl", lambda: walked.append(1) or False)
    monkeypatch.setattr(delta_generator, "_use_warning_has_been_displayed", False)
    monkeypatch.setattr(runtime, "exists", lambda: False)
    assert skip_direct_run_check() is False
    delta_generator._maybe_print_use_warning()
    assert walked == [1]                            # outside a server: Streamlit's own check ran

    monkeypatch.setattr(delta_generator, "_use_warning_has_been_displayed", False)
    monkeypatch.setattr(runtime, "exists", lambda: True)
    assert skip_direct_run_check() is True
    delta_generator._maybe_print_use_warning()
    assert walked == [1]                            # under a server: no stack walk


def test_a_server_freezes_its_start_up_heap_once_before_the_first_run(monkeypatch):
    """The first run's allocations (the app's modules, the catalog) set off a full collection over everything the
    server made at start (~60 ms of the first page): under a server the shell freezes that heap first, once per
    process; outside a server nothing is frozen."""
    import gc

    from streamlit import runtime

    from app import startup

    monkeypatch.setattr(startup, "_frozen", False)
    monkeypatch.setattr(runtime, "exists", lambda: False)
    before = gc.get_freeze_count()
    assert startup.freeze_server_heap() is False
    assert gc.get_freeze_count() == before
    monkeypatch.setattr(runtime, "exists", lambda: True)
    kept = [[i] for i in range(1000)]      # containers the collector tracks
    try:
        assert startup.freeze_server_heap() is True
        frozen = gc.get_freeze_count()
        assert frozen >= before + 1000                  # the heap made so far (these lists too) is frozen
        more = [[i] for i in range(1000)]  # noqa: F841 - made after the first run started
        assert startup.freeze_server_heap() is False    # once per process: later runs freeze nothing
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
    assert kept
