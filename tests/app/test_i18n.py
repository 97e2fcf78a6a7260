"""The one message catalog (app/messages/*.yaml) and t()."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.i18n import MissingMessage, catalog, t, t_or
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]


def test_catalog_loads_with_both_languages_and_matching_placeholders():
    catalog.cache_clear()  # load again under the test: strict mode raises instead of logging
    cat = catalog()  # raises CatalogError on a duplicate key, a missing language or differing placeholders
    assert cat["nav.dry_run"] == {"ja": "応募前セルフチェック", "en": "Pre-application self-check"}


def test_t_formats_and_a_missing_key_fails_under_tests():
    assert t("common.logged_in_as", lang="ja", name="委員1") == "ログイン中：委員1"
    assert t("common.logged_in_as", lang="en", name="R1") == "Logged in as R1"
    with pytest.raises(MissingMessage):
        t("no.such.key")
    assert t_or("fact.a_committee_fact", "a_committee_fact") == "a_committee_fact"


def test_catalog_has_every_key_the_app_uses():
    """Every literal t("…") key in app/ exists in both languages (a missing key fails here, not in production)."""
    import re

    from app.i18n import catalog

    keys = set()
    for f in (ROOT / "app").rglob("*.py"):
        keys |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.]*[a-z0-9_])["']""", f.read_text(encoding="utf-8")))
    missing = sorted(k for k in keys if k not in catalog())
    assert len(keys) > 50 and not missing, missing
    assert t("dry_run.title", lang="en") == "Pre-application self-check"


def test_keys_built_at_run_time_exist():
    """Keys the dry-run page composes from the core's closed sets."""
    from scoring.models import CostCategory, MemberKind, RuleStatus, Technology
    from scoring.io.packs import load_pack
    from scoring.packs import SHIPPED_PACKS
    from scoring.selfcheck import fact_fields

    keys = [f"kind.{k.value}" for k in MemberKind] + [f"tech.{x.value}" for x in Technology] + \
        [f"cost.category.{c.value}" for c in CostCategory] + [f"status.{s.value}" for s in RuleStatus] + \
        [f"dry_run.standing.{s}" for s in ("qualifies", "below_pass_line", "below_criterion_floor", "ineligible",
                                           "incomplete")] + \
        [f"dry_run.expenses.status.{s}" for s in ("flagged", "check")]
    for pid in SHIPPED_PACKS:
        for f in fact_fields(load_pack(pid)):
            keys.append(f"fact.{f.name}")
            keys += [f"fact.choice.{f.name}.{c}" for c in f.choices]
    missing = [k for k in keys if k not in catalog()]
    assert not missing, missing


def test_switching_language_keeps_choices_and_raises_nothing_on_any_page(store):
    """The language switch assigns every plain widget value back to its key (app.i18n.relabel_widgets): no
    page may fail on it (buttons, uploads and tables are left alone) and no choice may change."""
    from tests.app.review_fixtures import app_as, no_exception

    at = app_as(store, "C01", "chair_ranking")
    at.selectbox(key="chair_aggregation").set_value("median").run()
    at.radio(key="lang").set_value("en").run()
    no_exception(at)
    assert at.selectbox(key="chair_aggregation").value == "median"
    assert "Median" in at.selectbox(key="chair_aggregation").options
    for page in ("admin_round", "chair_progress", "chair_proposal", "reviewer_home", "dry_run"):
        store.users.set_language(store.users.get("C01"), "ja")   # the switch is kept for the user: start in ja
        other = app_as(store, "C01", page)      # (AppTest itself cannot run on after a switch with translated
        other.radio(key="lang").set_value("en").run()    # selectbox labels: one switch per page)
        no_exception(other)
    rv = app_as(store, "R01", "reviewer_scoring", query={"round": "1", "proposal": "L4-003"})
    rv.radio(key="rv_level_rollout_plan").set_value(2).run()
    rv.radio(key="lang").set_value("en").run()
    no_exception(rv)
    assert rv.radio(key="rv_level_rollout_plan").value == 2
