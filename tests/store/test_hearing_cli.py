"""The hearing stage of a stored round through the real command line (docs/cli.md "Hearing stage in the store"),
on SQLite and PostgreSQL: ``round stage`` (moves, refusals exit 2, audited as (cli)), ``shortlist add|remove|list``
and ``rank --round … --stage hearing`` computed from the store — the same JSON as the file form."""

from __future__ import annotations

import json

from scoring.cli import main
from scoring.store import SYSTEM
from tests.factories import ROOT

EX = ROOT / "tests" / "data" / "hearing-small"
FILES = ["--pack", EX / "pack.yaml", "--proposals", EX / "proposals.json", "--reviews", EX / "reviews.csv",
         "--reviewers", EX / "reviewers.csv"]


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def split_reviews(tmp_path):
    """The example's reviews as two files: the document reviews, and the hearing reviews (items hearing:<id>)."""
    lines = (EX / "reviews.csv").read_text(encoding="utf-8").splitlines()
    doc, hear = tmp_path / "doc.csv", tmp_path / "hear.csv"
    doc.write_text("\n".join([lines[0]] + [x for x in lines[1:] if ",hearing:" not in x]) + "\n", encoding="utf-8")
    hear.write_text("\n".join([lines[0]] + [x for x in lines[1:] if ",hearing:" in x]) + "\n", encoding="utf-8")
    return doc, hear


def make_round(capsys, db, tmp_path):
    assert run(capsys, "round", "create", "R", "--pack", EX / "pack.yaml", "--db", db)[0] == 0
    doc, hear = split_reviews(tmp_path)
    code, _, err = run(capsys, "import", "--round", "R", "--proposals", EX / "proposals.json", "--reviewers",
                       EX / "reviewers.csv", "--reviews", doc, "--db", db)
    assert code == 0, err
    return hear


def test_round_stage_and_shortlist_verbs_move_edit_refuse_and_log(backend, capsys, tmp_path):
    db = backend.url
    hear = make_round(capsys, db, tmp_path)
    code, _, err = run(capsys, "round", "stage", "R", "hearing", "--db", db)
    assert code == 2 and "stage: pack hearing_small is in stage document: the next stage is shortlist" in err
    code, _, err = run(capsys, "shortlist", "add", "R", "H-5", "--reason", "x", "--db", db)
    assert code == 2 and "the shortlist is changed only in stage shortlist" in err
    code, _, err = run(capsys, "round", "stage", "R", "shortlist", "--shortlist-method", "top_n", "--db", db)
    assert code == 0, err                                      # the pack's n (3)
    code, _, err = run(capsys, "round", "stage", "R", "document", "--db", db)
    assert code == 2 and "needs a reason" in err
    assert run(capsys, "round", "stage", "R", "document", "--reason", "評価のやり直し", "--db", db)[0] == 0
    code, _, err = run(capsys, "round", "stage", "R", "shortlist", "--shortlist-method", "budget_multiple", "--db", db)
    assert code == 2 and "--shortlist-multiple: budget_multiple needs a multiple > 0" in err
    code, out, err = run(capsys, "round", "stage", "R", "shortlist", "--shortlist-n", "2", "--db", db)
    assert code == 0, err
    moved = json.loads(out)
    assert (moved["stage"], moved["shortlist"], moved["hearing_params"]["n"]) == ("shortlist", None, 2)
    # refused shortlist rows: exit 2, the core's message, nothing written
    for argv, message in [(("add", "R", "H-6", "--reason", "x"), "'H-6' does not qualify at the document stage"),
                          (("add", "R", "H-5"), "reason: a shortlist change needs a reason"),
                          (("add", "R", "H-2", "--reason", "x"), "'H-2' is already shortlisted"),
                          (("remove", "R", "H-4", "--reason", "x"), "'H-4' is not shortlisted"),
                          (("add", "R", "H-99", "--reason", "x"), "'H-99' is not a proposal")]:
        code, _, err = run(capsys, "shortlist", *argv, "--db", db)
        assert code == 2 and message in err, (argv, err)
    code, out, err = run(capsys, "shortlist", "add", "R", "H-4", "--reason", "地域への波及", "--db", db)
    assert code == 0, err
    assert json.loads(out)["by"] == "(cli)" and json.loads(out)["reason"] == "地域への波及"
    code, out, _ = run(capsys, "shortlist", "list", "R", "--db", db)
    listed = json.loads(out)
    assert (listed["shortlist"], listed["fixed"]) == (["H-1", "H-2", "H-4"], False)
    assert [(e["proposal_id"], e["action"], e["reason"], e["by"]) for e in listed["edits"]] == [
        ("H-4", "add", "地域への波及", "(cli)")]
    code, out, err = run(capsys, "round", "stage", "R", "hearing", "--db", db)
    assert code == 0 and json.loads(out)["shortlist"] == ["H-1", "H-2", "H-4"], err
    code, out, _ = run(capsys, "shortlist", "list", "R", "--db", db)
    assert json.loads(out)["fixed"] is True
    # hearing reviews of H-3 (left out of the fixed shortlist) are refused at import, naming file, row and field
    code, _, err = run(capsys, "import", "--round", "R", "--reviews", hear, "--db", db)
    assert code == 2 and f"{hear}:" in err and ":proposal_id: hearing review of 'H-3'" in err
    log = backend.store.audit.query(SYSTEM, 1, entity="stage")
    assert [(e.action, e.actor) for e in log][:2] == [("stage.set", "(cli)"), ("shortlist.add", "(cli)")]
    assert [e.after.get("stage") for e in log if e.action == "stage.set"] == ["hearing", "shortlist", "document",
                                                                            "shortlist"]


