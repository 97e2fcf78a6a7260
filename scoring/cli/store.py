"""The store's sub-commands of ``python -m scoring`` (registered by :mod:`scoring.cli`).

``db init|upgrade``, ``round create|list|lock|unlock``, ``import``, ``export``, ``user add|password``,
``assign`` (automatic, or one pair with --proposal/--reviewer), ``conflict add|remove|list`` (conflicts of
interest, with a required reason, audited) and, in :mod:`scoring.cli.calls`, ``rank --round``. ``round stage`` and
``shortlist`` (the hearing stage) are in :mod:`scoring.cli.hearing`.
The command line acts as :data:`scoring.store.SYSTEM` (recorded as ``(cli)`` in the audit log): it is
run by whoever administers the server and the database file.
"""

from __future__ import annotations

import getpass
import json
import os
import sys

from ..errors import InputError, Problem
from ..store.db import default_url, make_engine
from ..store.store import Store
from ..store.times import parse_deadline
from ..store.users import check_username
from ..store.values import SYSTEM
from .hearing import add_stage_options, cmd_round_stage


def _store(args, create: bool = False):
    return Store(engine=make_engine(getattr(args, "db", None) or None), create=create)


def _round_ref(text: str):
    return int(text) if text.isdigit() else text


def _print(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=1, default=str) + "\n")


def round_call(args):
    """For ``rank --round``: the core Call and the chair's resolutions of one pack of a stored round."""
    store = _store(args)
    try:
        return store.rounds.call(SYSTEM, store.rounds.get_round(SYSTEM, _round_ref(args.round)).id, args.pack)
    finally:
        store.close()


# --- commands -------------------------------------------------------------------------------------------------

def cmd_db(args) -> int:
    from ..store.migrate import current, upgrade  # alembic is heavy: only `db init|upgrade` needs it

    url = args.db or default_url()
    engine = make_engine(url)
    try:
        before = current(engine)
        if args.action == "init" and before is not None:
            sys.stdout.write(f"already initialised (revision {before}); use `db upgrade` for newer migrations\n")
            return 0
        upgrade(engine)
        shown = engine.url.render_as_string(hide_password=True)
        sys.stdout.write(f"{shown}: schema at revision {current(engine)} (was {before or 'empty'})\n")
    finally:
        engine.dispose()
    return 0


def cmd_round(args) -> int:
    store = _store(args)
    try:
        if args.action == "create":
            info = store.rounds.create_round(SYSTEM, args.name, args.pack, args.description or "",
                                             deadline=args.deadline)
            _print({"id": info.id, "name": info.name, "packs": info.packs,
                    "deadline": info.deadline.isoformat() if info.deadline else None})
        elif args.action == "list":
            _print([{"id": r.id, "name": r.name, "status": r.status, "packs": r.packs, "proposals": r.n_proposals}
                    for r in store.rounds.list_rounds(SYSTEM)])
        else:
            rid = store.rounds.get_round(SYSTEM, _round_ref(args.name)).id
            info = (store.rounds.lock_round if args.action == "lock" else store.rounds.unlock_round)(SYSTEM, rid)
            _print({"id": info.id, "name": info.name, "status": info.status})
    finally:
        store.close()
    return 0


def cmd_import(args) -> int:
    if not (args.proposals or args.reviewers or args.reviews or args.stages or args.documents):
        raise InputError([Problem("(arguments)", None, "--proposals/--reviewers/--reviews/--stages/--documents",
                                  "give at least one file")])
    store = _store(args)
    try:
        rid = store.rounds.get_round(SYSTEM, _round_ref(args.round)).id
        out: dict = {"round": rid}
        if args.proposals or args.reviewers or args.reviews or args.stages:
            rep = store.rounds.import_files(SYSTEM, rid, args.proposals, args.reviewers, args.reviews, args.stages)
            out.update({"proposals": rep.proposals, "reviewers": rep.reviewers, "reviews": rep.reviews,
                        "users_created": rep.users_created, "assignments_created": rep.assignments_created})
        if args.documents:   # a second transaction, after the proposals it names (docs/cli.md)
            docs = store.documents.add_documents(SYSTEM, rid, args.documents)
            out["documents"] = len(docs)
        _print(out)
    finally:
        store.close()
    return 0


def cmd_export(args) -> int:
    store = _store(args)
    try:
        rid = store.rounds.get_round(SYSTEM, _round_ref(args.round)).id
        paths = store.rounds.export_files(SYSTEM, rid, args.out)
        _print({"round": rid, "files": [str(p) for p in paths]})
    finally:
        store.close()
    return 0


