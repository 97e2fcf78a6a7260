"""A round's canonical files (formats.md): ``import_files`` and ``export_files`` of ``store.rounds``, and the
long review table of a pack's stored reviews — the rows the export writes and the frame the core is handed
(levels as integers, as the store holds them).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

import pandas as pd
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from ..call import assemble
from ..errors import InputError, Problem, ProblemCollector
from ..io import csv_bytes, read_json, read_proposals_raw, read_reviewers, read_reviews, write_atomic
from ..io.sources import source_name
from ..reviews import APPLICANT_COMMENT, REVIEW_COLUMNS, REVIEWER_COLUMNS
from ..models import Proposal, Reviewer, ReviewStatus, Role
from ..packs import CriteriaPack
from .base import ServiceBase, deny
from .errors import ConflictOfInterest
from .schema import (Assignment, Conflict, ProposalRow, Review, RoundMember, RoundPack, ShortlistEditRow, User,
                     utcnow)
from .stage_files import STAGES_FILE, check_stages, fixed_shortlists, stage_rows, write_stages
from .users import reserved_username
from .values import SYSTEM, AuditAction, ImportReport, UserInfo

MAX_NAMED = 10   # proposals named in a refusal message; more are counted
EXPORT_REVIEW_COLUMNS = REVIEW_COLUMNS + [APPLICANT_COMMENT]
"""reviews.csv of an export: the canonical columns and the optional ``applicant_comment`` (formats.md)."""


def review_rows(s: Session, round_id: int, pack: CriteriaPack, pack_id: str,
                with_position: bool = False) -> list[dict]:
    """The long review table (formats.md) of one pack's stored reviews: criteria in pack order, then bonuses.
    ``value`` is the level (or bonus mark) as an ``int``. A review's 「申請者への所見」 (one text) is the
    ``applicant_comment`` of its first row, blank on the others (docs/store.md)."""
    crit = pack.criterion_ids
    judged = [b.id for b in pack.judged_bonuses]
    hear = list(pack.hearing.criterion_ids) if pack.hearing is not None else []
    out = []
    q = (select(Review.status, Review.levels, Review.bonus_marks, Review.comments, Review.position, User.username,
                ProposalRow.proposal_id, Review.stage, Review.applicant_comment)
         .join(User, Review.user_id == User.id).join(ProposalRow, Review.proposal_pk == ProposalRow.id)
         .where(Review.round_id == round_id, ProposalRow.pack_id == pack_id).order_by(Review.position, Review.id))
    for status, levels, marks, comments, pos, username, pid, stage, for_applicant in s.execute(q):
        levels, marks, comments = levels or {}, marks or {}, comments or {}
        if stage == "hearing":   # a hearing review: items hearing:<id> (stages.md "Formats")
            items = [(f"hearing:{c}", levels.get(c), c) for c in hear]
        else:
            items = ([(c, levels.get(c), c) for c in crit]
                     + [(f"bonus:{b}", marks.get(b), f"bonus:{b}") for b in judged])
        pending = for_applicant or ""
        for n, (item, value, key) in enumerate(items):
            if value is None:
                continue
            row = {"reviewer_id": username, "proposal_id": pid, "item": item, "value": int(value),
                   "status": status, "comment": comments.get(key) or "", APPLICANT_COMMENT: pending}
            pending = ""
            if with_position:
                row["_pos"] = (pos, n)
            out.append(row)
    return out


def review_frame(s: Session, round_id: int, pack: CriteriaPack, pack_id: str) -> pd.DataFrame | None:
    """One pack's stored reviews as the core's long review table (``value`` an integer column), or None when
    there are none."""
    rows = review_rows(s, round_id, pack, pack_id)
    return pd.DataFrame(rows, columns=EXPORT_REVIEW_COLUMNS) if rows else None


class RoundFiles(ServiceBase):
    """The file side of ``store.rounds`` (:class:`~scoring.store.rounds.RoundService` derives from it)."""


    def import_files(self, actor: UserInfo, round_id: int, proposals: str | Path | None = None,
                     reviewers: str | Path | None = None, reviews: str | Path | None = None,
                     stages: str | Path | None = None, names: Mapping[str, str] | None = None) -> ImportReport:
        """Chair, secretariat: canonical files (formats.md) into the round, in one transaction — all or nothing;
        every problem of every file is raised together as :class:`scoring.errors.InputError`
        (``file:row:field: message``). Reviewers become users (no password) and committee members, their
        ``conflicts`` conflict declarations; each imported document review creates its assignment.

        ``stages``: a ``stages.json`` of :meth:`export_files` (:mod:`scoring.store.stage_files`) — each listed
        pack's stage, fixed shortlist, hearing parameters and shortlist edits (who and when kept), restored into
        packs still in stage document without edits. A hearing review (``hearing:<id>`` rows) of a proposal left
        out of its pack's fixed shortlist (the file's, else the stored one) is refused.

        ``names``: per file (``proposals``, ``reviewers``, ``reviews``, ``stages``) the name its user knows it by
        — an upload's own name, when the app wrote it to a temporary file; the audit entry records that name,
        never the temporary path (issue 14)."""
        found = ProblemCollector()
        raw_props, new_props = (found.run(read_proposals_raw, proposals, default=([], []))
                                if proposals is not None else ([], []))
        new_reviewers = found.run(read_reviewers, reviewers, default=[]) if reviewers is not None else []
        review_df = found.run(read_reviews, reviews) if reviews is not None else None
        stage_data = found.run(read_json, stages, name=source_name(stages, None, "(stages)")) \
            if stages is not None else None
        with self.db.write() as s:
            who = self._admin(s, actor, "import into a round")
            r = self._round(s, round_id, writable=True)
            found.raise_if_any()
            pack_ids = list(s.scalars(select(RoundPack.pack_id).where(RoundPack.round_id == r.id)))
            existing = self._proposal_rows(s, select(ProposalRow).where(ProposalRow.round_id == r.id)
                                           .order_by(ProposalRow.position))
            existing_ids = {p.proposal_id for p in existing}
            src = source_name(proposals, None, "(proposals)")
            for i, p in enumerate(new_props):
                if p.pack not in pack_ids:
                    found.add(Problem(src, f"[{i}]", "pack", f"proposal {p.id}: {p.pack!r} is not a pack of "
                                            f"round {r.name!r} (packs: {', '.join(pack_ids)})",
                                      "import.pack_not_in_round", {"proposal": p.id, "pack": p.pack, "round": r.name,
                                                                   "packs": ", ".join(pack_ids)}))
                if p.id in existing_ids:
                    found.add(Problem(src, f"[{i}]", "id", f"proposal {p.id!r} is already in round {r.name!r}",
                                      "import.proposal_exists", {"proposal": p.id, "round": r.name}))
            members = self._members(s, r.id)
            member_ids = {m.username for m in members}
            users = {u.username: u for u in s.scalars(select(User).where(
                User.username.in_([rv.reviewer_id for rv in new_reviewers])))} if new_reviewers else {}
            rsrc = source_name(reviewers, None, "(reviewers)")
            for j, rv in enumerate(new_reviewers):
                line = str(j + 2)
                if rv.reviewer_id in member_ids:
                    found.add(Problem(rsrc, line, "reviewer_id",
                                            f"{rv.reviewer_id!r} is already on the committee of round {r.name!r}",
                                      "import.reviewer_exists", {"reviewer": rv.reviewer_id, "round": r.name}))
                u = users.get(rv.reviewer_id)
                if u is not None and u.role == Role.secretariat:
                    found.add(Problem(rsrc, line, "reviewer_id",
                                            f"{rv.reviewer_id!r} is a secretariat user and cannot review",
                                      "import.reviewer_is_secretariat", {"reviewer": rv.reviewer_id}))
                if u is None and reserved_username(rv.reviewer_id):   # it would become a new account
                    found.add(Problem(rsrc, line, "reviewer_id", f"{rv.reviewer_id[:80]!r} is reserved for the "
                                      f"system (like {SYSTEM.username!r}, no name may start or end with a "
                                      "parenthesis)", "import.reviewer_reserved", {"reviewer": rv.reviewer_id}))
            all_models = self._models_of(s, existing) + new_props
            all_reviewers = [Reviewer(reviewer_id=m.username, name=m.name, role=m.role, conflicts=m.conflicts)
                             for m in members] + new_reviewers
            if review_df is not None and not found:
                for pid in pack_ids:
                    with found.catching():
                        assemble(self.store._pack(s, r.id, pid), all_models, review_df, all_reviewers, str(reviews),
                                 proposals_source=src, known_packs=pack_ids)
                if not found:
                    known = {p.id for p in all_models}
                    stray = review_df[~review_df["proposal_id"].isin(list(known))]
                    for line, pid in zip(stray["_line"], stray["proposal_id"]):
                        found.add(Problem(str(reviews), str(line), "proposal_id",
                                          f"{pid!r} is not a proposal of round {r.name!r}",
                                          "import.not_in_round", {"proposal": pid, "round": r.name}))
            stage_entries = None
            if stages is not None and not found:
                pack_rows = {k.pack_id: k for k in s.scalars(select(RoundPack).where(RoundPack.round_id == r.id))}
                edited = set(s.scalars(select(ShortlistEditRow.pack_id).where(ShortlistEditRow.round_id == r.id)))
                stage_entries, probs = check_stages(
                    stage_data, source_name(stages, None, "(stages)"),
                    {pid: self.store._pack(s, r.id, pid) for pid in pack_ids}, pack_rows,
                    {p.id: p.pack for p in all_models}, edited)
                found.add(*probs)
            if review_df is not None and not found:
                self._check_hearing_reviews(s, r.id, review_df, str(reviews), {p.id: p.pack for p in all_models},
                                            stage_entries, found)
            found.raise_if_any()

            # everything validated: write
            pos0 = (max((p.position for p in existing), default=-1)) + 1
            prop_rows: dict[str, ProposalRow] = {p.proposal_id: p for p in existing}
            for i, (raw, p) in enumerate(zip(raw_props, new_props)):
                row = ProposalRow(round_id=r.id, proposal_id=p.id, pack_id=p.pack, title=p.title,
                                  position=pos0 + i, data=raw)
                s.add(row)
                prop_rows[p.id] = row
            s.flush()
            created = []
            user_of: dict[str, User] = {}
            mpos = (s.scalar(select(func.max(RoundMember.position)).where(RoundMember.round_id == r.id)) or 0) + 1
            for j, rv in enumerate(new_reviewers):
                u = users.get(rv.reviewer_id)
                if u is None:
                    u = User(username=rv.reviewer_id, display_name=rv.name or rv.reviewer_id,
                             role=Role(rv.role.value), password_hash=None,
                             active=True, failed_logins=0, created_at=utcnow())
                    s.add(u)
                    s.flush()
                    created.append(rv.reviewer_id)
                s.add(RoundMember(round_id=r.id, user_id=u.id, name=rv.name, role=rv.role.value, position=mpos + j))
                for k, token in enumerate(rv.conflicts):
                    prow = prop_rows.get(token)
                    s.add(Conflict(round_id=r.id, user_id=u.id, proposal_pk=prow.id if prow else None,
                                   organisation=None if prow else token, reason="", source="import",
                                   position=k, created_at=utcnow(), created_by=who.username))
            s.flush()
            n_reviews = n_assign = 0
            if review_df is not None and len(review_df):
                uid_of = dict(s.execute(select(User.username, User.id).join(RoundMember, RoundMember.user_id == User.id)
                                        .where(RoundMember.round_id == r.id)).all())
                groups: dict[tuple[str, str], dict] = {}
                blank = [""] * len(review_df)
                for rid, pid, item, value, status, comment, for_applicant in zip(
                        review_df["reviewer_id"], review_df["proposal_id"], review_df["item"], review_df["value"],
                        review_df["status"], review_df["comment"] if "comment" in review_df else blank,
                        review_df[APPLICANT_COMMENT] if APPLICANT_COMMENT in review_df else blank):
                    hearing = item.startswith("hearing:")   # a hearing review's item (stages.md "Formats")
                    if hearing:
                        item = item[8:]
                    g = groups.setdefault((rid, pid, "hearing" if hearing else "document"),
                                          {"levels": {}, "bonus_marks": {}, "comments": {}, "status": status,
                                           "applicant": []})
                    if item.startswith("bonus:"):
                        g["bonus_marks"][item[6:]] = int(float(value))
                    else:
                        g["levels"][item] = int(float(value))
                    if comment:
                        g["comments"][item] = comment
                    text = "" if for_applicant is None else str(for_applicant).strip()
                    if text and text not in g["applicant"]:   # one text per review: distinct cells joined
                        g["applicant"].append(text)
                taken = set(s.execute(select(Review.user_id, Review.proposal_pk, Review.stage)
                                      .where(Review.round_id == r.id)).all())
                assigned = set(s.execute(select(Assignment.user_id, Assignment.proposal_pk)
                                         .where(Assignment.round_id == r.id)).all())
                conflicted = self._conflict_pairs(s, r.id, list(prop_rows.values()))
                rpos = (s.scalar(select(func.max(Review.position)).where(Review.round_id == r.id)) or 0) + 1
                now = utcnow()
                new_reviews: list[dict] = []
                assign_rows: list[dict] = []
                # every review already in the round, not only the first (nothing is written on any)
                found.add(*[Problem(str(reviews), None, "reviewer_id", f"a review by {rid!r} of {pid!r} is already "
                                    "in the round", "import.review_exists", {"reviewer": rid, "proposal": pid})
                            for (rid, pid, stage) in groups if (uid_of[rid], prop_rows[pid].id, stage) in taken])
                found.raise_if_any()
                for n, ((rid, pid, stage), g) in enumerate(groups.items()):
                    uid, prow = uid_of[rid], prop_rows[pid]
                    new_reviews.append(dict(
                        round_id=r.id, proposal_pk=prow.id, user_id=uid, status=g["status"], version=1,
                        levels=g["levels"], comments=g["comments"], bonus_marks=g["bonus_marks"], overall_comment="",
                        applicant_comment="\n".join(g["applicant"]),
                        created_at=now, updated_at=now, updated_by=who.username,
                        submitted_at=now if g["status"] == ReviewStatus.submitted else None, position=rpos + n,
                        stage=stage))
                    if stage == "document" and (uid, prow.id) not in assigned and (uid, pid) not in conflicted:
                        assign_rows.append(dict(round_id=r.id, proposal_pk=prow.id, user_id=uid, created_at=now,
                                                created_by=who.username))
                        assigned.add((uid, prow.id))
                # bulk Core inserts (executemany / insertmanyvalues): the ORM's unit of work per row took ~1 ms each
                for table, rows in ((Review.__table__, new_reviews), (Assignment.__table__, assign_rows)):
                    for k in range(0, len(rows), 5000):
                        s.execute(insert(table), rows[k:k + 5000])
                n_reviews, n_assign = len(new_reviews), len(assign_rows)
            if stage_entries is not None:
                write_stages(s, r.id, stage_entries, pack_rows, {pid: row.id for pid, row in prop_rows.items()})
            self._audit(s, who, AuditAction.round_import, "import", round_id=r.id,
                        after={"proposals": len(new_props), "reviewers": len(new_reviewers), "reviews": n_reviews,
                               "assignments": n_assign, "users_created": created,
                               **({"stages": {e["pack"]: e["stage"] for e in stage_entries}}
                                  if stage_entries is not None else {}),
                               "files": [str((names or {}).get(kind, x)) for kind, x in (
                                   ("proposals", proposals), ("reviewers", reviewers), ("reviews", reviews),
                                   ("stages", stages)) if x is not None]})
            report = ImportReport(r.id, len(new_props), len(new_reviewers), n_reviews, created, n_assign)
            parsed = [(prop_rows[p.id].id, p) for p in new_props]
        # committed: the store keeps the models it has just validated, so that the page drawn next parses none of
        # the proposals again (issue 15); not before the commit — a rolled-back row's key would be used again
        self.store._keep_models(parsed)
        return report

    def _check_hearing_reviews(self, s: Session, round_id: int, review_df, src: str, pack_of: dict[str, str],
                               stage_entries: list[dict] | None, found: ProblemCollector) -> None:
        """A hearing review of a proposal its pack's fixed shortlist leaves out is refused (stages.md §3)."""
        fixed = fixed_shortlists(s, round_id, stage_entries)
        for line, pid, item in zip(review_df["_line"], review_df["proposal_id"], review_df["item"]):
            if not str(item).startswith("hearing:"):
                continue
            short = fixed.get(pack_of.get(pid))
            if short is not None and pid not in short:
                found.add(Problem(src, str(line), "proposal_id", f"hearing review of {pid!r}: the proposal is not "
                                  f"on the fixed hearing shortlist of pack {pack_of.get(pid)}"))

    def export_files(self, actor: UserInfo, round_id: int, out_dir: str | Path) -> list[Path]:
        """Chair: write ``proposals.json``, ``reviewers.csv``, ``reviews.csv`` (canonical formats, written
        atomically), ``assignments.csv`` and ``stages.json`` (each pack's stage, fixed shortlist, hearing
        parameters and shortlist edits; :mod:`scoring.store.stage_files`) and ``documents.zip`` (the proposals'
        documents with their manifest; :meth:`DocumentService.export_zip`); importing them into an empty round
        (``import_files(…, stages=…)``) gives the same data back.

        The export is the whole round, every review included: a chair with a conflict of interest in the round is
        refused (:class:`ConflictOfInterest`, naming the proposals) and nothing is written — another chair, or the
        command line (``python -m scoring export``), exports it. A partial export would look like a complete
        record and re-import as one (docs/security/coi.md)."""
        out = Path(out_dir)
        with self.db.read() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise deny(who, "export a round (it holds the reviews)")
            r = self._round(s, round_id)
            withheld = self._withheld(s, who, r.id)
            if withheld:
                order = {pid: k for k, pid in enumerate(s.scalars(select(ProposalRow.proposal_id).where(
                    ProposalRow.round_id == r.id).order_by(ProposalRow.position)))}
                ids = sorted(withheld, key=lambda p: order.get(p, len(order)))
                more = len(ids) - MAX_NAMED
                shown = ", ".join(ids[:MAX_NAMED]) + (f" and {more} more" if more > 0 else "")
                raise ConflictOfInterest(
                    f"{who.username} has a conflict of interest with {shown}: the export holds every review of round "
                    f"{r.name!r}, so it is refused — another chair, or the command line (python -m scoring export), "
                    "can export it")
            props = list(s.scalars(select(ProposalRow).where(ProposalRow.round_id == r.id)
                                   .order_by(ProposalRow.position)))
            members = self._members(s, r.id)
            rows = []
            for pid in s.scalars(select(RoundPack.pack_id).where(RoundPack.round_id == r.id).order_by(RoundPack.id)):
                rows.extend(review_rows(s, r.id, self.store._pack(s, r.id, pid), pid, with_position=True))
            rows.sort(key=lambda x: x.pop("_pos"))
            stage_state = stage_rows(s, r.id)
            assigns = list(s.execute(select(User.username, ProposalRow.proposal_id)
                                     .join(Assignment, Assignment.user_id == User.id)
                                     .join(ProposalRow, Assignment.proposal_pk == ProposalRow.id)
                                     .where(Assignment.round_id == r.id).order_by(ProposalRow.position, User.username)))
        # the optional applicant_comment column only when a review has one: a round without any exports exactly
        # the canonical columns it was imported from
        columns = EXPORT_REVIEW_COLUMNS if any(x[APPLICANT_COMMENT] for x in rows) else REVIEW_COLUMNS
        out.mkdir(parents=True, exist_ok=True)
        files = {
            "proposals.json": (json.dumps([p.data for p in props], ensure_ascii=False, indent=1) + "\n").encode("utf-8"),
            "reviewers.csv": csv_bytes(REVIEWER_COLUMNS, [[m.username, m.name, m.role, ";".join(m.conflicts)]
                                                          for m in members]),
            "reviews.csv": csv_bytes(columns, [[x[c] for c in columns] for x in rows]),
            "assignments.csv": csv_bytes(["reviewer_id", "proposal_id"], [list(a) for a in assigns]),
            STAGES_FILE: (json.dumps(stage_state, ensure_ascii=False, indent=1) + "\n").encode("utf-8"),
        }
        paths = []
        for name, data in files.items():
            write_atomic(out / name, data)
            paths.append(out / name)
        paths.append(self.store.documents.export_zip(actor, r.id, out))   # documents.zip (store/documents.py)
        return paths
