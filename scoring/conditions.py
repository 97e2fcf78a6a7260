"""Declarative conditions of a pack (eligibility, bonuses, caps, expense checks) — parsed, never ``eval``-ed.

A condition in a pack file is plain data (see ``docs/pack-format.md``). :func:`parse_condition` turns it into
the small frozen tree below, collecting every problem with its field path; :mod:`scoring.eligibility`
evaluates the tree over whole columns of proposals at once, in three-valued logic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Union

from .errors import quote
from .models import MAX_ID_CHARS, CostCategory, MemberKind, Technology

OPS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in")
FIELDS = ("requested_yen", "eligible_cost_yen", "applicant_kind", "technology_count", "member_count")
LINE_FIELDS = ("category", "amount_yen", "unit_price_yen", "useful_life_years", "years",
               "cannot_lease_reason", "item")
MAX_NUMBER = 10**15       # |a number in a condition| (a literal, a plus): yen are at most 10**13
MAX_LIST = 1_000          # elements of a literal list (``in``/``not_in``)
MAX_DEPTH = 20            # all/any/not/cost_lines nested in one another


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Fact:
    name: str
    plus: float = 0


@dataclass(frozen=True)
class FieldRef:
    name: str
    plus: float = 0


@dataclass(frozen=True)
class CountMembers:
    kinds: frozenset
    exclude_kinds: frozenset = frozenset()
    include_applicant: bool = True
    plus: float = 0


@dataclass(frozen=True)
class CountTechnologies:
    in_: frozenset | None = None
    not_in: frozenset | None = None
    plus: float = 0


@dataclass(frozen=True)
class LineField:
    name: str
    plus: float = 0


Operand = Union[Literal, Fact, FieldRef, CountMembers, CountTechnologies, LineField]


@dataclass(frozen=True)
class Compare:
    left: Operand
    op: str
    right: Operand


@dataclass(frozen=True)
class AllOf:
    parts: tuple


@dataclass(frozen=True)
class AnyOf:
    parts: tuple


@dataclass(frozen=True)
class Not:
    part: Any


@dataclass(frozen=True)
class CostLinesAll:
    where: Any  # condition on lines, or None for every line
    require: Any


Condition = Union[Compare, AllOf, AnyOf, Not, CostLinesAll]


class ConditionErrors:
    """The problems found while parsing a pack's conditions, as ``(field path, message)`` pairs."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.errors.append((path, message))


def _kinds(value: Any, path: str, col: ConditionErrors, enum) -> frozenset:
    if not isinstance(value, list):
        col.add(path, f"must be a list of {enum.__name__} ids (got {quote(value)})")
        return frozenset()
    if len(value) > MAX_LIST:
        col.add(path, f"a list of at most {MAX_LIST:,} ids (got {len(value):,})")
        return frozenset()
    out = set()
    allowed = {e.value for e in enum}
    for i, v in enumerate(value):
        if not isinstance(v, str) or v not in allowed:
            col.add(f"{path}[{i}]", f"{quote(v)} is not one of {sorted(allowed)}")
        else:
            out.add(v)
    return frozenset(out)


