"""Reading the canonical files (formats.md) into validated models and tables — every problem at once.

Proposals (JSON, or the intake list ``.xlsx``), reviewers CSV and reviews CSV. Each reader takes a *source* — a
path, the bytes of an upload or a binary file object — and a keyword-only ``name=`` for messages (the
convention of :mod:`scoring.io.sources`). Problems are reported as ``file:row:field: message``: for CSV the row
is the line number (the header is line 1), for JSON the list index ``[i]``, followed by the proposal id where
there is one. The checks against a pack are the core's (:mod:`scoring.reviews`).

Every reader stays within :data:`scoring.io.bounded.LIMITS` (file size, rows, columns, text length, JSON
nesting and numbers) and refuses beyond them with the same kind of message.
"""

from __future__ import annotations

import io
import re
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
from pydantic import ValidationError

from ..errors import InputError, Problem, clip, problems_from_validation, quote
from ..models import Proposal, Reviewer
from ..reviews import REVIEW_COLUMNS
from . import bounded
from ..decisions import DECISION_FILE_COLUMNS, DecisionEdit
from ..stages import ShortlistEdit
from .safe import unguard_text
from .sources import Source, is_path, read_text, source_name, suffix

XLSX_MAGIC = b"PK\x03\x04"  # a zip archive: an .xlsx workbook given as content
_LINE_BREAK = re.compile(r"[\r\n]")


# --- proposals -----------------------------------------------------------------------------------------------

def parse_proposals(data: Any, source: str) -> list[Proposal]:
    """Validate a JSON-like list of proposals; refuse the whole list on any problem."""
    if isinstance(data, dict) and "proposals" in data:
        data = data["proposals"]
    if not isinstance(data, list):
        raise InputError([Problem(source, None, "(root)", "must be a JSON list of proposals", "json.not_a_list")])
    if len(data) > bounded.LIMITS.proposals:
        raise InputError([Problem(source, None, "(root)", f"more than {bounded.LIMITS.proposals:,} proposals "
                                                          f"(got {len(data):,})")])
    problems: list[Problem] = []
    out: list[Proposal] = []
    seen: dict[str, int] = {}
    for i, obj in enumerate(data):
        row = f"[{i}]"
        pid = obj.get("id") if isinstance(obj, dict) else None
        label = f"proposal {clip(str(pid), 40)}" if pid else ""
        if not isinstance(obj, dict):
            problems.append(Problem(source, row, "(row)", f"must be an object (got {quote(obj)})"))
            continue
        try:
            p = Proposal.model_validate(obj)
        except ValidationError as exc:
            problems.extend(problems_from_validation(exc, source, row, label=label, subject=str(pid or "")))
            continue
        if p.id in seen:
            problems.append(Problem(source, row, "id",
                                    f"duplicate proposal id {quote(p.id)} (first at [{seen[p.id]}])",
                                    "proposal.duplicate_id", {"id": p.id, "first": seen[p.id] + 1}))
        else:
            seen[p.id] = i
        out.append(p)
    if problems:
        raise InputError(problems)
    return out


def read_json(source: Source, *, name: str | None = None) -> Any:
    """A JSON file as data: an unreadable file, invalid JSON or one beyond the limits
    (:func:`scoring.io.bounded.load_json`) is an :class:`InputError` naming the line, or the row and field."""
    shown = source_name(source, name, "(proposals)")
    return bounded.load_json(read_text(source, shown), shown)


def read_proposals_raw(source: Source, *, name: str | None = None) -> tuple[list, list[Proposal]]:
    """The proposal objects exactly as written (for a lossless export) and their validated models.

    For the intake list (``.xlsx``) the objects are the models dumped as JSON.
    """
    shown = source_name(source, name, "(proposals)")
    if _is_xlsx(source, shown):
        models = read_proposals(source, name=name)
        return [m.model_dump(mode="json") for m in models], models
    data = read_json(source, name=shown)
    models = parse_proposals(data, shown)
    if isinstance(data, dict):
        data = data["proposals"]
    return list(data), models


def read_proposals(source: Source, *, name: str | None = None) -> list[Proposal]:
    """Proposals from a JSON file or the intake list (``.xlsx``), validated; every problem at once."""
    shown = source_name(source, name, "(proposals)")
    if _is_xlsx(source, shown):
        # lazy: the intake reader needs openpyxl, which a JSON call never loads
        from .intake import read_intake

        return read_intake(source, source_name=shown)
    return parse_proposals(read_json(source, name=shown), shown)


def _is_xlsx(source: Source, shown: str) -> bool:
    if suffix(source, shown) == ".xlsx":
        return True
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source[:4]) == XLSX_MAGIC
    return False


# --- CSV tables ----------------------------------------------------------------------------------------------

