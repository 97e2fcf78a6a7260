"""What every sub-command of ``python -m scoring`` shares: the usage error, the parser class, writing output,
the what-if options of ``rank``/``analyze`` and their parameters."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import InputError, Problem, ShinsaError
from ..io import write_atomic
from ..money import MoneyError, parse_yen
from ..params import WhatIf, WhatIfError


class UsageError(ShinsaError):
    pass


class Parser(argparse.ArgumentParser):
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


def whatif_from_args(args) -> WhatIf:
    """The what-if options of ``rank``/``analyze`` (unset options: the pack's own values); a bad value is
    refused naming the option (exit 2)."""
    try:
        return WhatIf.from_overrides(aggregation=args.aggregation, normalization=args.normalization,
                                     selection=args.selection, waitlist=args.waitlist, budget=args.budget,
                                     pass_line=getattr(args, "pass_line", None))
    except WhatIfError as exc:
        option = "--" + exc.key.replace("_", "-")
        raise InputError([Problem("(arguments)", None, option, str(exc).split(": ", 1)[-1])]) from None


def params_from_args(pack, args):
    return whatif_from_args(args).params(pack)


def yen_arg(text: str) -> int:
    try:
        return parse_yen(text)
    except MoneyError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_rank_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--budget", type=yen_arg, help="budget in yen (or the capacity count of a capacity pack)")
    p.add_argument("--aggregation", choices=["mean", "median", "trimmed"])
    p.add_argument("--normalization", choices=["none", "zscore"])
    p.add_argument("--selection", choices=["greedy_skip", "greedy_stop"])
    p.add_argument("--waitlist", type=int)
    p.add_argument("--pass-line", type=float, dest="pass_line")