def _number_problem(value: Any) -> str | None:
    """Why a number of a condition is refused (NaN, infinite, beyond ±MAX_NUMBER), or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number (got {quote(value)})"
    if abs(value) > MAX_NUMBER:
        return f"must be between -{MAX_NUMBER:,} and {MAX_NUMBER:,} (got {quote(value)})"
    return None


def _plus(spec: dict, path: str, col: ConditionErrors) -> float:
    plus = spec.get("plus", 0)
    if isinstance(plus, bool) or not isinstance(plus, (int, float)):
        col.add(f"{path}.plus", f"must be a number (got {quote(plus)})")
        return 0
    bad = _number_problem(plus)
    if bad:
        col.add(f"{path}.plus", bad)
        return 0
    return plus


def _literal(obj: Any, path: str, col: ConditionErrors) -> Operand:
    """A literal operand: a scalar (a bounded, finite number) or a list of at most MAX_LIST scalars."""
    if isinstance(obj, list):
        if len(obj) > MAX_LIST:
            col.add(path, f"a list of at most {MAX_LIST:,} values (got {len(obj):,})")
            return Literal(None)
        for i, v in enumerate(obj):
            if not (v is None or isinstance(v, (bool, int, float, str))):
                col.add(f"{path}[{i}]", f"must be a plain value (got {quote(v)})")
                return Literal(None)
            bad = _number_problem(v)
            if bad:
                col.add(f"{path}[{i}]", bad)
                return Literal(None)
        return Literal(tuple(obj))
    bad = _number_problem(obj)
    if bad:
        col.add(path, bad)
        return Literal(None)
    return Literal(obj)


def parse_operand(obj: Any, path: str, col: ConditionErrors, in_line: bool) -> Operand:
    if not isinstance(obj, dict):
        if obj is None or isinstance(obj, (bool, int, float, str, list)):
            return _literal(obj, path, col)
        col.add(path, f"not an operand (got {quote(obj)})")
        return Literal(None)
    keys = set(obj) - {"plus"}
    if len(keys) != 1:
        col.add(path, f"an operand has exactly one of fact, field, count_members, count_technologies, line "
                      f"(got {quote(sorted(keys, key=str))})")
        return Literal(None)
    (key,) = keys
    plus = _plus(obj, path, col)
    val = obj[key]
    if key == "fact":
        if not isinstance(val, str) or not 0 < len(val) <= MAX_ID_CHARS:
            col.add(f"{path}.fact", f"must be a fact name of 1 to {MAX_ID_CHARS} characters (got {quote(val)})")
        return Fact(str(val), plus)
    if key == "field":
        if val not in FIELDS:
            col.add(f"{path}.field", f"{quote(val)} is not one of {list(FIELDS)}")
        return FieldRef(str(val), plus)
    if key == "count_members":
        if not isinstance(val, dict):
            col.add(f"{path}.count_members", f"must be a mapping (got {quote(val)})")
            return Literal(None)
        unknown = set(val) - {"kinds", "exclude_kinds", "include_applicant"}
        if unknown:
            col.add(f"{path}.count_members", f"unknown keys {quote(sorted(unknown, key=str))}")
        kinds = _kinds(val.get("kinds", []), f"{path}.count_members.kinds", col, MemberKind)
        excl = _kinds(val.get("exclude_kinds", []), f"{path}.count_members.exclude_kinds", col, MemberKind)
        inc = val.get("include_applicant", True)
        if not isinstance(inc, bool):
            col.add(f"{path}.count_members.include_applicant", f"must be true or false (got {quote(inc)})")
        return CountMembers(kinds, excl, bool(inc), plus)
    if key == "count_technologies":
        if val is None:
            val = {}
        if not isinstance(val, dict) or set(val) - {"in", "not_in"}:
            col.add(f"{path}.count_technologies",
                    f"must be {{}}, {{in: [...]}} or {{not_in: [...]}} (got {quote(val)})")
            return Literal(None)
        in_ = _kinds(val["in"], f"{path}.count_technologies.in", col, Technology) if "in" in val else None
        nin = _kinds(val["not_in"], f"{path}.count_technologies.not_in", col, Technology) if "not_in" in val else None
        return CountTechnologies(in_, nin, plus)
    if key == "line":
        if not in_line:
            col.add(path, "a line operand is allowed only inside cost_lines conditions and expense checks")
        if val not in LINE_FIELDS:
            col.add(f"{path}.line", f"{quote(val)} is not one of {list(LINE_FIELDS)}")
        return LineField(str(val), plus)
    col.add(path, f"unknown operand {quote(key)}: use fact, field, count_members, count_technologies or line")
    return Literal(None)


def parse_condition(obj: Any, path: str, col: ConditionErrors, in_line: bool = False,
                    depth: int = 0) -> Condition | None:
    if depth > MAX_DEPTH:
        col.add(path, f"conditions nested deeper than {MAX_DEPTH} levels")
        return None
    if not isinstance(obj, dict):
        col.add(path, f"a condition must be a mapping (got {quote(obj)})")
        return None
    keys = set(obj)
    if keys >= {"left", "op"}:
        extra = keys - {"left", "op", "right"}
        if extra:
            col.add(path, f"unknown keys {quote(sorted(extra, key=str))}")
        op = obj["op"]
        if op not in OPS:
            col.add(f"{path}.op", f"{quote(op)} is not one of {list(OPS)}")
        if "right" not in obj:
            col.add(f"{path}.right", "required field is missing")
        left = parse_operand(obj["left"], f"{path}.left", col, in_line)
        right = parse_operand(obj.get("right"), f"{path}.right", col, in_line)
        if op in ("in", "not_in") and not (isinstance(right, Literal) and isinstance(right.value, tuple)):
            col.add(f"{path}.right", f"{op} needs a list on the right")
        return Compare(left, op, right)
    if len(keys) != 1:
        col.add(path, f"a condition is a comparison (left/op/right) or one of all, any, not, cost_lines "
                      f"(got keys {quote(sorted(keys, key=str))})")
        return None
    (key,) = keys
    val = obj[key]
    if key in ("all", "any"):
        if not isinstance(val, list) or not val:
            col.add(f"{path}.{key}", f"must be a non-empty list of conditions (got {quote(val)})")
            return None
        parts = tuple(parse_condition(v, f"{path}.{key}[{i}]", col, in_line, depth + 1) for i, v in enumerate(val))
        return AllOf(parts) if key == "all" else AnyOf(parts)
    if key == "not":
        return Not(parse_condition(val, f"{path}.not", col, in_line, depth + 1))
    if key == "cost_lines":
        if in_line:
            col.add(path, "cost_lines cannot be nested")
        if not isinstance(val, dict) or "require" not in val or set(val) - {"where", "require"}:
            col.add(f"{path}.cost_lines", "must be a mapping with require (and optional where)")
            return None
        where = (parse_condition(val["where"], f"{path}.cost_lines.where", col, True, depth + 1)
                 if "where" in val else None)
        require = parse_condition(val["require"], f"{path}.cost_lines.require", col, True, depth + 1)
        return CostLinesAll(where, require)
    col.add(path, f"unknown condition {quote(key)}: use left/op/right, all, any, not or cost_lines")
    return None


def referenced_facts(cond: Any) -> set[str]:
    """Fact names a condition (or operand) reads — for the applicant form and the proposal table."""
    if isinstance(cond, Fact):
        return {cond.name}
    if isinstance(cond, Compare):
        return referenced_facts(cond.left) | referenced_facts(cond.right)
    if isinstance(cond, (AllOf, AnyOf)):
        out: set[str] = set()
        for p in cond.parts:
            out |= referenced_facts(p)
        return out
    if isinstance(cond, Not):
        return referenced_facts(cond.part)
    return set()


__all__ = ["parse_condition", "parse_operand", "referenced_facts", "Compare", "AllOf", "AnyOf", "Not",
           "CostLinesAll", "Literal", "Fact", "FieldRef", "CountMembers", "CountTechnologies", "LineField",
           "OPS", "CostCategory"]