def _read_password(username: str) -> str:
    env = os.environ.get("SHINSA_PASSWORD")
    if env:
        return env
    if not sys.stdin.isatty():
        raise InputError([Problem("(arguments)", None, "password",
                                  "no terminal to ask for the password: set SHINSA_PASSWORD, or use --no-password")])
    first = getpass.getpass(f"password for {username}: ")
    second = getpass.getpass("again: ")
    if first != second:
        raise InputError([Problem("(arguments)", None, "password", "the two passwords differ")])
    return first


def cmd_user(args) -> int:
    store = _store(args)
    try:
        if args.action == "add":
            check_username(args.username)   # a reserved or empty name is refused before the password is asked
            password = None if args.no_password else _read_password(args.username)
            u = store.users.add_user(SYSTEM, args.username, args.name or args.username, args.role, password,
                                     args.external_id)
            _print({"username": u.username, "role": u.role, "has_password": u.has_password,
                    "external_id": u.external_id})
        elif args.action == "password":
            store.users.set_password(SYSTEM, args.username, _read_password(args.username))
            _print({"username": args.username, "password": "set"})
        else:
            _print([{"username": u.username, "name": u.display_name, "role": u.role, "active": u.active,
                     "has_password": u.has_password} for u in store.users.list_users(SYSTEM)])
    finally:
        store.close()
    return 0


def cmd_assign(args) -> int:
    store = _store(args)
    try:
        rid = store.rounds.get_round(SYSTEM, _round_ref(args.round)).id
        if args.proposal or args.reviewer:
            if not (args.proposal and args.reviewer):
                raise InputError([Problem("(arguments)", None, "--proposal/--reviewer", "give both, or neither")])
            if args.remove:
                store.assignments.unassign(SYSTEM, rid, args.proposal, args.reviewer)
            else:
                store.assignments.assign(SYSTEM, rid, args.proposal, args.reviewer)
            _print({"round": rid, "proposal_id": args.proposal, "reviewer": args.reviewer,
                    "assigned": not args.remove})
            return 0
        packs = [args.pack] if args.pack else list(store.rounds.get_round(SYSTEM, rid).packs)
        out = []
        for pack in packs:
            rep = store.assignments.auto_assign(SYSTEM, rid, pack, args.k)
            d = rep.design
            out.append({"pack": pack, "added": len(rep.added), "kept": rep.kept, "load": rep.load,
                        "design": {"connected": d.connected, "components": d.components, "reviewers": d.reviewers,
                                   "min_pair_overlap": d.min_pair_overlap, "max_pair_overlap": d.max_pair_overlap},
                        "unsatisfied": [{"proposal_id": u.proposal_id, "have": u.have, "wanted": u.wanted,
                                         "reason": u.reason} for u in rep.unsatisfied]})
        _print({"round": rid, "packs": out})
    finally:
        store.close()
    return 0


def _conflict_row(c) -> dict:
    return {"id": c.id, "reviewer": c.reviewer, "proposal_id": c.proposal_id, "organisation": c.organisation,
            "reason": c.reason, "source": c.source, "by": c.created_by, "at": c.created_at.isoformat()}


def cmd_conflict(args) -> int:
    store = _store(args)
    try:
        rid = store.rounds.get_round(SYSTEM, _round_ref(args.round)).id
        if args.action == "add":
            if not args.reviewer:
                raise InputError([Problem("(arguments)", None, "--reviewer", "`conflict add` needs --reviewer")])
            c = store.assignments.set_conflict(SYSTEM, rid, args.reviewer, proposal_id=args.proposal,
                                               organisation=args.organisation, reason=args.reason or "")
            _print(_conflict_row(c))
        elif args.action == "remove":
            if args.id is None:
                raise InputError([Problem("(arguments)", None, "--id",
                                          "`conflict remove` needs the conflict's --id (see `conflict list`)")])
            store.assignments.remove_conflict(SYSTEM, rid, args.id, reason=args.reason or "")
            _print({"round": rid, "removed": args.id})
        else:
            _print([_conflict_row(c) for c in store.assignments.list_conflicts(SYSTEM, rid, args.reviewer)])
    finally:
        store.close()
    return 0


# --- registration ---------------------------------------------------------------------------------------------

