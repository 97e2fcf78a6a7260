"""A small exception hierarchy: every problem names the file, the row (where there is one) and the field.

All problems of one input are collected and raised together, so a committee fixes a file in one pass.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, TypeVar

from pydantic import ValidationError


@dataclass(frozen=True)
class Problem:
    file: str
    row: str | None  # CSV: the line number (header = 1); JSON: the list index as "[i]"; None for a pack
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.row}" if self.row is not None else self.file
        return f"{where}:{self.field}: {self.message}" if self.row is not None else f"{where}: {self.field}: {self.message}"


class ShinsaError(Exception):
    """Base of the tool's own errors."""


class InputError(ShinsaError):
    """An input (pack, proposals, reviews, reviewers, arguments) is invalid; nothing was written."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class PackError(InputError):
    """A criteria pack is unknown or invalid."""


T = TypeVar("T")


class ProblemCollector:
    """Every problem of several inputs, raised together — "collect every file's problems" in one place.

    Each step that may raise :class:`InputError` runs through :meth:`run` (or inside :meth:`catching`); its
    problems are kept and the next step still runs. :meth:`raise_if_any` then raises one :class:`InputError`
    with all of them in order. Problems the caller finds itself are added with :meth:`add`. As a context
    manager it raises on leaving the block (unless another exception is on its way)::

        found = ProblemCollector()
        pack = found.run(load_pack, pack_ref)
        props = found.run(read_proposals, proposals_path, default=[])
        found.raise_if_any()
    """

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def run(self, step: Callable[..., T], *args, default: T | None = None, **kwargs) -> T | None:
        """``step(*args, **kwargs)``, or ``default`` after keeping the problems of its :class:`InputError`."""
        try:
            return step(*args, **kwargs)
        except InputError as exc:
            self.problems.extend(exc.problems)
            return default

    @contextmanager
    def catching(self) -> Iterator[None]:
        """Keep the problems of an :class:`InputError` raised in the block, and carry on after it."""
        try:
            yield
        except InputError as exc:
            self.problems.extend(exc.problems)

    def add(self, *problems: Problem) -> None:
        """Problems the caller found itself."""
        self.problems.extend(problems)

    def raise_if_any(self) -> None:
        """One :class:`InputError` with every problem kept so far (none: nothing happens)."""
        if self.problems:
            raise InputError(self.problems)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def __enter__(self) -> "ProblemCollector":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.raise_if_any()
        return False


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(root)"


def _fmt(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _message(err: dict) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    value = err.get("input")
    got = f" (got {value!r})" if kind != "missing" else ""
    if kind == "greater_than":
        return f"must be > {_fmt(ctx.get('gt'))}{got}"
    if kind == "greater_than_equal":
        return f"must be ≥ {_fmt(ctx.get('ge'))}{got}"
    if kind == "less_than_equal":
        return f"must be ≤ {_fmt(ctx.get('le'))}{got}"
    if kind == "less_than":
        return f"must be < {_fmt(ctx.get('lt'))}{got}"
    if kind == "missing":
        return "required field is missing"
    if kind == "enum":
        return f"{value!r} is not one of {ctx.get('expected')}"
    if kind == "extra_forbidden":
        return f"unknown field{got}"
    if kind == "value_error":
        msg = str(ctx.get("error", err.get("msg", "")))
        return f"{msg}"
    if kind == "string_too_short":
        return f"must not be empty{got}"
    return f"{err.get('msg', 'invalid')}{got}"


def problems_from_validation(exc: ValidationError, file: str, row: str | None = None,
                             prefix: tuple = (), label: str = "") -> list[Problem]:
    """Turn pydantic's errors into :class:`Problem` lines with a field path."""
    out = []
    for err in exc.errors():
        field = _path(prefix + tuple(err.get("loc", ())))
        msg = _message(err)
        if label:
            msg = f"{label}: {msg}"
        out.append(Problem(file, row, field, msg))
    return out
