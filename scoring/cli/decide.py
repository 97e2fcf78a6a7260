"""``python -m scoring decide`` (decisions.md "Command line"): the proposed decisions of the final ranking, or —
with ``--decisions FILE`` — the committee's changes applied and checked; ``--notices DIR [--feedback]`` writes one
notice per proposal. Any broken rule exits 2 with ``FILE:row:field: message`` lines and writes nothing."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from ..call import assemble
from ..decision_rules import decide
from ..errors import InputError, Problem
from ..io import csv_bytes
from ..io.call import read_inputs
from ..io.clock import local_tz
from ..io.sources import source_name
from ..io.tables import read_decisions, read_shortlist
from ..labels import label
from ..notices_data import notice_fields
from .common import UsageError, add_rank_options, emit, json_bytes, params_from_args


def _notice_date(text: str | None) -> date:
    if text is None:
        return datetime.now(local_tz()).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError([Problem("(arguments)", None, "--notice-date",
                                  f"must be a date YYYY-MM-DD (got {text[:40]!r})")]) from None


def cmd_decide(args) -> int:
    if args.budget is not None and args.budget < 0:
        raise InputError([Problem("(arguments)", None, "--budget", f"must not be negative (got {args.budget})")])
    hearing = args.stage == "hearing"
    if args.shortlist is not None and not hearing:
        raise UsageError("--shortlist changes the hearing shortlist: use it with --stage hearing")
    if args.feedback and args.notices is None:
        raise UsageError("--feedback adds feedback to the notices: use it with --notices DIR")
    notice_date = _notice_date(args.notice_date)
    inputs = read_inputs(args.pack, args.proposals, args.reviews, args.reviewers)
    call = assemble(inputs.pack, inputs.proposals, inputs.reviews, inputs.reviewers,
                    source_name(args.reviews, None, "(reviews)"),
                    proposals_source=source_name(args.proposals, None, "(proposals)"))
    params = params_from_args(call.pack, args)
    if hearing:
        edits = read_shortlist(args.shortlist) if args.shortlist is not None else []
        shown = source_name(args.shortlist, None, "(shortlist)") if args.shortlist is not None else "shortlist"
        ranking = call.rank_hearing(params, edits, edits_source=shown)
    else:
        ranking = call.rank(params)
    changes, shown = [], "decisions"
    if args.decisions is not None:
        shown = source_name(args.decisions, None, "(decisions)")
        changes = read_decisions(args.decisions, name=shown)
    mine = {p.id for p in call.proposals}
    others = {p.id for p in inputs.proposals if p.id not in mine}
    decisions = decide(ranking, changes, source=shown, other_pack_ids=others)   # exit 2 on any broken rule
    if args.format == "json":
        data = json_bytes(decisions.to_dict())
    elif args.format == "csv":
        data = csv_bytes(*decisions.csv_table())
    else:
        try:  # lazy: openpyxl only for --format xlsx
            from ..io.decision_sheets import decisions_workbook
        except ImportError:
            raise UsageError("--format xlsx is not available in this build") from None
        data = decisions_workbook(decisions)
    if args.notices is not None:
        try:  # lazy: the docx adapter only for --notices
            from ..io.notices import write_notices
        except ImportError:
            raise UsageError("--notices is not available in this build (scoring.io.notices)") from None
        fields = notice_fields(decisions, round_name=args.round_name or "", notice_date=notice_date,
                               sender=args.sender or label("notice.default_sender"),
                               with_feedback=args.feedback)
        out_dir = Path(args.notices)
        out_dir.mkdir(parents=True, exist_ok=True)
        write_notices(out_dir, fields)
    emit(args.out, data)
    return 0


def register(sub) -> None:
    p = sub.add_parser("decide", help="the committee's decisions after the ranking (decisions.md)")
    p.add_argument("--pack", required=True)
    p.add_argument("--proposals", required=True)
    p.add_argument("--reviews", required=True)
    p.add_argument("--reviewers")
    add_rank_options(p)
    p.add_argument("--stage", choices=["document", "hearing"], default="document",
                   help="hearing: decide on the final ranking of both stages (stages.md)")
    p.add_argument("--shortlist", help="with --stage hearing: the chair's changes, CSV proposal_id,action,reason")
    p.add_argument("--decisions", help="the committee's changes, CSV proposal_id,decision,awarded_yen,"
                                       "approved_cost_yen,conditions,reason,reserve_position")
    p.add_argument("--notices", metavar="DIR", help="write one <proposal_id>.docx notice per proposal (and a zip)")
    p.add_argument("--feedback", action="store_true",
                   help="with --notices: feedback in the notices of reserve and not adopted proposals")
    p.add_argument("--round-name", dest="round_name", help="the round named in the notices")
    p.add_argument("--sender", help="the sender named in the notices")
    p.add_argument("--notice-date", dest="notice_date", type=str, help="the notices' date, YYYY-MM-DD (default: "
                                                                        "today in JST)")
    p.add_argument("--format", choices=["json", "csv", "xlsx"], default="json")
    p.add_argument("--out", default="-")
    p.set_defaults(func=cmd_decide)


__all__ = ["register", "cmd_decide"]
