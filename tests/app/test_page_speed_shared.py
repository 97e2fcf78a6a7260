"""Page speed (issue 15) without timing anything: 順位・採択 ranks and draws one state of a round once, and shares
it — a second tab, a programme switch back or another run on the same state does not rank or draw it again;
any stored change, another chair (their own conflicts of interest) or another language gets its own."""

from __future__ import annotations

import plotly.graph_objects as go

from scoring.call import Call
from scoring.store import SYSTEM
from tests.app.review_fixtures import app_as, no_exception
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)


def counting(monkeypatch):
    calls = {"rank": 0, "figure": 0}
    rank, init = Call.rank, go.Figure.__init__

    def counted_rank(self, *a, **kw):
        calls["rank"] += 1
        return rank(self, *a, **kw)

    def counted_init(self, *a, **kw):
        calls["figure"] += 1
        return init(self, *a, **kw)
    monkeypatch.setattr(Call, "rank", counted_rank)
    monkeypatch.setattr(go.Figure, "__init__", counted_init)
    return calls


def test_a_second_tab_on_the_same_state_neither_ranks_nor_draws_again(store, monkeypatch):
    calls = counting(monkeypatch)
    first = app_as(store, "C01", "chair_ranking")
    no_exception(first)
    assert calls["rank"] >= 1 and calls["figure"] >= 1
    table = first.dataframe[0].value
    before = dict(calls)
    second = app_as(store, "C01", "chair_ranking")          # a new tab: a new session
    no_exception(second)
    assert calls == before
    assert second.dataframe[0].value.equals(table)


def test_a_stored_change_another_chair_or_language_ranks_and_draws_their_own(store, monkeypatch):
    calls = counting(monkeypatch)
    at = app_as(store, "C01", "chair_ranking")
    no_exception(at)
    rid = store.rounds.list_rounds(SYSTEM)[0].id
    seen = dict(calls)
    store.rounds.set_deadline(SYSTEM, rid, "2027-01-31")              # any stored change writes an audit line
    app_as(store, "C01", "chair_ranking")
    assert calls["rank"] > seen["rank"]                              # a new state of the round: ranked again

    store.users.add_user(SYSTEM, "C02", "委員長代理", "chair", password="a-long-password-2026")
    seen = dict(calls)
    app_as(store, "C02", "chair_ranking")
    assert calls["rank"] > seen["rank"]                              # another chair: their own call and ranking

    en = app_as(store, "C02", "chair_ranking")
    seen = dict(calls)
    en.radio(key="lang").set_value("en").run()
    no_exception(en)
    assert calls["rank"] == seen["rank"] and calls["figure"] > seen["figure"]   # same ranking, drawn in English


def test_the_ranked_table_is_sent_as_the_frames_own_arrow_bytes(store, monkeypatch):
    """The kept table is the Arrow table Streamlit makes of the ranked frame: the bytes the browser gets are those
    of the frame (the same columns, order and values as before), converted once per state, not on every run."""
    from streamlit import dataframe_util

    frames, convert = [], dataframe_util.convert_pandas_df_to_arrow_table

    def recording(df, *a, **kw):
        frames.append(df.copy())
        return convert(df, *a, **kw)
    monkeypatch.setattr(dataframe_util, "convert_pandas_df_to_arrow_table", recording)
    at = app_as(store, "C01", "chair_ranking")
    no_exception(at)
    ranked = [f for f in frames if "順位" in f.columns]
    assert len(ranked) == 1
    at.run()                                                     # a rerun on the same state converts nothing again
    assert len([f for f in frames if "順位" in f.columns]) == 1
    expected = dataframe_util.convert_arrow_table_to_arrow_bytes(convert(ranked[0]))
    assert at.dataframe[0].proto.arrow_data.data == expected
