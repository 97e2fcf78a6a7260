"""Issue 14 §15: a normal walk through the chair's analyses and the reviewer's 担当案件 logs no warning and no
traceback (the rank-interval table converts to Arrow as it is; the home picker is not given a default while
its key is also set through session state)."""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager

from tests.app.review_fixtures import app_as, no_exception
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)

NOISE = ("missing ScriptRunContext", "without `streamlit run`")       # AppTest's bare mode, not the app


@contextmanager
def server_log():
    """Every log record at WARNING or above or with a traceback (Streamlit logs its Arrow-conversion
    traceback at INFO; its loggers do not propagate to the root), and every Python warning raised meanwhile."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            loud = record.levelno >= logging.WARNING or record.exc_info
            if loud and not any(n in record.getMessage() for n in NOISE):
                records.append(record)

    handler = Keep()
    loggers = [logging.getLogger(), logging.getLogger("streamlit")] + [
        logging.getLogger(name) for name in list(logging.root.manager.loggerDict) if name.startswith("streamlit")]
    levels = {lg: lg.level for lg in loggers}
    for lg in loggers:
        lg.addHandler(handler)
        if lg.level == logging.NOTSET or lg.level > logging.INFO:
            lg.setLevel(logging.INFO)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield records, caught
        finally:
            for lg in loggers:
                lg.removeHandler(handler)
                lg.setLevel(levels[lg])


def said(records, caught) -> list[str]:
    return [f"{r.name}: {r.getMessage()[:300]}" for r in records] + [str(w.message)[:300] for w in caught]


def test_the_rank_interval_table_logs_no_arrow_conversion_warning(store):
    with server_log() as (records, caught):
        at = app_as(store, "C01", "chair_ranking")
        at.selectbox(key="app_pack_pick").set_value("autonomous_l4").run()
        at.button(key="chair_analysis_run").click().run()
        no_exception(at)
        at.radio(key="lang").set_value("en").run()
        no_exception(at)
    assert at.session_state["chair_analysis"][1]["uncertainty"]["proposals"]
    assert not said(records, caught), said(records, caught)


def test_the_reviewer_home_logs_no_session_state_warning(store):
    with server_log() as (records, caught):
        at = app_as(store, "R01", "reviewer_home")
        no_exception(at)
        at.radio(key="lang").set_value("en").run()
        no_exception(at)
        at.selectbox(key="rv_home_pick_1").set_value("AC-003").run()
        at.run()
        no_exception(at)
        assert at.selectbox(key="rv_home_pick_1").value == "AC-003"
    assert not said(records, caught), said(records, caught)
