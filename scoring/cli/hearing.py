"""The hearing stage of a stored round on the command line (stages.md; docs/cli.md "Hearing stage in the store"):

- ``round stage ROUND [--pack P] STAGE [--reason …] [--shortlist-method … --shortlist-n N --shortlist-multiple M]``
  moves a pack's stage (:meth:`scoring.store.hearings.HearingService.set_stage`: one step forward, back with a
  reason; audited);
- ``shortlist add|remove ROUND [--pack P] PROPOSAL --reason …`` and ``shortlist list ROUND [--pack P]``;
- ``rank --round R [--pack P] --stage hearing`` (in :mod:`scoring.cli.calls`) ranks both stages from the store
  (:func:`round_hearing`): the stored shortlist edits and hearing parameters, the hearing reviews.

Like the other store verbs, the command line acts as :data:`scoring.store.SYSTEM` (``(cli)`` in the audit log):
it has the chair's rights. Refusals (a move the store does not allow, a shortlist row the core refuses) exit 2
with the store's message.
"""

from __future__ import annotations

import json
import sys

from ..errors import InputError, Problem
from ..hearing_ranking import HearingParams
from ..params import WhatIfError
from ..store.db import make_engine
from ..store.store import Store
from ..store.values import SYSTEM

__all__ = ["cmd_round_stage", "cmd_shortlist", "round_hearing", "add_stage_options", "register"]

_METHOD_OPTIONS = {"shortlist_method": "--shortlist-method", "n": "--shortlist-n", "multiple": "--shortlist-multiple"}


def open_store(args) -> Store:
    return Store(engine=make_engine(getattr(args, "db", None) or None))


def _ref(text: str):
    return int(text) if str(text).isdigit() else text


def _print(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=1, default=str) + "\n")


def _stage_row(info) -> dict:
    return {"round": info.round_id, "pack": info.pack_id, "stage": info.stage, "has_hearing": info.has_hearing,
            "shortlist": None if info.shortlist is None else list(info.shortlist),
            "hearing_params": info.hearing_params}


def _hearing_choice(args, pack) -> HearingParams | None:
    """The chair's what-if of the shortlist method (``--shortlist-method/-n/-multiple``) on the pack's hearing
    defaults, or None when no option is given; a bad value is refused naming the option."""
    given = {k: getattr(args, k, None) for k in _METHOD_OPTIONS}
    given = {k: v for k, v in given.items() if v is not None}
    if not given:
        return None
    if pack.hearing is None:
        raise InputError([Problem("(arguments)", None, "--shortlist-method",
                                  f"pack {pack.id} has no hearing section: it has no shortlist")])
    try:
        return HearingParams.from_pack(pack, **given)
    except WhatIfError as exc:
        key = {"shortlist.method": "shortlist_method", "shortlist.n": "n", "shortlist.multiple": "multiple"}.get(
            exc.key, exc.key)
        option = _METHOD_OPTIONS.get(key, "--shortlist-method")
        raise InputError([Problem("(arguments)", None, option, str(exc).split(": ", 1)[-1])]) from None


def cmd_round_stage(args) -> int:
    """``round stage ROUND [--pack P] STAGE --reason … [--shortlist-method …]``."""
    if not args.target:
        raise InputError([Problem("(arguments)", None, "stage", "`round stage` needs the stage to move to "
                                  "(document, shortlist, hearing, decided)")])
    store = open_store(args)
    try:
        rid = store.rounds.get_round(SYSTEM, _ref(args.name)).id
        if len(args.pack) > 1:
            raise InputError([Problem("(arguments)", None, "--pack", "`round stage` moves one pack: give one --pack")])
        pack_id = args.pack[0] if args.pack else None
        hearing = _hearing_choice(args, store.rounds.pack(rid, pack_id))
        if hearing is not None and args.target not in ("shortlist", "hearing"):
            raise InputError([Problem("(arguments)", None, "--shortlist-method",
                                      "the shortlist method is chosen when moving to shortlist or hearing")])
        info = store.hearings.set_stage(SYSTEM, rid, pack_id, args.target, args.reason or "", hearing=hearing)
        _print(_stage_row(info))
    finally:
        store.close()
    return 0


