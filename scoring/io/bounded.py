"""Bounded readers of text formats: JSON and YAML parsed within limits of size, depth, count and number length.

Every file a user uploads or imports (proposals JSON, reviewers/reviews CSV, pack YAML) is read within
:data:`LIMITS` (see ``docs/security/text-inputs.md``); beyond them the reader refuses with an
:class:`~scoring.errors.InputError` naming the file and, where it can, the line, row and field — in time and
memory bounded by the limits, never by what the file would expand to.

- JSON (:func:`load_json`): the file size; ``[``/``{`` counted before parsing (an upper bound on the arrays and
  objects it makes); the stdlib parser's own recursion limit caught (a 200 KB ``[[[…]]]``); then one walk over
  the parsed data that refuses nesting deeper than ``json_depth``, texts longer than ``string_chars`` and numbers
  no field can hold (more than ``number_digits`` digits, beyond the float range, ``NaN``/``Infinity``), each
  named by its row and field path.
- YAML (:func:`load_yaml`): the file size, then a safe loader that counts while composing — nodes as expanded
  (an alias counts the nodes it repeats, so a 1 KB "billion laughs" stops after ``yaml_nodes``), aliases,
  nesting depth — and refuses an alias inside the node it names (a cycle) and integers of more than
  ``number_digits`` digits.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from typing import Any

import yaml

from ..errors import InputError, Problem, quote


def _env_mb(name: str, default: int) -> int:
    try:
        value = int(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


@dataclass(frozen=True)
class TextLimits:
    """The limits of the text readers (defaults below; ``SHINSA_MAX_TEXT_MB`` sets ``file_bytes``)."""

    file_bytes: int = 32 * 2**20      # a proposals JSON, a reviewers or reviews CSV
    pack_bytes: int = 512 * 2**10     # a pack YAML (the shipped ones are 13–22 KB)
    rows: int = 1_000_000             # data rows of a CSV
    proposals: int = 50_000           # proposals of one file
    columns: int = 100                # columns of a CSV
    string_chars: int = 100_000       # one JSON text or CSV cell
    json_depth: int = 32              # arrays/objects nested in one another (a proposal file needs 5)
    json_containers: int = 2_000_000  # arrays and objects of one JSON file
    number_digits: int = 1_000        # digits of one integer (yen need 14; Python refuses beyond 4,300)
    yaml_nodes: int = 50_000          # YAML values, aliases expanded (a shipped pack has ~750)
    yaml_aliases: int = 100           # YAML aliases (*name) of one pack
    yaml_depth: int = 32              # YAML collections nested in one another


LIMITS = TextLimits(file_bytes=_env_mb("SHINSA_MAX_TEXT_MB", 32) * 2**20)
"""The limits in force (tests may replace this module attribute)."""


# --- JSON ----------------------------------------------------------------------------------------------------

class JsonSyntaxError(InputError):
    """Text that is not JSON at all (the one problem names the line)."""


class Unreadable:
    """A number of a JSON file that no field can hold (too many digits, infinite, NaN): kept as its text
    until :func:`load_json` reports it with its row and field."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text if len(self.text) <= 40 else f"{self.text[:20]}…({len(self.text):,} characters)"


def _parse_int(text: str) -> int | Unreadable:
    return int(text) if len(text.lstrip("-")) <= LIMITS.number_digits else Unreadable(text)


def _parse_float(text: str) -> float | Unreadable:
    value = float(text)
    return value if math.isfinite(value) else Unreadable(text)


_TOKENS = re.compile(r'[\[\]{}"\\]')


def _deep_line(text: str, limit: int) -> int | None:
    """The line where arrays/objects first nest deeper than ``limit`` (for a file the parser gave up on)."""
    depth, in_string, skip = 0, False, -1
    for m in _TOKENS.finditer(text):
        pos, c = m.start(), m.group()
        if pos == skip:
            continue
        if in_string:
            if c == "\\":
                skip = pos + 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            if depth > limit:
                return text.count("\n", 0, pos) + 1
        elif c in "]}":
            depth -= 1
    return None


def _where(path: tuple, rows_at: tuple) -> tuple[str | None, str]:
    """(row, field) of a path in the data: ``[i]`` for the i-th element of the proposals list."""
    n = len(rows_at)
    if len(path) > n and path[:n] == rows_at and isinstance(path[n], int):
        row, rest = f"[{path[n]}]", path[n + 1:]
    else:
        row, rest = None, path
    field = ""
    for part in rest:
        field += f"[{part}]" if isinstance(part, int) else ("." if field else "") + str(part)
    return row, field or "(root)"