def register(sub) -> None:
    def db_opt(p):
        p.add_argument("--db", help="database URL (default: DATABASE_URL, else SQLite under SHINSA_DATA_DIR)")

    p = sub.add_parser("db", help="create (init) or upgrade the database schema")
    p.add_argument("action", choices=["init", "upgrade"])
    db_opt(p)
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("round", help="evaluation rounds (審査回): create, list, lock, unlock, stage (move a pack's "
                                     "stage: 書面審査 → ヒアリング対象の選定 → ヒアリング → 決定)")
    p.add_argument("action", choices=["create", "list", "lock", "unlock", "stage"])
    p.add_argument("name", nargs="?", help="the round's name (create) or id/name (lock, unlock, stage)")
    add_stage_options(p)
    p.add_argument("--pack", action="append", default=[],
                   help="a pack of the round (repeat for several); stage: the pack to move")
    p.add_argument("--description")
    p.add_argument("--deadline", help="create: the review deadline (評価締切), YYYY-MM-DD")
    db_opt(p)
    p.set_defaults(func=_round_checked)

    p = sub.add_parser("import", help="import canonical files into a round (all or nothing)")
    p.add_argument("--round", required=True)
    p.add_argument("--proposals")
    p.add_argument("--reviewers")
    p.add_argument("--reviews")
    p.add_argument("--stages", help="stages.json of `export`: each pack's stage, hearing shortlist and its edits")
    p.add_argument("--documents", help="the proposals' documents: a folder or a zip of <proposal id>_<anything>.pdf "
                                       "(docx, xlsx, png, jpg), or the documents.zip of `export`")
    db_opt(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="export a round to canonical files")
    p.add_argument("--round", required=True)
    p.add_argument("--out", required=True, help="a directory")
    db_opt(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("user", help="users: add, password, list")
    p.add_argument("action", choices=["add", "password", "list"])
    p.add_argument("username", nargs="?")
    p.add_argument("--role", choices=["chair", "reviewer", "secretariat"], default="reviewer")
    p.add_argument("--name", help="display name")
    p.add_argument("--external-id", dest="external_id", help="OIDC subject to link")
    p.add_argument("--no-password", dest="no_password", action="store_true",
                   help="no password (external login only, or set later)")
    db_opt(p)
    p.set_defaults(func=_user_checked)

    p = sub.add_parser("assign", help="assign reviewers: automatically (k per proposal) or one pair")
    p.add_argument("--round", required=True)
    p.add_argument("--pack", help="one pack (default: every pack of the round)")
    p.add_argument("--k", type=int, help="reviewers per proposal (default: the pack's min_reviews)")
    p.add_argument("--proposal")
    p.add_argument("--reviewer")
    p.add_argument("--remove", action="store_true", help="with --proposal/--reviewer: unassign")
    db_opt(p)
    p.set_defaults(func=cmd_assign)

    p = sub.add_parser("conflict", help="conflicts of interest (利益相反): add, remove (with a reason; audited), list")
    p.add_argument("action", choices=["add", "remove", "list"])
    p.add_argument("--round", required=True)
    p.add_argument("--reviewer", help="add: the reviewer's username; list: only theirs")
    p.add_argument("--proposal", help="add: the proposal id (or give --organisation)")
    p.add_argument("--organisation", help="add: an organisation name: every proposal it is part of")
    p.add_argument("--id", type=int, help="remove: the conflict's id (see `conflict list`)")
    p.add_argument("--reason", help="add, remove: why (required; logged)")
    db_opt(p)
    p.set_defaults(func=cmd_conflict)


def _round_checked(args) -> int:
    if args.action != "list" and not args.name:
        raise InputError([Problem("(arguments)", None, "name", f"`round {args.action}` needs the round's name")])
    if args.action == "create" and not args.pack:
        raise InputError([Problem("(arguments)", None, "--pack", "a round needs at least one --pack")])
    if args.deadline:
        if args.action != "create":
            raise InputError([Problem("(arguments)", None, "--deadline", "only with `round create`")])
        args.deadline = parse_deadline(args.deadline, "--deadline")   # refused before anything is opened
    if args.action == "stage":
        return cmd_round_stage(args)
    stage_only = [o for o, v in (("STAGE", args.target), ("--reason", args.reason),
                                 ("--shortlist-method", args.shortlist_method), ("--shortlist-n", args.n),
                                 ("--shortlist-multiple", args.multiple)) if v is not None]
    if stage_only:
        raise InputError([Problem("(arguments)", None, stage_only[0], "only with `round stage`")])
    return cmd_round(args)


def _user_checked(args) -> int:
    if args.action != "list" and not args.username:
        raise InputError([Problem("(arguments)", None, "username", f"`user {args.action}` needs a username")])
    return cmd_user(args)
