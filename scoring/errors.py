"""A small exception hierarchy: every problem names the file, the row (where there is one) and the field.

All problems of one input are collected and raised together, so a committee fixes a file in one pass.
"""

from __future__ import annotations

import reprlib
from contextlib import contextmanager
from dataclasses import dataclass, field as dc_field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, TypeVar

if TYPE_CHECKING:     # a type only: pydantic is not loaded by the first page, which reads no pack (issue 15)
    from pydantic import ValidationError


QUOTE_CHARS = 80
"""At most this many characters of an offending value are quoted in a message (:func:`quote`)."""
MESSAGE_CHARS = 1000
"""A problem's message (and its file/row/field) is cut to this length, whatever a caller put in it."""
MAX_PROBLEMS = 1000
"""An :class:`InputError` lists at most this many problems, then says how many more there were."""


class _Quoter(reprlib.Repr):
    """``repr`` that stays short whatever the value: long texts, huge numbers, deep or shared structures."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxstring = self.maxother = QUOTE_CHARS
        self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = self.maxdeque = self.maxarray = 6
        self.maxdict = 4
        self.maxlong = 24

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 128:  # repr() itself refuses beyond 4300 digits: never build the text
            return f"<a number of about {int(x.bit_length() * 0.30103) + 1} digits>"
        return super().repr_int(x, level)

    def repr_str(self, x: str, level: int) -> str:
        return super().repr_str(x[: QUOTE_CHARS + 2], level)  # repr of the head only, not of a 10 MB text


_QUOTER = _Quoter()


def quote(value: Any, limit: int = QUOTE_CHARS) -> str:
    """``repr(value)`` for a message, at most ``limit`` characters (…-ended when cut): a message quotes an
    offending value, never embeds it (a 10 MB list, a 5,000-digit number, a 5,000-deep structure)."""
    try:
        text = _QUOTER.repr(value)
    except (ValueError, RecursionError, MemoryError):  # pragma: no cover - a hostile __repr__
        text = f"<{type(value).__name__}>"
    return clip(text, limit)


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in ``…`` when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


@dataclass(frozen=True)
class Problem:
    """One problem of an input. ``message`` is English (the command line's); ``code`` names the kind of problem
    and ``args`` its values (plain text, each clipped), so a user interface can say it in its own language
    (the app's catalog: ``problem.<code>``). A problem without a code is shown with its English message."""

    file: str
    row: str | None  # CSV: the line number (header = 1); JSON: the list index as "[i]"; None for a pack
    field: str
    message: str
    code: str = ""
    args: Mapping[str, str] = dc_field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:  # bounded whatever a caller formatted into it (see quote)
        object.__setattr__(self, "args", {str(k)[:40]: clip(str(v), 300) for k, v in
                                          list(dict(self.args).items())[:10]})
        object.__setattr__(self, "file", clip(str(self.file), 300))
        if self.row is not None:
            object.__setattr__(self, "row", clip(str(self.row), 100))
        object.__setattr__(self, "field", clip(str(self.field), 300))
        object.__setattr__(self, "message", clip(str(self.message), MESSAGE_CHARS))

    def __str__(self) -> str:
        where = f"{self.file}:{self.row}" if self.row is not None else self.file
        return f"{where}:{self.field}: {self.message}" if self.row is not None else f"{where}: {self.field}: {self.message}"


class ShinsaError(Exception):
    """Base of the tool's own errors."""


class InputError(ShinsaError):
    """An input (pack, proposals, reviews, reviewers, arguments) is invalid; nothing was written."""

    def __init__(self, problems: Iterable[Problem]):
        problems = list(problems)
        if len(problems) > MAX_PROBLEMS:  # a million bad elements: the first ones, and how many more
            rest = len(problems) - MAX_PROBLEMS
            last = problems[MAX_PROBLEMS - 1]
            problems = problems[:MAX_PROBLEMS] + [Problem(last.file, None, "(more)", f"and {rest:,} more problems")]
        self.problems = problems
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


_LIMITS = {"greater_than": "gt", "greater_than_equal": "ge", "less_than_equal": "le", "less_than": "lt"}
_CODED = {"missing": "value.missing", "string_too_short": "value.empty", "extra_forbidden": "value.unknown_field",
          "enum": "value.enum", **{k: f"value.{k}" for k in _LIMITS}}


def _code(err: dict) -> tuple[str, dict]:
    """The kind of a pydantic error as a :class:`Problem` code and its values ("" when it has none)."""
    kind = err.get("type", "")
    code = _CODED.get(kind, "")
    if not code:
        return "", {}
    ctx = err.get("ctx") or {}
    value = err.get("input")
    args: dict = {}
    if kind in _LIMITS:
        args["limit"] = _fmt(ctx.get(_LIMITS[kind]))
    if kind == "enum":
        args["expected"] = str(ctx.get("expected"))
    if kind != "missing":
        args["got"] = value if isinstance(value, str) else quote(value)
    return code, args


def _message(err: dict) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    value = err.get("input")
    got = f" (got {quote(value)})" if kind != "missing" else ""
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
        return f"{quote(value)} is not one of {ctx.get('expected')}"
    if kind == "extra_forbidden":
        return f"unknown field{got}"
    if kind == "value_error":
        msg = str(ctx.get("error", err.get("msg", "")))
        return f"{msg}"
    if kind == "string_too_short":
        return f"must not be empty{got}"
    return f"{err.get('msg', 'invalid')}{got}"


def problems_from_validation(exc: ValidationError, file: str, row: str | None = None,
                             prefix: tuple = (), label: str = "", subject: str = "") -> list[Problem]:
    """Turn pydantic's errors into :class:`Problem` lines with a field path. ``label`` heads the English
    message (``proposal X``); ``subject`` (the proposal's id, say) goes with the code's values."""
    out = []
    for err in exc.errors():
        field = _path(prefix + tuple(err.get("loc", ())))
        msg = _message(err)
        if label:
            msg = f"{label}: {msg}"
        code, args = _code(err)
        if code and subject:
            args["subject"] = subject
        out.append(Problem(file, row, field, msg, code, args))
    return out
