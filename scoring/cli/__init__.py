"""The command line of formats.md: ``python -m scoring validate-pack | check | rank | …``.

Exit codes: 0 done; 2 invalid input or arguments (``file:row:field: message`` lines on stderr, nothing
written); 1 an internal error. Output files are written whole or not at all.

One module per verb group, each with ``register(subparsers)``:

- :mod:`scoring.cli.calls` — ``validate-pack``, ``check``, ``rank`` (files, or ``--round``);
- :mod:`scoring.cli.store` — ``db``, ``user``, ``round``, ``import``, ``export``, ``assign`` (the store);
- :mod:`scoring.cli.hearing` — ``round stage``, ``shortlist`` (the hearing stage of a stored round);
- :mod:`scoring.cli.excel` — ``template``, ``import-sheets``, ``intake-template`` (offline workbooks);
- :mod:`scoring.cli.analytics` — ``analyze`` (beyond the funding line);
- :mod:`scoring.cli.decide` — ``decide`` (the committee's decisions and notices, decisions.md);
- :mod:`scoring.cli.common` — what they share (usage error, output, the what-if options).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from typing import Callable

from ..errors import InputError, ShinsaError
from . import analytics, calls, decide, excel, hearing, store
from .common import Parser, UsageError, emit, json_bytes, params_from_args

__all__ = ["main", "build_parser", "emit", "json_bytes", "params_from_args", "UsageError"]

GROUPS = (calls, store, hearing, excel, analytics, decide)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m scoring", description="Shinsa (審査): proposal scoring for evaluation committees")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for group in GROUPS:
        group.register(sub)
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