def _walk(data: Any, shown: str, max_problems: int = 100) -> list[Problem]:
    """Depth, text length and unreadable numbers of parsed JSON, each named by row and field path."""
    lim = LIMITS
    rows_at: tuple = ("proposals",) if isinstance(data, dict) and "proposals" in data else ()
    problems: list[Problem] = []

    def report(path: tuple, message: str) -> None:
        row, field = _where(path, rows_at)
        problems.append(Problem(shown, row, field, message))

    def check(value: Any, path: tuple) -> None:
        t = type(value)
        if t is str:
            if len(value) > lim.string_chars:
                report(path, f"a text of at most {lim.string_chars:,} characters (got {len(value):,}: "
                             f"{quote(value)})")
        elif t is Unreadable:
            report(path, f"not a number any field can hold (got {quote(value)})")

    if isinstance(data, (dict, list)):
        stack: list[tuple[Any, tuple]] = [(data, ())]
    else:
        check(data, ())
        stack = []
    while stack and len(problems) < max_problems:
        node, path = stack.pop()
        if len(path) >= lim.json_depth:
            report(path, f"nested deeper than {lim.json_depth} levels")
            continue
        items = node.items() if type(node) is dict else enumerate(node)
        for key, value in items:
            t = type(value)
            if t is dict or t is list:
                stack.append((value, path + (key,)))
            elif t is str or t is Unreadable:
                check(value, path + (key,))
            if type(key) is str and len(key) > lim.string_chars:
                report(path, f"a field name of at most {lim.string_chars:,} characters (got {len(key):,})")
    problems.sort(key=lambda p: (int(p.row[1:-1]) if p.row else -1, p.field))
    return problems


def load_json(text: str, shown: str) -> Any:
    """JSON text → data within :data:`LIMITS`; an :class:`InputError` (naming line, or row and field) else."""
    lim = LIMITS
    containers = text.count("[") + text.count("{")  # an upper bound: brackets inside texts count too
    if containers > lim.json_containers:
        raise InputError([Problem(shown, None, "(json)", f"more than {lim.json_containers:,} arrays and "
                                                          f"objects (found up to {containers:,})")])
    try:
        data = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=Unreadable)
    except json.JSONDecodeError as exc:
        raise JsonSyntaxError([Problem(shown, f"line {exc.lineno}", "(json)", f"not valid JSON: {exc.msg}",
                                       "json.invalid", {"detail": exc.msg})]) \
            from None
    except RecursionError:
        line = _deep_line(text, lim.json_depth)
        raise InputError([Problem(shown, f"line {line}" if line else None, "(json)",
                                  f"arrays/objects nested deeper than {lim.json_depth} levels")]) from None
    problems = _walk(data, shown)
    if problems:
        raise InputError(problems)
    return data


# --- YAML ----------------------------------------------------------------------------------------------------

class LimitExceeded(yaml.MarkedYAMLError):
    """A YAML file beyond :data:`LIMITS` (the mark gives the line)."""


_INT_DIGITS = re.compile(r"[0-9a-fA-F]")


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader (pure Python) counting while it composes: nodes as expanded, aliases, depth."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.expanded = 0
        self.alias_count = 0
        self.depth = 0
        self.weights: dict[str, int] = {}  # anchor → nodes of its node, aliases expanded

    def _refuse(self, mark, problem: str):
        raise LimitExceeded(problem=problem, problem_mark=mark)

    def _count(self, n: int, mark) -> None:
        self.expanded += n
        if self.expanded > LIMITS.yaml_nodes:
            self._refuse(mark, f"more than {LIMITS.yaml_nodes:,} values (aliases counted as what they repeat)")

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self.alias_count += 1
            if self.alias_count > LIMITS.yaml_aliases:
                self._refuse(event.start_mark, f"more than {LIMITS.yaml_aliases} aliases (*name)")
            if event.anchor in self.anchors and event.anchor not in self.weights:
                self._refuse(event.start_mark, f"alias *{quote(event.anchor)[1:-1]} inside the value it names")
            self._count(self.weights.get(event.anchor, 1), event.start_mark)
            return super().compose_node(parent, index)
        self.depth += 1
        try:
            if self.depth > LIMITS.yaml_depth:
                self._refuse(event.start_mark, f"nested deeper than {LIMITS.yaml_depth} levels")
            before = self.expanded
            self._count(1, event.start_mark)
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self.weights[anchor] = self.expanded - before
        return node

    def construct_yaml_int(self, node):
        digits = len(_INT_DIGITS.findall(node.value))
        if digits > LIMITS.number_digits:
            self._refuse(node.start_mark, f"an integer of more than {LIMITS.number_digits} digits "
                                          f"(got {digits:,} digits)")
        return super().construct_yaml_int(node)


_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_yaml_int)


def load_yaml(text: str) -> Any:
    """YAML text → data within :data:`LIMITS`; raises :class:`yaml.YAMLError` (:class:`LimitExceeded` beyond
    them) with the line in its ``problem_mark``."""
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


__all__ = ["TextLimits", "LIMITS", "Unreadable", "JsonSyntaxError", "load_json", "LimitExceeded", "load_yaml"]
