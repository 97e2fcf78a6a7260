"""Page speed (issue 15) of the reviewer's form and the self-check, without timing anything: what a click runs or builds."""

from __future__ import annotations

from app import review_form
from tests.app.review_fixtures import app_as, no_exception
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)

L4 = ["service_need", "verification_items", "verification_environment", "remote_monitoring_safety", "rollout_plan"]
Q = {"round": "1", "proposal": "L4-001"}


def test_confirming_the_submit_runs_the_page_once_not_the_form_first(store, monkeypatch):
    """The confirmation's button submits in its callback: the click's run is the page's run that shows the notice
    — not a run that draws the whole form, submits in it and then reruns the page (twice the elements sent)."""
    at = app_as(store, "R01", "reviewer_scoring", query=Q)
    for cid in L4:
        at.radio(key=f"rv_level_{cid}").set_value(3).run()
    at.button(key="rv_submit").click().run()
    drawn: list[str] = []
    real = review_form.criteria_section

    def counted(*args, **kwargs):
        drawn.append("form")
        return real(*args, **kwargs)
    monkeypatch.setattr(review_form, "criteria_section", counted)
    at.button(key="rv_submit_confirm").click().run()
    no_exception(at)
    assert store.reviews.get_review(store.users.get("R01"), 1, "L4-001").status == "submitted"
    assert any("評価を提出しました" in str(s.value) for s in at.success)
    assert drawn == ["form"]         # before: ["form", "form"] (the form's run, then the page's)



def test_a_submit_refused_in_the_callback_is_raised_by_that_run_of_the_form_only(store, monkeypatch):
    """A refusal of the store the old in-form submit would have raised (here: the round locked meanwhile) is
    raised by the form's run that follows the click, where the submit used to be — shown as the form's error
    under the confirmation — and by no later run."""
    from scoring.store import RoundLocked

    at = app_as(store, "R01", "reviewer_scoring", query=Q)
    for cid in L4:
        at.radio(key=f"rv_level_{cid}").set_value(3).run()
    at.button(key="rv_submit").click().run()

    def refuse(*args, **kwargs):
        raise RoundLocked("locked meanwhile")
    monkeypatch.setattr(type(store.reviews), "submit", refuse)
    at.button(key="rv_submit_confirm").click().run()
    no_exception(at)
    assert store.reviews.get_review(store.users.get("R01"), 1, "L4-001").status == "draft"
    assert len(at.error) == 1 and [b for b in at.button if b.key == "rv_submit_confirm"]   # the box, its error
    assert not [b for b in at.button if b.key == "rv_submit_cancel"]
    at.run()
    assert not at.error and not [b for b in at.button if b.key == "rv_submit_confirm"]   # gone on the next run


def test_the_self_checks_empty_cost_table_is_a_copy_of_one_built_once(monkeypatch):
    """The cost editor's empty table is copied, not built from seven Series on every run; same columns, types."""
    import pandas as pd

    from app import proposal_form as form

    first = form.empty_costs()
    built: list[int] = []
    real = pd.Series

    def series(*args, **kwargs):
        built.append(1)
        return real(*args, **kwargs)
    monkeypatch.setattr(pd, "Series", series)
    second = form.empty_costs()
    assert built == []
    assert list(second.columns) == form.COST_COLUMNS and second.empty
    assert second.dtypes.to_dict() == form._empty_costs().dtypes.to_dict()
    second.loc[0] = ["x", "equipment", "1", None, None, None, None]      # a copy: the next table is empty again
    assert form.empty_costs().empty and first.empty


def test_my_proposals_looks_its_words_up_once_not_per_row(store, monkeypatch):
    """担当案件 takes its column titles and status words once (t() reads the session's language on every call;
    5 per row of 550 were three quarters of the page's run); the table shows the same words."""
    from app import i18n

    at = app_as(store, "R01", "reviewer_home")
    rows = sum(len(df) for df in (el.value for el in at.dataframe))
    before = [list(df.columns) + df.iloc[:, 2].tolist() for df in (el.value for el in at.dataframe)]
    calls: list[str] = []
    real = i18n.t

    def counted(key, *args, **kwargs):
        calls.append(key)
        return real(key, *args, **kwargs)
    monkeypatch.setattr(i18n, "t", counted)
    at.run()
    no_exception(at)
    tables = len(at.dataframe)                                    # one per round of the demo
    assert rows > 3 * tables
    assert calls.count("reviewer.col.status") <= tables           # was one per row (+ one per table)
    assert len([k for k in calls if k.startswith("reviewer.status.")]) <= 6 * tables   # per status and metric
    assert [list(df.columns) + df.iloc[:, 2].tolist() for df in (el.value for el in at.dataframe)] == before
