"""Reading the canonical files (formats.md) into validated models and tables — every problem at once.

Problems are reported as ``file:row:field: message``: for CSV the row is the line number (the header is line
1), for JSON the list index ``[i]``, followed by the proposal id where there is one.
"""

from __future__ import annotations

import csv
import io as _io
import json
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
from pydantic import ValidationError

from ..errors import InputError, Problem, problems_from_validation
from ..models import Proposal, Reviewer, ReviewStatus
from ..packs import CriteriaPack
from ..table import ProposalTable, ReviewTable

REVIEW_COLUMNS = ["reviewer_id", "proposal_id", "item", "value", "status", "comment"]
REVIEWER_COLUMNS = ["reviewer_id", "name", "role", "conflicts"]


# --- proposals -----------------------------------------------------------------------------------------------

def parse_proposals(data: Any, source: str) -> list[Proposal]:
    """Validate a JSON-like list of proposals; refuse the whole list on any problem."""
    if isinstance(data, dict) and "proposals" in data:
        data = data["proposals"]
    if not isinstance(data, list):
        raise InputError([Problem(source, None, "(root)", "must be a JSON list of proposals")])
    problems: list[Problem] = []
    out: list[Proposal] = []
    seen: dict[str, int] = {}
    for i, obj in enumerate(data):
        row = f"[{i}]"
        pid = obj.get("id") if isinstance(obj, dict) else None
        label = f"proposal {pid}" if pid else ""
        if not isinstance(obj, dict):
            problems.append(Problem(source, row, "(row)", f"must be an object (got {obj!r})"))
            continue
        try:
            p = Proposal.model_validate(obj)
        except ValidationError as exc:
            problems.extend(problems_from_validation(exc, source, row, label=label))
            continue
        if p.id in seen:
            problems.append(Problem(source, row, "id", f"duplicate proposal id {p.id!r} (first at [{seen[p.id]}])"))
        else:
            seen[p.id] = i
        out.append(p)
    if problems:
        raise InputError(problems)
    return out


