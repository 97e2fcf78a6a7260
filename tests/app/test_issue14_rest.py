"""Issue 14, the rest of items 8, 9, 10 and 13 and the cumulative chart's axis, in the browser's words (AppTest)."""

from __future__ import annotations

from tests.app.review_fixtures import app_as, no_exception, texts
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)


def _admin_table(at):
    return next(df.value for df in at.dataframe if "委員" in df.value.columns and "提案" in df.value.columns)


# --- §8 automatic assignment -----------------------------------------------------------------------------------

def test_auto_assign_refreshes_the_table_at_once_and_reports_the_panel(store):
    at = app_as(store, "C01", "admin_round")
    at.selectbox(key="adm_pack_pick").set_value("planning_support").run()
    before = len(_admin_table(at))
    at.number_input(key="adm_auto_k").set_value(6).run()
    at.button(key="adm_auto_assign").click().run()
    no_exception(at)
    done = [str(s.value) for s in at.success if "自動割り当て" in str(s.value)]
    assert done and "件を追加" in done[0]
    added = int(done[0].split("：")[1].split("件を追加")[0])
    assert added > 0 and len(_admin_table(at)) == before + added          # the table already lists them
    report = texts(at)
    assert "一つにつながっています" in report and "共通に担当する提案：最少" in report
    at.radio(key="lang").set_value("en").run()
    assert "one connected panel" in texts(at) and "Proposals shared by two reviewers" in texts(at)
