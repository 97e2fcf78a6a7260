"""The sub-commands on files (formats.md): ``validate-pack``, ``check`` and ``rank`` (``rank --round`` ranks a round
of the store through :mod:`scoring.cli.store`)."""

from __future__ import annotations

import argparse
import sys

from ..analytics import analyze
from ..errors import InputError, Problem
from ..io import csv_bytes
from ..io.call import load_call
from ..io.packs import load_pack
from ..io.sources import source_name
from ..io.tables import read_shortlist
from .common import UsageError, add_rank_options, emit, json_bytes, params_from_args
from .hearing import round_hearing
from .store import round_call


# --- validate-pack ------------------------------------------------------------------------------------------

def cmd_validate_pack(args) -> int:
    pack = load_pack(args.pack)
    lines = [
        f"{pack.id} {pack.version} — {pack.programme.code} {pack.programme.name.ja} ({pack.source})",
        f"criteria: {len(pack.criteria)} ({', '.join(f'{c.id} {c.points:g}' for c in pack.criteria)}), "
        f"total {sum(c.points for c in pack.criteria):g}",
        f"scale: {', '.join(f'{s.level}={s.ratio:g}' for s in pack.scale)}",
        f"bonuses: {len(pack.bonuses)} (cap {pack.bonus_cap:g}); eligibility rules: {len(pack.eligibility)}; "
        f"expense checks: {len(pack.expense_checks)}",
        f"funding: {pack.funding.mode}, cap {pack.funding.cap_yen}, over_cap {pack.funding.over_cap}; "
        f"budget: {pack.budget.budget_yen if not pack.is_capacity else str(pack.budget.capacity_count) + ' recipients'}",
        f"selection: {pack.selection.aggregation.value}, pass line {pack.selection.pass_line:g}, "
        f"floor {pack.selection.criterion_floor:g}, min reviews {pack.selection.min_reviews}, "
        f"{pack.selection.method.value}, waitlist {pack.selection.waitlist}",
    ]
    h = pack.hearing
    if h is not None:
        lines.append(f"hearing: {len(h.criteria)} criteria ({', '.join(f'{c.id} {c.points:g}' for c in h.criteria)}), "
                     f"shortlist {h.shortlist.method}"
                     + (f" {h.shortlist.n}" if h.shortlist.n is not None else "")
                     + (f" ×{h.shortlist.multiple:g}" if h.shortlist.multiple is not None else "")
                     + f", combine {h.combine.method}"
                     + (f" {h.combine.document_weight:g}/{h.combine.hearing_weight:g}"
                        if h.combine.method == "weighted" else "")
                     + f", pass line {h.pass_line if h.pass_line is None else format(h.pass_line, 'g')}, "
                     f"min reviews {h.min_reviews}, slots {h.slot_minutes}+{h.break_minutes} min")
    lines.append("OK")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


# --- check ----------------------------------------------------------------------------------------------------

def cmd_check(args) -> int:
    call = load_call(args.pack, args.proposals)
    ranking = call.rank()
    rows = []
    for i, p in enumerate(call.proposals):
        res = ranking.result(i)
        rows.append({"proposal_id": p.id, "eligible": res["decision"] != "ineligible",
                     "eligibility": res["eligibility"], "conditions": res["conditions"],
                     "expense_flags": res["expense_flags"]})
    if args.format == "json":
        data = json_bytes({"pack": call.pack.id, "skipped_other_packs": call.skipped_other_packs, "results": rows})
    else:
        data = csv_bytes(["proposal_id", "rule", "status", "reason"],
                         [[r["proposal_id"], e["rule"], e["status"], e["reason"]]
                          for r in rows for e in r["eligibility"]])
    emit(args.out, data)
    return 0


# --- rank -------------------------------------------------------------------------------------------------------

def ranking_csv(ranking) -> bytes:
    """The one ranking CSV (``Ranking.csv_table``), the same bytes the app's download gives."""
    return csv_bytes(*ranking.csv_table())


