"""The long review table (one row per reviewer × proposal × item) validated against a pack — no file I/O.

Every adapter hands the same columns (:data:`REVIEW_COLUMNS`): the CSV reader as text, the store and the score
sheets as Python values. :func:`build_review_table` checks them against the pack and builds the level matrix of
:class:`scoring.table.ReviewTable`, listing every problem as ``source:row:field: message``.
"""

from __future__ import annotations

import difflib
from enum import Enum
from typing import Any, Iterable, NamedTuple, Sequence

import numpy as np
import pandas as pd

from .errors import InputError, Problem, quote
from .models import Proposal, Reviewer, ReviewStatus
from .packs import SHIPPED_PACKS, CriteriaPack
from .table import ProposalTable, ReviewTable

REVIEW_COLUMNS = ["reviewer_id", "proposal_id", "item", "value", "status", "comment"]
APPLICANT_COMMENT = "applicant_comment"   # optional column (formats.md): 「申請者への所見」, may reach a notice
REVIEWER_COLUMNS = ["reviewer_id", "name", "role", "conflicts"]


def split_by_pack(proposals: Sequence[Proposal], pack: CriteriaPack, known_packs: Iterable[str] = (),
                  source: str = "(proposals)") -> tuple[list[Proposal], int]:
    """The proposals of ``pack`` and how many proposals of other known packs were skipped.

    Known packs are the shipped ones (:data:`scoring.packs.SHIPPED_PACKS`), ``pack`` itself and
    ``known_packs`` (e.g. the packs of a stored round). A proposal naming any other pack — a typo such as
    ``autonomous_14`` — is not silently skipped: :class:`InputError` names it as ``source:[i]:pack``.
    """
    known = set(SHIPPED_PACKS) | set(known_packs) | {pack.id}
    problems = []
    for i, p in enumerate(proposals):
        if p.pack not in known:
            close = difflib.get_close_matches(p.pack, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(Problem(source, f"[{i}]", "pack",
                                    f"proposal {quote(p.id)}: unknown pack {quote(p.pack)} "
                                    f"(known packs: {', '.join(sorted(known))}){hint}"))
            if len(problems) >= 100:
                break
    if problems:
        raise InputError(problems)
    mine = [p for p in proposals if p.pack == pack.id]
    return mine, len(proposals) - len(mine)


def reviews_from_rows(rows: Iterable[dict]) -> pd.DataFrame:
    """A long review table from dicts (e.g. the store), same columns and text as the CSV (3 → ``"3"``)."""
    rows = list(rows)
    return pd.DataFrame({c: pd.Series([_cell_text(r.get(c)) for r in rows], dtype=object) for c in REVIEW_COLUMNS},
                        columns=REVIEW_COLUMNS)


def build_review_table(df: pd.DataFrame, pack: CriteriaPack, table: ProposalTable, all_ids: set[str],
                       source: str, reviewers: list[Reviewer] | None = None) -> ReviewTable:
    """Validate the long review table against the pack and build the level matrix — vectorised.

    ``df`` has the columns of :data:`REVIEW_COLUMNS` (``comment`` optional; ``applicant_comment`` optional, kept
    apart in :attr:`~scoring.table.ReviewTable.applicant_comments`) and optionally ``_line`` (the row
    named in messages; else the CSV line 2, 3, …); cells may be the CSV's strings or Python values — ``value``
    an int (or an integral float), a missing cell ``None`` — and both are checked with the same messages.
    Rows for proposals of other packs (present in the proposals file) are skipped; every other problem is
    listed: unknown proposal, unknown criterion or bonus, level outside the scale, duplicate item, unknown
    status or reviewer, mixed status within one review, and a submitted review missing a criterion.

    Items ``hearing:<criterion id>`` are the hearing stage's (stages.md "Formats"): accepted for a pack with a
    ``hearing`` section (and refused for any other), their status per (reviewer, proposal, stage); they form the
    table's :attr:`~scoring.table.ReviewTable.hearing` (levels over the hearing criteria, no marks).
    """
    if "comment" not in df.columns:
        df = df.assign(comment="")
    if "_line" not in df.columns:
        df = df.assign(_line=np.arange(2, len(df) + 2))
    problems: list[Problem] = []
    lines = df["_line"].to_numpy()

    def report(mask: np.ndarray, field: str, make, code: str = "", args=None) -> None:
        for j in np.nonzero(mask)[0]:
            problems.append(Problem(source, str(lines[j]), field, make(j), code, args(j) if args else {}))

    # every column as the CSV's text, so that the store's integers are checked (and named) as the CSV's strings
    pid = _text_column(df["proposal_id"])
    rid = _text_column(df["reviewer_id"])
    item = _text_column(df["item"])
    value_s = _text_column(df["value"])
    status = _text_column(df["status"])

    report(rid == "", "reviewer_id", lambda j: "required field is empty", "value.empty", lambda j: {"got": ""})
    unknown_prop = ~_isin(pid, all_ids)
    report(unknown_prop, "proposal_id", lambda j: f"{quote(pid[j])} is not a proposal in the proposals file",
           "reviews.unknown_proposal", lambda j: {"proposal": pid[j]})
    row_of = table.index_of()
    prop_idx = np.array([row_of.get(p, -1) for p in pid], dtype=np.int64)
    mine = prop_idx >= 0
    if reviewers is not None:
        known_r = {r.reviewer_id for r in reviewers}
        report(mine & ~_isin(rid, known_r) & (rid != ""), "reviewer_id",
               lambda j: f"{quote(rid[j])} is not in the reviewers file",
               "reviews.unknown_reviewer", lambda j: {"reviewer": rid[j]})
    bad_status = mine & ~_isin(status, [s.value for s in ReviewStatus])
    report(bad_status, "status", lambda j: f"{quote(status[j])} is not one of ['submitted', 'draft']",
           "reviews.bad_status", lambda j: {"got": status[j]})

    crit_ids = pack.criterion_ids
    judged = [b.id for b in pack.judged_bonuses]
    bonus_items = [f"bonus:{b}" for b in judged]
    hear_ids = pack.hearing.criterion_ids if pack.hearing is not None else []
    hear_items = [f"hearing:{c}" for c in hear_ids]
    is_crit = _isin(item, crit_ids)
    is_bonus = _isin(item, bonus_items)
    is_hear = _isin(item, hear_items)
    looks_hear = np.array([x.startswith("hearing:") for x in item], dtype=bool) & ~is_hear
    if pack.hearing is None:
        report(mine & looks_hear, "item",
               lambda j: f"{quote(item[j])}: pack {pack.id} has no hearing stage (no hearing section)")
    else:
        report(mine & looks_hear, "item",
               lambda j: f"{quote(item[j])} is not a hearing criterion of pack {pack.id} "
                         f"(hearing criteria: {', '.join(hear_items)})")
    report(mine & ~is_crit & ~is_bonus & ~is_hear & ~looks_hear, "item",
           lambda j: f"{quote(item[j])} is not a criterion or judged bonus of pack {pack.id} "
                     f"(criteria: {', '.join(crit_ids)}" + (f"; bonus: {', '.join(bonus_items)})"
                                                             if judged else ")"),
           "reviews.unknown_item", lambda j: {"item": item[j], "items": ", ".join(crit_ids + bonus_items)})
    value = pd.to_numeric(pd.Series(value_s), errors="coerce").to_numpy()
    integral = ~np.isnan(value) & (np.mod(np.nan_to_num(value), 1) == 0)
    levels = sorted(pack.levels)
    bad_level = mine & (is_crit | is_hear) & ~(integral & np.isin(np.nan_to_num(value), levels))
    report(bad_level, "value", lambda j: f"{quote(value_s[j])} is not a level of the scale {levels}",
           "reviews.bad_level", lambda j: {"got": value_s[j], "levels": ", ".join(map(str, levels))})
    bad_mark = mine & is_bonus & ~(integral & np.isin(np.nan_to_num(value), [0, 1]))
    report(bad_mark, "value", lambda j: f"{quote(value_s[j])}: a bonus mark is 1 or 0",
           "reviews.bad_mark", lambda j: {"got": value_s[j]})

    key = pd.Series(rid) + "\x1f" + pd.Series(pid)
    dup = (key + "\x1f" + pd.Series(item)).duplicated(keep="first").to_numpy() & mine
    report(dup, "item", lambda j: f"duplicate row for reviewer {quote(rid[j])}, proposal {quote(pid[j])}, "
                                  f"item {quote(item[j])}",
           "reviews.duplicate_row", lambda j: {"reviewer": rid[j], "proposal": pid[j], "item": item[j]})

    ok = mine & ~bad_status & (is_crit | is_bonus | is_hear) & ~bad_level & ~bad_mark & ~dup & (rid != "")
    cols = _Columns(rid, pid, item, value, status, prop_idx, lines, source)
    doc = _review_matrix(cols, key, ok & ~is_hear, crit_ids, bonus_items, "", problems)
    hearing = (_review_matrix(cols, key, ok & is_hear, hear_items, [], "hearing ", problems)
               if pack.hearing is not None else None)
    if problems:
        problems.sort(key=lambda p: int(p.row) if p.row and p.row.isdigit() else 0)
        raise InputError(problems)
    if "comment" in df.columns:
        cm = _text_column(df["comment"])
        for j in np.nonzero(ok & (cm != ""))[0]:
            doc.comments.setdefault((rid[j], pid[j]), {})[item[j]] = cm[j]
    if APPLICANT_COMMENT in df.columns:   # optional; ignored when absent
        ac = _text_column(df[APPLICANT_COMMENT])
        for j in np.nonzero(ok & (ac != ""))[0]:
            doc.applicant_comments.setdefault((rid[j], pid[j]), {})[item[j]] = ac[j]
    doc.hearing = hearing
    return doc


class _Columns(NamedTuple):
    rid: np.ndarray
    pid: np.ndarray
    item: np.ndarray
    value: np.ndarray
    status: np.ndarray
    prop_idx: np.ndarray
    lines: np.ndarray
    source: str


def _review_matrix(c: _Columns, key: pd.Series, ok: np.ndarray, crit_items: list[str], bonus_items: list[str],
                   stage: str, problems: list[Problem]) -> ReviewTable:
    """One stage's reviews (one per reviewer × proposal; status per review) from its valid rows: the level
    matrix over ``crit_items``, the marks over ``bonus_items``; a review mixing submitted and draft rows, or
    submitted without a level for every criterion, is a problem."""
    codes, uniq = pd.factorize(key[ok])
    codes = np.asarray(codes)
    n_rev = len(uniq)
    col_of = {x: k for k, x in enumerate(crit_items)}
    bonus_of = {x: k for k, x in enumerate(bonus_items)}
    lv = np.zeros((n_rev, len(crit_items)), np.int16)
    mk = np.full((n_rev, len(bonus_items)), -1, np.int8)
    ok_idx = np.nonzero(ok)[0]
    it = c.item[ok_idx]
    vals = np.nan_to_num(c.value[ok_idx]).astype(np.int64)
    crit_rows = _isin(it, crit_items)
    if crit_rows.any():
        lv[codes[crit_rows], np.array([col_of[x] for x in it[crit_rows]])] = vals[crit_rows]
    if (~crit_rows).any():
        mk[codes[~crit_rows], np.array([bonus_of[x] for x in it[~crit_rows]])] = vals[~crit_rows]
    first = np.full(n_rev, -1, np.int64)
    first[codes[::-1]] = ok_idx[::-1]
    sub = c.status[ok_idx] == "submitted"
    n_sub = np.bincount(codes, weights=sub.astype(float), minlength=n_rev)
    n_all = np.bincount(codes, minlength=n_rev)
    mixed = (n_sub > 0) & (n_sub < n_all)
    rid, pid, lines = c.rid, c.pid, c.lines
    for r in np.nonzero(mixed)[0]:
        j = first[r]
        problems.append(Problem(c.source, str(lines[j]), "status",
                                f"{stage}review by {quote(rid[j])} of {quote(pid[j])} mixes submitted and draft rows",
                                "reviews.mixed_status", {"reviewer": rid[j], "proposal": pid[j]}))
    submitted = n_sub == n_all
    incomplete = submitted & (lv == 0).any(axis=1)
    for r in np.nonzero(incomplete)[0]:
        j = first[r]
        missing = [crit_items[k] for k in np.nonzero(lv[r] == 0)[0]]
        problems.append(Problem(c.source, str(lines[j]), "item", f"submitted {stage}review by {quote(rid[j])} of "
                                                                  f"{quote(pid[j])} has no level for: {', '.join(missing)}",
                                "reviews.incomplete", {"reviewer": rid[j], "proposal": pid[j],
                                                       "missing": ", ".join(missing)}))
    rev_reviewer = rid[first] if n_rev else np.empty(0, dtype=object)
    rev_prop = c.prop_idx[first] if n_rev else np.empty(0, np.int64)
    line = lines[first] if n_rev else np.empty(0, dtype=lines.dtype)
    return ReviewTable(rev_reviewer.astype(object), rev_prop, submitted & ~mixed, lv, mk, {}, line, c.source)


def _isin(values: np.ndarray, allowed) -> np.ndarray:
    """Membership by hashing (numpy's isin compares object arrays pairwise: quadratic on a national call)."""
    return pd.Series(values, dtype=object).isin(list(allowed)).to_numpy(dtype=bool)


def _cell_text(v: Any) -> str:
    """One cell as the CSV would have written it: missing → ``""``, 3 or 3.0 → ``"3"``, an enum → its value."""
    if isinstance(v, str):
        return v.value if isinstance(v, Enum) else v
    if v is None or v is pd.NA or (isinstance(v, (float, np.floating)) and np.isnan(v)):
        return ""
    if isinstance(v, Enum):
        return str(v.value)
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _text_column(col: pd.Series) -> np.ndarray:
    """A column as text, the same for the CSV's strings and the store's Python values (ints, None, enums)."""
    if not col.hasnans and pd.api.types.infer_dtype(col, skipna=False) in ("string", "integer"):
        return col.astype(str).to_numpy(dtype=object)  # the CSV's text, the store's ints (a StrEnum's str: its value)
    return np.array([_cell_text(v) for v in col.to_numpy(dtype=object)], dtype=object)
