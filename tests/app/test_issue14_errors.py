"""Errors as users read them (issue 14 item 7): an import lists every problem, by the uploaded file's name
(never the server's temporary folder), in the user's language, as plain text (``:id:`` is no emoji); a weak
password is said in words; the address of another role's page says so in the user's language."""

from __future__ import annotations

import json

from tests.app.review_fixtures import ROOT, app_as, no_exception, texts
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)

SAMPLE = json.loads((ROOT / "sample_proposals" / "proposals.json").read_text("utf-8"))


def import_proposals(at, name: str, proposals) -> None:
    at.file_uploader(key="adm_import_proposals").set_value(
        (name, json.dumps(proposals, ensure_ascii=False).encode("utf-8"), "application/json")).run()
    at.button(key="adm_import_run").click().run()
    no_exception(at)


def plain_texts(at) -> list[str]:
    return [str(e.value) for e in at.get("text")]


def test_an_import_lists_every_problem_by_the_uploaded_name_in_japanese_as_plain_text(store):
    at = app_as(store, "C01", "admin_round")
    three = SAMPLE[:3]                                  # already in the demo round: three problems
    import_proposals(at, "応募:id:一覧.json", three)
    assert "ファイルに問題が 3 件あります。何も取り込んでいません。" in texts(at)
    [body] = plain_texts(at)                           # st.text: no Markdown, no emoji shortcodes
    lines = body.splitlines()
    assert len(lines) == 3
    for i, p in enumerate(three):
        assert lines[i].startswith(f"応募:id:一覧.json、{i + 1}件目、項目「id」：")
        assert f"提案「{p['id']}」はラウンド「" in lines[i] and "すでにあります" in lines[i]
    shown = texts(at) + body
    assert "shinsa-import-" not in shown and "/tmp" not in shown and "already in round" not in shown
    assert len(store.rounds.list_rounds(store.users.get("C01"))) == 1     # nothing written


def test_the_problems_in_english_by_their_codes_and_the_cores_words_where_there_is_none(store, tmp_path):
    """(the English page is not driven through AppTest: it cannot run on with translated selectbox labels)"""
    from app.problems import problem_lines
    from scoring.errors import InputError, Problem

    path = tmp_path / "up" / "batch.json"
    path.parent.mkdir()
    no_pack = {k: v for k, v in SAMPLE[0].items() if k != "pack"} | {"id": "NEW-1"}
    bad = [no_pack, dict(SAMPLE[1], id="NEW-2", applicant=dict(SAMPLE[1]["applicant"], kind="alien")),
           dict(SAMPLE[2], id="NEW-3", requested_yen=-5)]
    path.write_text(json.dumps(bad, ensure_ascii=False), "utf-8")
    try:
        store.rounds.import_files(store.users.get("C01"), 1, proposals=path)
    except InputError as exc:
        lines = problem_lines(exc.problems, {str(path): "batch.json"}, lang="en")
    rnd = store.rounds.list_rounds(store.users.get("C01"))[0].name
    assert lines[0] == 'batch.json, item 1, field "pack": NEW-1: A required field is missing.'
    assert lines[1].startswith('batch.json, item 2, field "applicant.kind": NEW-2: "alien" is not allowed '
                               "(allowed: Local government (municipality), Prefecture, ")   # labels, no ids
    # a check of the core's own with no code yet: its English words (the place still in the user's language)
    assert lines[2] == 'batch.json, item 3, field "requested_yen": proposal NEW-3: must not be negative: -5'
    path.write_text(json.dumps(SAMPLE[3:5], ensure_ascii=False), "utf-8")    # valid, but in the round already
    try:
        store.rounds.import_files(store.users.get("C01"), 1, proposals=path)
    except InputError as exc:
        lines = problem_lines(exc.problems, {str(path): "batch.json"}, lang="en")
    assert lines == [f'batch.json, item {i + 1}, field "id": Proposal "{p["id"]}" is already in round "{rnd}".'
                     for i, p in enumerate(SAMPLE[3:5])]
    assert problem_lines([Problem(str(path), None, "(root)", "something only the core says")], lang="en") == \
        ["batch.json: something only the core says"]           # no code: the core's words, still no folder


def test_every_review_already_in_the_round_is_listed_not_only_the_first(store, tmp_path):
    at = app_as(store, "C01", "admin_round")
    export = store.rounds.export_files(store.users.get("C01"), 1, tmp_path)
    reviews = next(p for p in export if p.name.startswith("reviews")).read_text("utf-8")
    at.file_uploader(key="adm_import_reviews").set_value(("評価.csv", reviews.encode("utf-8"), "text/csv")).run()
    at.button(key="adm_import_run").click().run()
    no_exception(at)
    [body] = plain_texts(at)
    # one review per (reviewer, proposal, stage): the demo's hearing reviews are items "hearing:<id>"
    n = len({(*line.split(",")[:2], line.split(",")[2].startswith("hearing:")) for line in reviews.splitlines()[1:]})
    assert n > 3 and len(body.splitlines()) == n
    assert all(line.startswith("評価.csv、項目「reviewer_id」：委員「") and "すでにラウンドにあります" in line
               for line in body.splitlines())


def test_a_weak_password_is_said_in_words(store):
    at = app_as(store, "C01", "admin_round")
    at.text_input(key="adm_user_name").input("R77")
    at.text_input(key="adm_user_password").input("short")
    at.button(key="adm_user_add").click().run()
    no_exception(at)
    assert "パスワードは8文字以上にしてください。" in texts(at)
    assert "(password)" not in texts(at) and "must be at least" not in texts(at)


def test_another_roles_page_says_it_is_not_available_to_this_role(store):
    at = app_as(store, "R01", "reviewer_home")
    at.switch_page("app/pages/not_available.py").run()  # the address of the first page R01 lacks: /ranking
    no_exception(at)
    assert [e.value for e in at.title] == ["このページは使えません"]
    assert "「順位・採択」は、このアカウントの役割（評価委員）では使えないページです。" in texts(at)
    assert "予算" not in texts(at)                       # nothing of the chair's page
    store.users.set_language(store.users.get("R01"), "en")
    en = app_as(store, "R01", "reviewer_home")
    en.switch_page("app/pages/not_available.py").run()
    no_exception(en)
    assert '"Ranking and selection" is not available to your role (Reviewer).' in texts(en)