def cmd_shortlist(args) -> int:
    """``shortlist add|remove ROUND [--pack P] PROPOSAL --reason …`` and ``shortlist list ROUND [--pack P]``."""
    if args.action != "list" and not args.proposal:
        raise InputError([Problem("(arguments)", None, "proposal", f"`shortlist {args.action}` needs the proposal id")])
    if args.action == "list" and args.proposal:
        raise InputError([Problem("(arguments)", None, "proposal", "`shortlist list` takes no proposal")])
    store = open_store(args)
    try:
        rid = store.rounds.get_round(SYSTEM, _ref(args.round)).id
        if args.action == "list":
            info = store.hearings.get_stage(SYSTEM, rid, args.pack)
            if not info.has_hearing:
                raise InputError([Problem("(arguments)", None, "--pack",
                                          f"pack {info.pack_id} has no hearing section: it has no shortlist")])
            edits = store.hearings.list_edits(SYSTEM, rid, info.pack_id)
            fixed = info.shortlist is not None
            if fixed:
                current = list(info.shortlist)
            else:   # not fixed yet: the method's cut (the chosen parameters) with the stored edits, as of now
                current = store.hearings.rank_hearing_round(SYSTEM, rid, info.pack_id, strict=False).shortlist_ids()
            _print({**_stage_row(info), "shortlist": current, "fixed": fixed,
                    "edits": [{"id": int(e.row), **e.as_dict()} for e in edits]})
        else:
            fn = store.hearings.add_to_shortlist if args.action == "add" else store.hearings.remove_from_shortlist
            e = fn(SYSTEM, rid, args.pack, args.proposal, args.reason or "")
            _print({"round": rid, "id": int(e.row), **e.as_dict()})
    finally:
        store.close()
    return 0


def round_hearing(args, params_of):
    """For ``rank --round … --stage hearing``: ``(ranking, call)`` of both stages of one pack from the store — the
    stored edits and the hearing parameters the chair chose (the pack's until then). ``params_of(pack)`` gives
    the run's parameters (the what-if options)."""
    store = open_store(args)
    try:
        rid = store.rounds.get_round(SYSTEM, _ref(args.round)).id
        call, _ = store.rounds.call(SYSTEM, rid, args.pack)
        ranking = store.hearings.rank_hearing_round(SYSTEM, rid, call.pack.id, params=params_of(call.pack))
        return ranking, call
    finally:
        store.close()


def add_stage_options(p) -> None:
    """``round``'s options for ``round stage`` (the round parser lives in :mod:`scoring.cli.store`)."""
    p.add_argument("target", nargs="?", metavar="STAGE",
                   help="stage: the stage to move to (document, shortlist, hearing, decided)")
    p.add_argument("--reason", help="stage: why (required to move back; logged)")
    p.add_argument("--shortlist-method", dest="shortlist_method", choices=["top_n", "budget_multiple", "line"],
                   help="stage (to shortlist/hearing): the shortlist method (default: the pack's)")
    p.add_argument("--shortlist-n", dest="n", type=int, help="with --shortlist-method top_n: N")
    p.add_argument("--shortlist-multiple", dest="multiple",
                   help="with --shortlist-method budget_multiple: M (e.g. 1.5)")


def register(sub) -> None:
    p = sub.add_parser("shortlist", help="the hearing shortlist of a stored round: add, remove (with a reason; "
                                         "audited), list")
    p.add_argument("action", choices=["add", "remove", "list"])
    p.add_argument("round", help="the round's id or name")
    p.add_argument("proposal", nargs="?", help="add, remove: the proposal id")
    p.add_argument("--pack", help="the pack (needed if the round has several)")
    p.add_argument("--reason", help="add, remove: why (required; logged)")
    p.add_argument("--db", help="database URL (default: DATABASE_URL, else SQLite under SHINSA_DATA_DIR)")
    p.set_defaults(func=cmd_shortlist)
