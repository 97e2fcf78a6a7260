"""Issue 14's leftovers: a wrong choice's allowed values as labels in the user's language (import and
self-check), the import's audit entry naming the uploaded files (never a temporary path), and a reviewer whose
document review is locked by the stage being told so in their language (no English ReviewLocked detail)."""

from __future__ import annotations

import json

from scoring.hearing_ranking import HearingParams
from tests.app.review_fixtures import ROOT, app_as, no_exception, texts
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)

SAMPLE = json.loads((ROOT / "sample_proposals" / "proposals.json").read_text("utf-8"))
RAW_KINDS = ("local_government", "prefecture", "local_ict_company", "university")


def wrong_kind(pid: str) -> dict:
    return dict(SAMPLE[0], id=pid, applicant=dict(SAMPLE[0]["applicant"], kind="city"))


def test_an_import_names_the_allowed_kinds_by_their_japanese_labels(store):
    at = app_as(store, "C01", "admin_round")
    at.file_uploader(key="adm_import_proposals").set_value(
        ("応募.json", json.dumps([wrong_kind("NEW-1")], ensure_ascii=False).encode("utf-8"), "application/json")).run()
    at.button(key="adm_import_run").click().run()
    no_exception(at)
    [body] = [str(e.value) for e in at.get("text")]
    assert "「city」は使えない値です（使える値：地方公共団体（市区町村）、都道府県、企業、" in body
    assert not any(raw in body for raw in RAW_KINDS), body


def test_the_allowed_values_in_english_are_english_labels(store, tmp_path):
    from app.problems import problem_lines
    from scoring.errors import InputError

    path = tmp_path / "batch.json"
    bad = dict(wrong_kind("NEW-1"), technologies=["5g"])
    path.write_text(json.dumps([bad], ensure_ascii=False), "utf-8")
    try:
        store.rounds.import_files(store.users.get("C01"), 1, proposals=path)
    except InputError as exc:
        lines = problem_lines(exc.problems, {str(path): "batch.json"}, lang="en")
    assert lines[0].startswith('batch.json, item 1, field "applicant.kind": NEW-1: "city" is not allowed '
                               "(allowed: Local government (municipality), Prefecture, Company, ")
    assert "(allowed: Local 5G, Wi-Fi HaLow, " in lines[1]
    assert not any(raw in "\n".join(lines) for raw in (*RAW_KINDS, "local5g", "satellite_direct"))


def test_a_self_check_upload_with_a_wrong_kind_is_said_in_japanese_with_labels(store):
    at = app_as(store, None)
    at.switch_page("app/pages/dry_run.py").run()
    at.file_uploader(key="dr_upload_0").set_value(
        ("下書き.json", json.dumps(wrong_kind("X-1"), ensure_ascii=False).encode("utf-8"), "application/json")).run()
    no_exception(at)
    errors = [str(e.value) for e in at.error]
    [line] = [e for e in errors if "下書き.json" in e]
    assert "1件目" in line and "使える値：地方公共団体（市区町村）、都道府県" in line
    assert not any(raw in line for raw in RAW_KINDS) and "is not one of" not in line, line


def test_the_import_audit_entry_records_the_uploaded_file_names_not_temporary_paths(store):
    at = app_as(store, "C01", "admin_round")
    new = dict(SAMPLE[0], id="NEW-9")
    at.file_uploader(key="adm_import_proposals").set_value(
        ("追加応募.json", json.dumps([new], ensure_ascii=False).encode("utf-8"), "application/json")).run()
    at.button(key="adm_import_run").click().run()
    no_exception(at)
    [entry] = [e for e in store.audit.query(store.users.get("C01"), 1) if e.action == "round.import"][:1]
    assert entry.after["proposals"] == 1
    assert entry.after["files"] == ["追加応募.json"]
    assert "shinsa-import-" not in json.dumps(entry.after, ensure_ascii=False)


def test_a_reviewer_editing_after_the_shortlist_is_fixed_is_told_so_in_japanese(store):
    at = app_as(store, "R01", "reviewer_scoring", query={"round": "1", "proposal": "L4-001"})
    no_exception(at)
    at.radio(key="rv_level_service_need").set_value(4).run()           # saved: the document stage is on
    chair = store.users.get("C01")
    top3 = HearingParams(shortlist_method="top_n", n=3)
    store.hearings.set_stage(chair, 1, "autonomous_l4", "shortlist", hearing=top3)
    store.hearings.set_stage(chair, 1, "autonomous_l4", "hearing")     # the shortlist is fixed meanwhile
    at.radio(key="rv_level_verification_items").set_value(3).run()    # this page still shows the form
    no_exception(at)
    shown = texts(at)
    assert "この事業の書面審査は終了したため、評価を変更できません（今の変更は保存されていません）。" in shown
    assert "document stage" not in shown and "read-only" not in shown
    # never "submitted" of this review (the discussion's heading 「他の委員の評価（提出済み）」 is about others')
    assert not any("提出済み" in line and "他の委員" not in line for line in shown.splitlines())
    review = store.reviews.get_review(store.users.get("R01"), 1, "L4-001")
    assert review.levels == {"service_need": 4}                         # nothing more was written


def test_the_cumulative_chart_reads_man_oku_in_japanese():
    from app.charts import yen_ticks
    from scoring.money import format_man_oku

    ticks = yen_ticks(1_234_000_000)
    assert ticks[0] == 0 and ticks[-1] >= 1_234_000_000 and len(ticks) <= 8
    assert [format_man_oku(v) for v in ticks[:3]] == ["0円", "5億円", "10億円"]


def test_an_empty_assignment_list_says_so_in_words_not_an_empty_table(store):
    chair = store.users.get("C01")
    store.rounds.create_round(chair, "空のラウンド", ["autonomous_l4"])
    at = app_as(store, "C01", "admin_round")
    no_exception(at)
    assert "この事業区分にはまだ割り当てがありません。" in [i.value for i in at.info]


def test_the_consortium_is_a_static_table_whose_role_column_is_never_cut(store):
    at = app_as(store, "R01", "reviewer_scoring", query={"round": "1", "proposal": "L4-001"})
    no_exception(at)
    [members] = [tb.value for tb in at.table if "役割" in tb.value.columns]
    assert "代表提案者" in set(members["役割"])