def strip_who(result: dict) -> dict:
    """The store records who and when of an edit; a shortlist file has neither."""
    for r in result["results"]:
        if r.get("shortlist_edit"):
            r["shortlist_edit"].update(by=None, at=None)
    for e in result["hearing"]["edits"]:
        e.update(by=None, at=None)
    return result


def test_rank_round_stage_hearing_is_computed_from_the_store_as_the_file_form(backend, capsys, tmp_path):
    db = backend.url
    hear = make_round(capsys, db, tmp_path)
    assert run(capsys, "round", "stage", "R", "shortlist", "--db", db)[0] == 0
    assert run(capsys, "shortlist", "add", "R", "H-5", "--reason", "書面審査で評価が分かれたため", "--db", db)[0] == 0
    assert run(capsys, "round", "stage", "R", "hearing", "--db", db)[0] == 0
    code, _, err = run(capsys, "import", "--round", "R", "--reviews", hear, "--db", db)
    assert code == 0, err
    sl = tmp_path / "shortlist.csv"
    sl.write_text("proposal_id,action,reason\nH-5,add,書面審査で評価が分かれたため\n", encoding="utf-8")
    code, from_db, err = run(capsys, "rank", "--round", "R", "--stage", "hearing", "--db", db)
    assert code == 0, err
    code, from_files, err = run(capsys, "rank", *FILES, "--stage", "hearing", "--shortlist", sl)
    assert code == 0, err
    got, want = json.loads(from_db), json.loads(from_files)
    h5 = next(r for r in got["results"] if r["proposal_id"] == "H-5")
    assert h5["shortlisted"] and h5["shortlist_edit"]["by"] == "(cli)" and h5["decision"] == "insufficient_reviews"
    assert strip_who(got) == strip_who(want)
    # the what-if options apply as for the file form; csv and xlsx are written
    a = run(capsys, "rank", "--round", "R", "--stage", "hearing", "--budget", "1億円", "--format", "csv", "--db", db)
    b = run(capsys, "rank", *FILES, "--stage", "hearing", "--shortlist", sl, "--budget", "1億円", "--format", "csv")
    assert a[0] == b[0] == 0 and a[1].splitlines()[0] == b[1].splitlines()[0]
    assert [x.split(",")[:3] for x in a[1].splitlines()] == [x.split(",")[:3] for x in b[1].splitlines()]
    out = tmp_path / "chair.xlsx"
    assert run(capsys, "rank", "--round", "R", "--stage", "hearing", "--format", "xlsx", "--out", out, "--db", db)[0] == 0
    assert out.read_bytes()[:2] == b"PK"
    code, _, err = run(capsys, "rank", "--round", "R", "--stage", "hearing", "--shortlist", sl, "--db", db)
    assert code == 2 and "shortlist add|remove" in err
