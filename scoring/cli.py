"""The command line of formats.md: ``python -m scoring validate-pack | check | rank | …``.

Exit codes: 0 done; 2 invalid input or arguments (``file:row:field: message`` lines on stderr, nothing
written); 1 an internal error. Output files are written whole or not at all.

Other adapters (store, Excel, analytics) add their sub-commands through :data:`EXTENSIONS`: each module
there has ``register(subparsers)``; a module that is not present is simply not offered.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import traceback
from typing import Callable

from .analytics import analyze
from .errors import InputError, Problem, ShinsaError
from .io import csv_bytes, write_atomic
from .io.call import load_call
from .io.packs import load_pack
from .money import MoneyError, parse_yen
from .selection import Params

EXTENSIONS = ("scoring.store.cli", "scoring.excel_cli", "scoring.analytics_cli")


class UsageError(ShinsaError):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 itself; keep our message shape
        raise UsageError(f"{self.prog}: {message}")


def emit(out: str, data: bytes) -> None:
    """Write output to a file (atomically) or stdout ('-')."""
    if out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        write_atomic(out, data)


def json_bytes(obj) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


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
        "OK",
    ]
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

def params_from_args(pack, args):
    return Params.from_pack(pack, aggregation=args.aggregation, normalization=args.normalization,
                            selection=args.selection, waitlist=args.waitlist, budget=args.budget,
                            pass_line=getattr(args, "pass_line", None))


def ranking_csv(ranking) -> bytes:
    """The one ranking CSV (``Ranking.csv_table``), the same bytes the app's download gives."""
    return csv_bytes(*ranking.csv_table())


def cmd_rank(args) -> int:
    if args.budget is not None and args.budget < 0:
        raise InputError([Problem("(arguments)", None, "--budget", f"must not be negative (got {args.budget})")])
    if getattr(args, "analysis", False) and args.format != "xlsx":
        raise UsageError("--analysis adds the 分析 sheet to --format xlsx; for JSON use `python -m scoring analyze`")
    if getattr(args, "round", None) is not None:  # a round of the store (scoring.store): same output
        from .store.cli import round_call  # lazy: SQLAlchemy only when a round is ranked

        call, resolutions = round_call(args)
        ranking = call.rank(params_from_args(call.pack, args), resolutions)
    else:
        missing = [f"--{n}" for n in ("pack", "proposals", "reviews") if getattr(args, n) is None]
        if missing:
            raise UsageError(f"python -m scoring rank: the following arguments are required: {', '.join(missing)} "
                             "(or --round ROUND)")
        call = load_call(args.pack, args.proposals, args.reviews, args.reviewers)
        ranking = call.rank(params_from_args(call.pack, args))
    if args.format == "json":
        data = json_bytes(ranking.to_dict())
    elif args.format == "csv":
        data = ranking_csv(ranking)
    else:
        try:  # lazy: openpyxl only for --format xlsx (and a build without it still ranks)
            from .io.chair_workbook import chair_workbook
        except ImportError:
            raise UsageError("--format xlsx is not available in this build") from None
        analysis = None
        if getattr(args, "analysis", False):  # issue 6: the 分析 sheet (default resamples, seed 0)

            analysis = analyze(ranking, call.reviews, reviewers=call.reviewers, seed=0)
        data = chair_workbook(ranking, call, analysis=analysis)
    emit(args.out, data)
    return 0


def _yen_arg(text: str) -> int:
    try:
        return parse_yen(text)
    except MoneyError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_rank_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--budget", type=_yen_arg, help="budget in yen (or the capacity count of a capacity pack)")
    p.add_argument("--aggregation", choices=["mean", "median", "trimmed"])
    p.add_argument("--normalization", choices=["none", "zscore"])
    p.add_argument("--selection", choices=["greedy_skip", "greedy_stop"])
    p.add_argument("--waitlist", type=int)
    p.add_argument("--pass-line", type=float, dest="pass_line")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m scoring", description="Shinsa (審査): proposal scoring for evaluation committees")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

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
    p.add_argument("--format", choices=["json", "csv", "xlsx"], default="json")
    p.add_argument("--analysis", action="store_true",
                   help="with --format xlsx: add the 分析 sheet (optimal portfolio, rank intervals, calibration)")
    p.add_argument("--out", default="-")
    p.set_defaults(func=cmd_rank)

    for name in EXTENSIONS:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        func: Callable = args.func
        return func(args)
    except InputError as exc:
        for problem in exc.problems:
            sys.stderr.write(f"{problem}\n")
        return 2
    except UsageError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    except ShinsaError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    except BrokenPipeError:  # pragma: no cover
        return 0
    except Exception as exc:  # an internal error: exit 1, the traceback only when asked for
        sys.stderr.write(f"internal error: {type(exc).__name__}: {exc}\n")
        if os.environ.get("SHINSA_DEBUG"):
            traceback.print_exc()
        return 1
    except KeyboardInterrupt:  # pragma: no cover
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
