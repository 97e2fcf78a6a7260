"""``python -m scoring analyze``: the analyses of selection.md §10 as JSON or a workbook with the 分析 sheet.

Registered by :mod:`scoring.cli`. Nothing here changes the official decision.
"""

from __future__ import annotations

import argparse

from ..analytics import analyze
from ..errors import InputError, Problem
from ..io.analysis_sheet import analysis_workbook
from ..io.call import load_call
from .common import add_rank_options, emit, json_bytes, params_from_args

MIN_RESAMPLES = 1000  # selection.md §10: at least 1,000 draws


def cmd_analyze(args) -> int:

    problems = []
    if args.budget is not None and args.budget < 0:
        problems.append(Problem("(arguments)", None, "--budget", f"must not be negative (got {args.budget})"))
    if args.resamples < MIN_RESAMPLES:
        problems.append(Problem("(arguments)", None, "--resamples",
                                f"at least {MIN_RESAMPLES} resamples are required (got {args.resamples})"))
    if args.threshold is not None and args.threshold < 0:
        problems.append(Problem("(arguments)", None, "--threshold", f"must not be negative (got {args.threshold})"))
    if problems:
        raise InputError(problems)
    call = load_call(args.pack, args.proposals, args.reviews, args.reviewers)
    params = params_from_args(call.pack, args)
    kwargs = {"params": params, "n_resamples": args.resamples, "seed": args.seed, "level": args.level / 100.0,
              "sensitivity_pass_line": args.sensitivity_pass_line}
    if args.threshold is not None:
        kwargs["leniency_threshold"] = args.threshold
    result = analyze(call, **kwargs)
    if args.format == "json":
        data = json_bytes(result)
    else:

        data = analysis_workbook(result)
    emit(args.out, data)
    return 0


def register(sub) -> None:

    p = sub.add_parser("analyze", help="optimal portfolio, rank uncertainty, reviewer calibration, sensitivity",
                       description="Analyses beside the official ranking (selection.md §10); never changes it.")
    p.add_argument("--pack", required=True)
    p.add_argument("--proposals", required=True)
    p.add_argument("--reviews", required=True)
    p.add_argument("--reviewers")
    add_rank_options(p)
    p.add_argument("--resamples", type=int, default=MIN_RESAMPLES, help="bootstrap resamples (≥ 1000)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the bootstrap (same seed, same figures)")
    p.add_argument("--threshold", type=float, help="leniency flag threshold in points (default 10)")
    p.add_argument("--level", type=int, choices=[50, 80, 95], default=95,
                   help="rank interval level (%%) that defines the gray zone (default 95)")
    p.add_argument("--sensitivity-pass-line", choices=["scaled", "raw"], default="scaled",
                   help="scaled points: rescale the pass line with the total (default) or keep it (raw)")
    p.add_argument("--format", choices=["json", "xlsx"], default="json")
    p.add_argument("--out", default="-")
    p.set_defaults(func=cmd_analyze)


__all__ = ["register", "cmd_analyze"]
