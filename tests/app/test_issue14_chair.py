"""Issue 14 on the chair's 提案の詳細: resolving a needs_check needs a verdict chosen and a reason, says nothing
about "another screen" after one's own resolution, and shows what the rule looked at (§4)."""

from __future__ import annotations

from tests.app.review_fixtures import app_as, no_exception
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)


def open_ac010(store):
    at = app_as(store, "C01", "chair_proposal")
    at.selectbox(key="app_pack_pick").set_value("advanced_comms").run()
    at.selectbox(key="chair_detail_pick").set_value("AC-010").run()
    no_exception(at)
    return at


def test_a_needs_check_is_resolved_only_with_a_chosen_verdict_and_a_reason(store):
    at = open_ac010(store)
    rule = next(b.key for b in at.button if b.key and b.key.startswith("chair_resolve_"))[len("chair_resolve_"):]
    assert at.selectbox(key=f"chair_resolve_status_{rule}").value is None           # no default verdict
    at.button(key=f"chair_resolve_{rule}").click().run()
    assert any("理由を入力" in str(e.value) for e in at.error)
    at.selectbox(key=f"chair_resolve_status_{rule}").set_value("pass").run()
    at.button(key=f"chair_resolve_{rule}").click().run()                              # a verdict, no reason
    assert any("理由を入力" in str(e.value) for e in at.error)
    assert store.rounds.list_resolutions(store.users.get("C01"), 1) == []
    at.text_input(key=f"chair_resolve_note_{rule}").input("Wi-Fi 6E は対象機器と確認").run()
    at.button(key=f"chair_resolve_{rule}").click().run()
    no_exception(at)
    [res] = store.rounds.list_resolutions(store.users.get("C01"), 1)
    assert (res.status, res.note) == ("pass", "Wi-Fi 6E は対象機器と確認")
    assert not any("別の画面" in str(w.value) for w in at.warning)                     # our own change
    at.run()
    assert not any("別の画面" in str(w.value) for w in at.warning)
    at.button(key=f"chair_unresolve_{rule}").click().run()
    no_exception(at)
    assert store.rounds.list_resolutions(store.users.get("C01"), 1) == []
    assert not any("別の画面" in str(w.value) for w in at.warning)


def test_the_needs_check_shows_the_consortium_and_cost_lines_it_judged(store):
    at = open_ac010(store)
    shown = "\n".join(df.value.to_string() for df in at.dataframe)
    for text in ("今治市", "今治造船技術研究会", "株式会社しまなみ造船システムズ", "ローカル5G・Wi-Fi 6E設備リース",
                 "遠隔判定システム開発（役務）"):
        assert text in shown, text
    assert any("判断の材料" in e.label for e in at.expander)
