"""Fixtures for browser tests: a real ``streamlit run review_app.py`` server and Debian's Chromium via Playwright.

- ``start_server(*app_args, env=None)`` starts a server on a free port with its own data folder and returns
  its base URL (stopped at the end of the test module); ``server`` is one started with no arguments.
- ``browser`` is a Chromium (``/usr/bin/chromium``); ``page`` is a fresh 1,280 × 900 Japanese context that
  accepts downloads. A missing Chromium or a server that does not come up FAILS the test, never skips it.

Helpers for Streamlit widgets (found by their ``key`` through the ``st-key-<key>`` class Streamlit adds):
``widget(page, key)``, ``fill_text(page, key, text)``, ``choose(page, key, option_text)``,
``pick_radio(page, key, label)``, ``click_button(page, key)``, ``wait_idle(page)``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "docs" / "screenshots"
STARTUP_LIMIT_S = 90  # how long a server may take to answer its health check before the test fails


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_LIMIT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail(f"streamlit did not answer on {url} within {STARTUP_LIMIT_S}s:\n"
                f"{log.read_text(errors='replace')[-4000:]}")


@pytest.fixture(scope="module")
def start_server(tmp_path_factory):
    procs: list[subprocess.Popen] = []

    def start(*app_args: str, env: dict | None = None) -> str:
        port = free_port()
        folder = tmp_path_factory.mktemp("server")
        log = folder / "streamlit.log"
        full_env = {**os.environ, "SHINSA_DATA_DIR": str(folder / "data"), "PYTHONUNBUFFERED": "1"}
        full_env.pop("DATABASE_URL", None)
        full_env.update(env or {})
        cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "review_app.py"),
               "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
               "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
        if app_args:
            cmd += ["--", *app_args]
        with open(log, "wb") as out:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, proc, log)
        return url

    yield start
    for proc in procs:
        stop_server(proc)


def stop_server(proc: subprocess.Popen) -> None:
    """SIGTERM to the server's process group (SIGKILL after 20 s)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def server(start_server) -> str:
    return start_server()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is required for browser tests: {CHROMIUM} not found (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)  # a rerun on a loaded 2-core machine may take a few seconds
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP", accept_downloads=True)
    context.set_default_timeout(30_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


# --- Streamlit widget helpers --------------------------------------------------------------------------------

def widget(page, key: str):
    return page.locator(f".st-key-{key}")


def wait_idle(page) -> None:
    """Wait until Streamlit has finished rerunning the script: a rerun starts shortly after an interaction
    and shows the status widget while it runs."""
    page.wait_for_timeout(300)
    page.wait_for_selector("[data-testid='stStatusWidget']", state="detached")
    page.wait_for_timeout(100)


def fill_text(page, key: str, text: str) -> None:
    box = widget(page, key).locator("input, textarea").first
    box.fill(text)
    box.press("Enter" if box.evaluate("e => e.tagName") == "INPUT" else "Control+Enter")
    wait_idle(page)


def choose(page, key: str, option_text: str) -> None:
    box = widget(page, key).get_by_role("combobox")
    option = page.get_by_role("option", name=option_text, exact=True)
    for _ in range(5):  # a rerun (or a layout shift) that lands while the list opens closes it: open it again
        wait_idle(page)
        box.scroll_into_view_if_needed()
        box.click()
        try:
            option.wait_for(state="visible", timeout=5_000)
            break
        except Exception:  # noqa: BLE001 - playwright's TimeoutError; retried
            page.keyboard.press("Escape")
    option.click()
    wait_idle(page)


def pick_radio(page, key: str, label: str) -> None:
    widget(page, key).get_by_text(label, exact=True).click()
    wait_idle(page)


def click_button(page, key: str) -> None:
    widget(page, key).locator("button").first.click()
    wait_idle(page)