def cmd_rank(args) -> int:
    if args.budget is not None and args.budget < 0:
        raise InputError([Problem("(arguments)", None, "--budget", f"must not be negative (got {args.budget})")])
    if getattr(args, "analysis", False) and args.format != "xlsx":
        raise UsageError("--analysis adds the 分析 sheet to --format xlsx; for JSON use `python -m scoring analyze`")
    hearing = getattr(args, "stage", "document") == "hearing"
    if getattr(args, "shortlist", None) is not None and not hearing:
        raise UsageError("--shortlist changes the hearing shortlist: use it with --stage hearing")
    resolutions = None
    ranking = None
    if getattr(args, "round", None) is not None and hearing:
        # both stages from the store: its shortlist edits and the hearing parameters the chair chose
        if args.shortlist is not None:
            raise UsageError("--shortlist is for files: a stored round's shortlist changes are its own "
                             "(`python -m scoring shortlist add|remove`)")
        ranking, call = round_hearing(args, lambda pack: params_from_args(pack, args))
    elif getattr(args, "round", None) is not None:  # a round of the store (scoring.store): same output
        call, resolutions = round_call(args)
    else:
        missing = [f"--{n}" for n in ("pack", "proposals", "reviews") if getattr(args, n) is None]
        if missing:
            raise UsageError(f"python -m scoring rank: the following arguments are required: {', '.join(missing)} "
                             "(or --round ROUND)")
        call = load_call(args.pack, args.proposals, args.reviews, args.reviewers)
    if ranking is not None:   # ranked by the store
        pass
    elif hearing:   # stages.md: the document stage, the shortlist (with the chair's changes), the hearing, the end
        edits = read_shortlist(args.shortlist) if args.shortlist is not None else []
        shown = source_name(args.shortlist, None, "(shortlist)") if args.shortlist is not None else "shortlist"
        ranking = call.rank_hearing(params_from_args(call.pack, args), edits, resolutions=resolutions,
                                    edits_source=shown)
    else:
        ranking = call.rank(params_from_args(call.pack, args), resolutions)
    if args.format == "json":
        data = json_bytes(ranking.to_dict())
    elif args.format == "csv":
        data = ranking_csv(ranking)
    else:
        try:  # lazy: openpyxl only for --format xlsx (and a build without it still ranks)
            from ..io.chair_workbook import chair_workbook
        except ImportError:
            raise UsageError("--format xlsx is not available in this build") from None
        analysis = None
        if getattr(args, "analysis", False):  # issue 6: the 分析 sheet (default resamples, seed 0)
            analysis = analyze(ranking, call.reviews, reviewers=call.reviewers, seed=0)
        data = chair_workbook(ranking, call, analysis=analysis)   # options given here are the run's parameters
    emit(args.out, data)
    return 0


def register(sub) -> None:
    p = sub.add_parser("validate-pack", help="validate a criteria pack (path or shipped id)")
    p.add_argument("pack")
    p.set_defaults(func=cmd_validate_pack)

    p = sub.add_parser("check", help="eligibility per proposal")
    p.add_argument("--pack", required=True)
    p.add_argument("--proposals", required=True)
    p.add_argument("--format", choices=["json", "csv"], default="json")
    p.add_argument("--out", default="-")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("rank", help="the ranked selection list")
    p.add_argument("--pack", help="required with files; with --round only if the round has several packs")
    p.add_argument("--proposals", help="required unless --round")
    p.add_argument("--reviews", help="required unless --round")
    p.add_argument("--reviewers")
    p.add_argument("--round", help="rank a round stored in the database (id or name) instead of files")
    p.add_argument("--db", help="database URL for --round (default: DATABASE_URL, else the SQLite file)")
    add_rank_options(p)
    p.add_argument("--stage", choices=["document", "hearing"], default="document",
                   help="hearing: both stages of a pack with a hearing section (shortlist, hearing, final ranking)")
    p.add_argument("--shortlist", help="with --stage hearing: the chair's changes, CSV proposal_id,action,reason")
    p.add_argument("--format", choices=["json", "csv", "xlsx"], default="json")
    p.add_argument("--analysis", action="store_true",
                   help="with --format xlsx: add the 分析 sheet (optimal portfolio, rank intervals, calibration)")
    p.add_argument("--out", default="-")
    p.set_defaults(func=cmd_rank)
