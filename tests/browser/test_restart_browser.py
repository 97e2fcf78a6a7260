"""Restart the server — the draft and the login are still there (issue 4 §3): a reviewer scores and comments,
the `streamlit run` process is stopped and a new one started on the same data folder and port, and the
reloaded page shows the reviewer still logged in with every saved change."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (ROOT, _wait_healthy, fill_text, free_port, pick_radio, stop_server, wait_idle,
                                    widget)
from tests.browser.test_review_browser import LEVELS, checked, login, open_proposal, wait_for_login_cookie

pytestmark = pytest.mark.browser


def start(data_dir, port: int, log) -> subprocess.Popen:
    env = {**os.environ, "SHINSA_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "review_app.py"), "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
           "--browser.gatherUsageStats", "false", "--", "--demo"]
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    _wait_healthy(f"http://127.0.0.1:{port}", proc, log)
    return proc


def test_draft_and_login_survive_a_server_restart(page, tmp_path):
    port, data, log = free_port(), tmp_path / "data", tmp_path / "streamlit.log"
    url = f"http://127.0.0.1:{port}"
    proc = start(data, port, log)
    try:
        login(page, url, "R01")
        open_proposal(page, "L4-003")
        pick_radio(page, "rv_level_verification_environment", LEVELS[3])
        fill_text(page, "rv_comment_verification_environment", "再起動の前に書いた所見")
        wait_for_login_cookie(page)
        stop_server(proc)                                   # the server goes away …
        proc = start(data, port, log)                # … and comes back on the same data folder
        page.goto(f"{url}/review?round=1&proposal=L4-003")
        wait_idle(page)
        expect(page.get_by_text("ログイン中：委員 山田 太郎")).to_be_visible()     # no new login
        expect(widget(page, "login_username")).to_have_count(0)
        assert checked(page, "rv_level_verification_environment") == LEVELS[3]
        expect(widget(page, "rv_comment_verification_environment").locator("textarea")).to_have_value(
            "再起動の前に書いた所見")
    finally:
        stop_server(proc)
