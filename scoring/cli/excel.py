"""Command-line sub-commands of the Excel adapter: ``template``, ``import-sheets``, ``intake-template``.

Registered into ``python -m scoring`` by :mod:`scoring.cli`. Errors are
``scoring.errors.InputError`` (exit 2, ``file:cell:field: message``); output is written whole or not at all.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from ..errors import InputError, Problem
from ..io import csv_bytes, write_atomic
from ..io.call import load_call, read_inputs
from ..io.intake import intake_template
from ..io.packs import load_pack
from ..io.score_sheets import read_score_sheets, score_sheet
from ..io.sources import source_name
from ..io.tables import read_shortlist
from ..models import Reviewer
from ..reviews import REVIEW_COLUMNS, build_review_table, reviews_from_rows, split_by_pack
from ..table import ProposalTable
from .common import add_rank_options, emit, params_from_args


def _load(pack_arg: str, proposals_arg: str, reviewers_arg: str | None):
    inputs = read_inputs(pack_arg, proposals_arg, reviewers=reviewers_arg)   # every file's problems at once
    return inputs.pack, inputs.proposals, inputs.reviewers


def sheet_file_name(reviewer_id: str) -> str:
    """A safe file name for a reviewer's score sheet: letters, digits, ``_ . -`` only (NFKC first), at most 80
    characters of the id. Different ids can give the same name (``R/2`` and ``R_2``): the caller refuses that."""
    text = unicodedata.normalize("NFKC", reviewer_id)
    stem = re.sub(r"[^\w.\-]+", "_", text, flags=re.UNICODE).strip("._")[:80] or "reviewer"
    return f"score_sheet_{stem}.xlsx"


def hearing_shortlist(args, pack) -> list[str] | None:
    """With ``--stage hearing``: the shortlist ``rank --stage hearing`` gives with the same files and options (the
    document reviews ``--reviews``, the chair's changes ``--shortlist``), in document rank order; else None."""
    if args.stage != "hearing":
        for opt, v in (("--reviews", args.reviews), ("--shortlist", args.shortlist)):
            if v is not None:
                raise InputError([Problem("(arguments)", None, opt, "only with --stage hearing")])
        return None
    if pack.hearing is None:
        raise InputError([Problem("(arguments)", None, "--stage", f"pack {pack.id} has no hearing section")])
    if args.reviews is None:
        raise InputError([Problem("(arguments)", None, "--reviews", "--stage hearing needs the document reviews "
                                  "(--reviews FILE) to cut the shortlist")])
    call = load_call(args.pack, args.proposals, args.reviews, args.reviewers)
    edits = read_shortlist(args.shortlist) if args.shortlist is not None else []
    shown = source_name(args.shortlist, None, "(shortlist)") if args.shortlist is not None else "shortlist"
    ranking = call.rank_hearing(params_from_args(call.pack, args), edits, edits_source=shown, strict=False)
    return ranking.shortlist_ids()


def cmd_template(args) -> int:

    pack, props, rvrs = _load(args.pack, args.proposals, args.reviewers)
    short = hearing_shortlist(args, pack)
    if short is not None:   # hearing sheets: the shortlisted proposals only, in document rank order
        where = {pid: k for k, pid in enumerate(short)}
        props = sorted((p for p in props if p.id in where), key=lambda p: where[p.id])
    if args.reviewer == "all":
        if rvrs is None:
            raise InputError([Problem("(arguments)", None, "--reviewer", "--reviewer all needs --reviewers FILE")])
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise InputError([Problem(str(out), None, "--out", "with --reviewer all, --out is a folder")])
        first: dict[str, str] = {}
        clashes = []
        for r in rvrs:   # one file per reviewer: two ids that map to one name (also differing in case only) refused
            name = sheet_file_name(r.reviewer_id)
            other = first.setdefault(name.casefold(), r.reviewer_id)
            if other != r.reviewer_id:
                clashes.append(Problem(args.reviewers, None, "reviewer_id",
                                       f"reviewers {other[:40]!r} and {r.reviewer_id[:40]!r} would both be written "
                                       f"to {name}; give one of them another id"))
        if clashes:
            raise InputError(clashes)
        books = [(out / sheet_file_name(r.reviewer_id), score_sheet(pack, props, r, stage=args.stage))
                 for r in rvrs]
        out.mkdir(parents=True, exist_ok=True)
        for path, data in books:  # every workbook is built before the first is written
            write_atomic(path, data)
        for path, _ in books:
            print(path)
        return 0
    if rvrs is not None:
        found = [r for r in rvrs if r.reviewer_id == args.reviewer]
        if not found:
            raise InputError([Problem(args.reviewers, None, "reviewer_id",
                                      f"reviewer {args.reviewer!r} is not in the reviewers file")])
        reviewer = found[0]
    else:
        reviewer = Reviewer(reviewer_id=args.reviewer)
    emit(args.out, score_sheet(pack, props, reviewer, stage=args.stage))
    return 0


def cmd_import_sheets(args) -> int:

    pack, props, rvrs = _load(args.pack, args.proposals, args.reviewers)
    short = hearing_shortlist(args, pack)
    rows = read_score_sheets(args.files, pack, props, rvrs, stage=args.stage, shortlist=short)
    dicts = [{"reviewer_id": r.reviewer_id, "proposal_id": r.proposal_id, "item": r.item, "value": r.value,
              "status": r.status.value, "comment": r.comment} for r in rows]
    # the core's own check of the result (same rules as a reviews.csv)
    mine, _ = split_by_pack(props, pack, source=args.proposals)
    build_review_table(reviews_from_rows(dicts), pack, ProposalTable.from_proposals(mine), {p.id for p in props},
                       "(imported sheets)", rvrs)
    emit(args.out, csv_bytes(REVIEW_COLUMNS, [[d[c] for c in REVIEW_COLUMNS] for d in dicts]))
    return 0


def cmd_intake_template(args) -> int:

    pack = load_pack(args.pack) if args.pack else None
    emit(args.out, intake_template(pack))
    return 0


def _stage_options(p) -> None:
    p.add_argument("--stage", choices=["document", "hearing"], default="document",
                   help="hearing: hearing score sheets (the hearing criteria) of the shortlisted proposals only")
    p.add_argument("--reviews", help="with --stage hearing: the document reviews the shortlist is cut from")
    p.add_argument("--shortlist", help="with --stage hearing: the chair's changes, CSV proposal_id,action,reason")
    add_rank_options(p)   # the shortlist is rank --stage hearing's with the same options


def register(sub) -> None:
    p = sub.add_parser("template", help="offline score sheet(s) (.xlsx) for a reviewer, or for every reviewer")
    p.add_argument("--pack", required=True)
    p.add_argument("--proposals", required=True)
    p.add_argument("--reviewer", required=True, help="reviewer id, or 'all' (one workbook per reviewer)")
    p.add_argument("--reviewers", help="reviewers file (conflicts are never put on a sheet)")
    p.add_argument("--out", required=True, help="FILE.xlsx, or a folder with --reviewer all")
    _stage_options(p)
    p.set_defaults(func=cmd_template)

    p = sub.add_parser("import-sheets", help="filled score sheets back into a reviews CSV")
    p.add_argument("files", nargs="+", metavar="FILE.xlsx")
    p.add_argument("--pack", required=True)
    p.add_argument("--proposals", required=True)
    p.add_argument("--reviewers")
    p.add_argument("--out", default="-")
    _stage_options(p)
    p.set_defaults(func=cmd_import_sheets)

    p = sub.add_parser("intake-template", help="the empty intake list 応募一覧.xlsx")
    p.add_argument("--pack", help="only this pack's fact columns (default: every shipped pack's)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_intake_template)