def read_csv_table(source: Source, required: Sequence[str], *, name: str | None = None) -> pd.DataFrame:
    """A CSV as strings (nothing guessed), with a ``_line`` column; refuses missing columns."""
    shown = source_name(source, name, "(csv)")
    text = read_text(source, shown)
    lim = bounded.LIMITS
    first_break = _LINE_BREAK.search(text)
    header = text[: first_break.start()] if first_break else text
    if header.count(",") + 1 > lim.columns:  # an upper bound (a quoted comma counts too)
        raise InputError([Problem(shown, "1", "(header)", f"more than {lim.columns} columns")])
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True,
                         nrows=lim.rows + 1)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise InputError([Problem(shown, None, "(csv)", f"not a readable CSV: {quote(str(exc), 200)[1:-1]}")]) \
            from None
    if len(df) > lim.rows:
        raise InputError([Problem(shown, None, "(csv)", f"more than {lim.rows:,} rows")])
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError([Problem(shown, "1", c, "required column is missing", "csv.column_missing")
                          for c in missing])
    problems = []
    for c in df.columns:
        df[c] = df[c].str.strip().map(unguard_text)
        long = np.flatnonzero(df[c].str.len().fillna(0).to_numpy() > lim.string_chars)
        for j in long[:20]:
            problems.append(Problem(shown, str(j + 2), c, f"a cell of at most {lim.string_chars:,} characters "
                                                          f"(got {len(df[c].iat[j]):,}: {quote(df[c].iat[j])})"))
    if problems:
        raise InputError(problems)
    df["_line"] = np.arange(2, len(df) + 2)
    return df


def read_reviewers(source: Source, *, name: str | None = None) -> list[Reviewer]:
    """The reviewers CSV (``reviewer_id`` required; ``name``, ``role``, ``conflicts``) as validated models."""
    shown = source_name(source, name, "(reviewers)")
    df = read_csv_table(source, ["reviewer_id"], name=shown)
    return parse_reviewers(df.to_dict("records"), shown)


def parse_reviewers(rows: Iterable[dict], source: str) -> list[Reviewer]:
    """Validate reviewer rows (with ``_line`` for messages); refuse all on any problem, duplicates included."""
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
            problems.append(Problem(source, row, "reviewer_id", f"duplicate reviewer id {quote(rv.reviewer_id)}",
                                    "reviewer.duplicate_id", {"id": rv.reviewer_id}))
        seen.add(rv.reviewer_id)
        out.append(rv)
    if problems:
        raise InputError(problems)
    return out


def read_reviews(source: Source, *, name: str | None = None) -> pd.DataFrame:
    """The reviews CSV as the long text table of :func:`scoring.reviews.build_review_table` (with ``_line``);
    the optional ``applicant_comment`` column (formats.md) is kept as read, ignored when absent."""
    return read_csv_table(source, REVIEW_COLUMNS[:5], name=source_name(source, name, "(reviews)"))


SHORTLIST_COLUMNS = ["proposal_id", "action", "reason"]


def read_shortlist(source: Source, *, name: str | None = None) -> list[ShortlistEdit]:
    """The chair's shortlist changes (stages.md "Formats": ``proposal_id,action,reason``), in file order, each
    with its line for messages; the rows are checked against the call by :func:`scoring.stages.apply_edits`."""
    df = read_csv_table(source, SHORTLIST_COLUMNS, name=source_name(source, name, "(shortlist)"))
    return [ShortlistEdit(proposal_id=r["proposal_id"], action=r["action"], reason=r["reason"], row=str(r["_line"]))
            for r in df.to_dict("records")]


def read_decisions(source: Source, *, name: str | None = None) -> list[DecisionEdit]:
    """The committee's changes (decisions.md "Command line": ``proposal_id,decision,awarded_yen,
    approved_cost_yen,conditions,reason,reserve_position``), in file order, each with its line for messages.
    ``proposal_id`` is required, the other columns optional (absent = blank); an unknown column is refused (a
    misspelt ``awarded`` must not be ignored). The rows are checked against the ranking by
    :func:`scoring.decision_rules.decide`."""
    shown = source_name(source, name, "(decisions)")
    df = read_csv_table(source, ["proposal_id"], name=shown)
    unknown = [c for c in df.columns if c not in DECISION_FILE_COLUMNS and c != "_line"]
    if unknown:
        raise InputError([Problem(shown, "1", c, f"unknown column (columns: {', '.join(DECISION_FILE_COLUMNS)})")
                          for c in unknown])
    cols = [c for c in DECISION_FILE_COLUMNS if c in df.columns and c != "proposal_id"]
    return [DecisionEdit(proposal_id=r["proposal_id"], row=str(r["_line"]), **{c: r[c] for c in cols})
            for r in df.to_dict("records")]


__all__ = ["read_decisions", "read_shortlist", "SHORTLIST_COLUMNS", "parse_proposals", "read_json", "read_proposals_raw", "read_proposals", "read_csv_table",
           "read_reviewers", "parse_reviewers", "read_reviews"]