def read_proposals(path: str | Path) -> list[Proposal]:
    path = Path(path)
    if path.suffix.lower() == ".xlsx":  # the intake reader lives in the Excel adapter
        from .intake import read_intake
        return read_intake(path)
    text = _read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError([Problem(str(path), f"line {exc.lineno}", "(json)", f"not valid JSON: {exc.msg}")]) from None
    return parse_proposals(data, str(path))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError([Problem(str(path), None, "(file)", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(str(path), None, "(file)", f"cannot read as UTF-8 text: {exc}")]) from None


def split_by_pack(proposals: Sequence[Proposal], pack: CriteriaPack) -> tuple[list[Proposal], int]:
    mine = [p for p in proposals if p.pack == pack.id]
    return mine, len(proposals) - len(mine)


# --- CSV tables ----------------------------------------------------------------------------------------------

def read_csv_table(path: str | Path, required: Sequence[str]) -> pd.DataFrame:
    """A CSV as strings (nothing guessed), with a ``_line`` column; refuses missing columns."""
    path = Path(path)
    text = _read_text(path)
    try:
        df = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError([Problem(str(path), None, "(csv)", f"not a readable CSV: {exc}")]) from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError([Problem(str(path), "1", c, "required column is missing") for c in missing])
    for c in df.columns:
        df[c] = df[c].str.strip().map(unguard_text)
    df["_line"] = np.arange(2, len(df) + 2)
    return df


def read_reviewers(path: str | Path) -> list[Reviewer]:
    df = read_csv_table(path, ["reviewer_id"])
    return parse_reviewers(df.to_dict("records"), str(path))


def parse_reviewers(rows: Iterable[dict], source: str) -> list[Reviewer]:
    problems, out, seen = [], [], set()
    for r in rows:
        row = str(r.get("_line", "?"))
        data = {k: v for k, v in r.items() if k != "_line" and v not in (None, "")}
        try:
            rv = Reviewer.model_validate(data)
        except ValidationError as exc:
            problems.extend(problems_from_validation(exc, source, row))
            continue
        if rv.reviewer_id in seen:
            problems.append(Problem(source, row, "reviewer_id", f"duplicate reviewer id {rv.reviewer_id!r}"))
        seen.add(rv.reviewer_id)
        out.append(rv)
    if problems:
        raise InputError(problems)
    return out


def read_reviews(path: str | Path) -> pd.DataFrame:
    return read_csv_table(path, REVIEW_COLUMNS[:5])


def _isin(values: np.ndarray, allowed) -> np.ndarray:
    """Membership by hashing (numpy's isin compares object arrays pairwise: quadratic on a national call)."""
    return pd.Series(values, dtype=object).isin(list(allowed)).to_numpy(dtype=bool)


def build_review_table(df: pd.DataFrame, pack: CriteriaPack, table: ProposalTable, all_ids: set[str],
                       source: str, reviewers: list[Reviewer] | None = None) -> ReviewTable:
    """Validate the long review table against the pack and build the level matrix — vectorised.

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

    pid = df["proposal_id"].astype(str).to_numpy()
    rid = df["reviewer_id"].astype(str).to_numpy()
    item = df["item"].astype(str).to_numpy()
    value_s = df["value"].astype(str).to_numpy()
    status = df["status"].astype(str).to_numpy()

    report(rid == "", "reviewer_id", lambda j: "required field is empty")
    unknown_prop = ~_isin(pid, all_ids)
    report(unknown_prop, "proposal_id", lambda j: f"{pid[j]!r} is not a proposal in the proposals file")
    row_of = table.index_of()
    prop_idx = np.array([row_of.get(p, -1) for p in pid], dtype=np.int64)
    mine = prop_idx >= 0
    if reviewers is not None:
        known_r = {r.reviewer_id for r in reviewers}
        report(mine & ~_isin(rid, known_r) & (rid != ""), "reviewer_id",
               lambda j: f"{rid[j]!r} is not in the reviewers file")
    bad_status = mine & ~_isin(status, [s.value for s in ReviewStatus])
    report(bad_status, "status", lambda j: f"{status[j]!r} is not one of ['submitted', 'draft']")

    crit_ids = pack.criterion_ids
    judged = [b.id for b in pack.judged_bonuses]
    col_of = {c: k for k, c in enumerate(crit_ids)}
    bonus_of = {f"bonus:{b}": k for k, b in enumerate(judged)}
    is_crit = _isin(item, crit_ids)
    is_bonus = _isin(item, bonus_of)
    report(mine & ~is_crit & ~is_bonus, "item",
           lambda j: f"{item[j]!r} is not a criterion or judged bonus of pack {pack.id} "
                     f"(criteria: {', '.join(crit_ids)}" + (f"; bonus: {', '.join('bonus:' + b for b in judged)})"
                                                             if judged else ")"))
    value = pd.to_numeric(pd.Series(value_s), errors="coerce").to_numpy()
    integral = ~np.isnan(value) & (np.mod(np.nan_to_num(value), 1) == 0)
    levels = sorted(pack.levels)
    bad_level = mine & is_crit & ~(integral & np.isin(np.nan_to_num(value), levels))
    report(bad_level, "value", lambda j: f"{value_s[j]!r} is not a level of the scale {levels}")
    bad_mark = mine & is_bonus & ~(integral & np.isin(np.nan_to_num(value), [0, 1]))
    report(bad_mark, "value", lambda j: f"{value_s[j]!r}: a bonus mark is 1 or 0")

    key = pd.Series(rid) + "\x1f" + pd.Series(pid)
    dup = (key + "\x1f" + pd.Series(item)).duplicated(keep="first").to_numpy() & mine
    report(dup, "item", lambda j: f"duplicate row for reviewer {rid[j]!r}, proposal {pid[j]!r}, item {item[j]!r}")

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
                                f"review by {rid[j]!r} of {pid[j]!r} mixes submitted and draft rows"))
    submitted = n_sub == n_all
    incomplete = submitted & (lv == 0).any(axis=1)
    for r in np.nonzero(incomplete)[0]:
        j = first[r]
        missing = [crit_ids[c] for c in np.nonzero(lv[r] == 0)[0]]
        problems.append(Problem(source, str(lines[j]), "item",
                                f"submitted review by {rid[j]!r} of {pid[j]!r} has no level for: {', '.join(missing)}"))
    if problems:
        problems.sort(key=lambda p: int(p.row) if p.row and p.row.isdigit() else 0)
        raise InputError(problems)
    rev_reviewer = rid[first] if n_rev else np.empty(0, dtype=object)
    rev_prop = prop_idx[first] if n_rev else np.empty(0, np.int64)
    comments: dict[tuple[str, str], dict[str, str]] = {}
    if "comment" in df.columns:
        cm = df["comment"].astype(str).to_numpy()
        has = ok & (cm != "")
        for j in np.nonzero(has)[0]:
            comments.setdefault((rid[j], pid[j]), {})[item[j]] = cm[j]
    return ReviewTable(rev_reviewer.astype(object), rev_prop, submitted & ~mixed, lv, mk, comments)


def reviews_from_rows(rows: Iterable[dict]) -> pd.DataFrame:
    """A long review table from dicts (e.g. the store), same columns as the CSV."""
    df = pd.DataFrame(list(rows), columns=REVIEW_COLUMNS)
    return df.fillna("").astype(str)


# --- writing ------------------------------------------------------------------------------------------------

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: Any) -> Any:
    """Text a user wrote, made inert for spreadsheets (OWASP CSV/formula injection): prefix with '."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def unguard_text(value: Any) -> Any:
    """The inverse of :func:`safe_text` for our own CSV files: ``'=…`` read back as ``=…``.

    So that exporting and re-importing a round is the identity even for text that starts like a formula.
    (A text that itself starts with an apostrophe followed by ``= + - @`` loses that apostrophe: documented.)
    """
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write a whole file or nothing: a temporary file beside it, then rename."""
    import os
    import tempfile

    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=str(path.parent or "."))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def csv_bytes(header: list[str], rows: Iterable[list]) -> bytes:
    buf = _io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([safe_text(v) if isinstance(v, str) else ("" if v is None else v) for v in r])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM so that Excel reads UTF-8 Japanese
