"""The long review table (one row per reviewer × proposal × item) validated against a pack — no file I/O.

Every adapter hands the same columns (:data:`REVIEW_COLUMNS`): the CSV reader as text, the store and the score
sheets as Python values. :func:`build_review_table` checks them against the pack and builds the level matrix of
:class:`scoring.table.ReviewTable`, listing every problem as ``source:row:field: message``.
"""

from __future__ import annotations

import difflib
from enum import Enum
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from .errors import InputError, Problem, quote
from .models import Proposal, Reviewer, ReviewStatus
from .packs import SHIPPED_PACKS, CriteriaPack
from .table import ProposalTable, ReviewTable

REVIEW_COLUMNS = ["reviewer_id", "proposal_id", "item", "value", "status", "comment"]
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

    ``df`` has the columns of :data:`REVIEW_COLUMNS` (``comment`` optional) and optionally ``_line`` (the row
    named in messages; else the CSV line 2, 3, …); cells may be the CSV's strings or Python values — ``value``
    an int (or an integral float), a missing cell ``None`` — and both are checked with the same messages.
    Rows for proposals of other packs (present in the proposals file) are skipped; every other problem is
    listed: unknown proposal, unknown criterion or bonus, level outside the scale, duplicate item, unknown
    status or reviewer, mixed status within one review, and a submitted review missing a criterion.
    """
    if "comment" not in df.columns:
        df = df.assign(comment="")
    if "_line" not in df.columns:
        df = df.assign(_line=np.arange(2, len(df) + 2))
    problems: list[Problem] = []
    lines = df["_line"].to_numpy()

    def report(mask: np.ndarray, field: str, make) -> None:
        for j in np.nonzero(mask)[0]:
            problems.append(Problem(source, str(lines[j]), field, make(j)))

    # every column as the CSV's text, so that the store's integers are checked (and named) as the CSV's strings
    pid = _text_column(df["proposal_id"])
    rid = _text_column(df["reviewer_id"])
    item = _text_column(df["item"])
    value_s = _text_column(df["value"])
    status = _text_column(df["status"])

    report(rid == "", "reviewer_id", lambda j: "required field is empty")
    unknown_prop = ~_isin(pid, all_ids)
    report(unknown_prop, "proposal_id", lambda j: f"{quote(pid[j])} is not a proposal in the proposals file")
    row_of = table.index_of()
    prop_idx = np.array([row_of.get(p, -1) for p in pid], dtype=np.int64)
    mine = prop_idx >= 0
    if reviewers is not None:
        known_r = {r.reviewer_id for r in reviewers}
        report(mine & ~_isin(rid, known_r) & (rid != ""), "reviewer_id",
               lambda j: f"{quote(rid[j])} is not in the reviewers file")
    bad_status = mine & ~_isin(status, [s.value for s in ReviewStatus])
    report(bad_status, "status", lambda j: f"{quote(status[j])} is not one of ['submitted', 'draft']")

    crit_ids = pack.criterion_ids
    judged = [b.id for b in pack.judged_bonuses]
    col_of = {c: k for k, c in enumerate(crit_ids)}
    bonus_of = {f"bonus:{b}": k for k, b in enumerate(judged)}
    is_crit = _isin(item, crit_ids)
    is_bonus = _isin(item, bonus_of)
    report(mine & ~is_crit & ~is_bonus, "item",
           lambda j: f"{quote(item[j])} is not a criterion or judged bonus of pack {pack.id} "
                     f"(criteria: {', '.join(crit_ids)}" + (f"; bonus: {', '.join('bonus:' + b for b in judged)})"
                                                             if judged else ")"))
    value = pd.to_numeric(pd.Series(value_s), errors="coerce").to_numpy()
    integral = ~np.isnan(value) & (np.mod(np.nan_to_num(value), 1) == 0)
    levels = sorted(pack.levels)
    bad_level = mine & is_crit & ~(integral & np.isin(np.nan_to_num(value), levels))
    report(bad_level, "value", lambda j: f"{quote(value_s[j])} is not a level of the scale {levels}")
    bad_mark = mine & is_bonus & ~(integral & np.isin(np.nan_to_num(value), [0, 1]))
    report(bad_mark, "value", lambda j: f"{quote(value_s[j])}: a bonus mark is 1 or 0")

    key = pd.Series(rid) + "\x1f" + pd.Series(pid)
    dup = (key + "\x1f" + pd.Series(item)).duplicated(keep="first").to_numpy() & mine
    report(dup, "item", lambda j: f"duplicate row for reviewer {quote(rid[j])}, proposal {quote(pid[j])}, "
                                  f"item {quote(item[j])}")

    ok = mine & ~bad_status & (is_crit | is_bonus) & ~bad_level & ~bad_mark & ~dup & (rid != "")
    # one review per (reviewer, proposal)
    codes, uniq = pd.factorize(key[ok])
    codes = np.asarray(codes)
    n_rev = len(uniq)
    C, B = len(crit_ids), len(judged)
    lv = np.zeros((n_rev, C), np.int16)
    mk = np.full((n_rev, B), -1, np.int8)
    ok_idx = np.nonzero(ok)[0]
    it = item[ok_idx]
    vals = np.nan_to_num(value[ok_idx]).astype(np.int64)
    crit_rows = _isin(it, crit_ids)
    if crit_rows.any():
        lv[codes[crit_rows], np.array([col_of[x] for x in it[crit_rows]])] = vals[crit_rows]
    if (~crit_rows).any():
        mk[codes[~crit_rows], np.array([bonus_of[x] for x in it[~crit_rows]])] = vals[~crit_rows]
    first = np.full(n_rev, -1, np.int64)
    first[codes[::-1]] = ok_idx[::-1]
    sub = status[ok_idx] == "submitted"
    n_sub = np.bincount(codes, weights=sub.astype(float), minlength=n_rev)
    n_all = np.bincount(codes, minlength=n_rev)
    mixed = (n_sub > 0) & (n_sub < n_all)
    for r in np.nonzero(mixed)[0]:
        j = first[r]
        problems.append(Problem(source, str(lines[j]), "status",
                                f"review by {quote(rid[j])} of {quote(pid[j])} mixes submitted and draft rows"))
    submitted = n_sub == n_all
    incomplete = submitted & (lv == 0).any(axis=1)
    for r in np.nonzero(incomplete)[0]:
        j = first[r]
        missing = [crit_ids[c] for c in np.nonzero(lv[r] == 0)[0]]
        problems.append(Problem(source, str(lines[j]), "item",
                                f"submitted review by {quote(rid[j])} of {quote(pid[j])} has no level for: "
                                f"{', '.join(missing)}"))
    if problems:
        problems.sort(key=lambda p: int(p.row) if p.row and p.row.isdigit() else 0)
        raise InputError(problems)
    rev_reviewer = rid[first] if n_rev else np.empty(0, dtype=object)
    rev_prop = prop_idx[first] if n_rev else np.empty(0, np.int64)
    comments: dict[tuple[str, str], dict[str, str]] = {}
    if "comment" in df.columns:
        cm = _text_column(df["comment"])
        has = ok & (cm != "")
        for j in np.nonzero(has)[0]:
            comments.setdefault((rid[j], pid[j]), {})[item[j]] = cm[j]
    return ReviewTable(rev_reviewer.astype(object), rev_prop, submitted & ~mixed, lv, mk, comments)


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
