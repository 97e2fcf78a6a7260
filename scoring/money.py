"""Yen as integers, end to end: parsing what people type and formatting for display (and scores, shown with
2 decimals rounded half up — selection.md, Rounding for display).

People write amounts as ``148000000``, ``1,480万円``, ``1.48億円``, ``１億４８００万円`` or ``￥148,000,000``.
Every money field in every format goes through :func:`parse_yen`; no float ever carries money.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


from .errors import quote

__all__ = ["MAX_YEN", "MoneyError", "parse_yen", "format_yen", "format_man_oku", "format_score", "round_half_up"]


MAX_YEN = 10**13
"""The ceiling of every amount of money (10 兆円, i.e. 10,000,000,000,000 yen): far above any programme's
budget, and low enough that the sum over 100,000 proposals stays within int64 (numpy's sums, the database's
BIGINT). :func:`parse_yen` refuses more; the pack's yen fields are bounded by it too."""

MAX_YEN_TEXT = 100
"""An amount written with more characters than this is refused before it is read."""


class MoneyError(ValueError):
    """An amount that cannot be read as whole yen."""


_UNITS = {"兆": 10**12, "億": 10**8, "万": 10**4, "千": 10**3}
_PART = re.compile(r"(\d+(?:\.\d+)?)(兆|億|万|千)?")


def _normalise(text: str) -> str:
    # NFKC turns full-width digits, commas and the full-width yen sign into ASCII.
    s = unicodedata.normalize("NFKC", text)
    if re.search(r"\d\s+[\d.]", s):  # "1 200" is ambiguous: a typo, not an amount
        raise MoneyError(f"cannot read as yen (space between digits): {quote(text)}")
    s = s.strip().replace(",", "").replace("，", "").replace(" ", "").replace("\u3000", "")
    for prefix in ("¥", "￥", "\\"):
        if s.startswith(prefix):
            s = s[len(prefix):]
    if s.endswith("円"):
        s = s[:-1]
    return s


def parse_yen(value: object) -> int:
    """Read an amount of money as integer yen.

    Accepts ints, integral floats/Decimals, and text with full-width digits, thousands separators and the
    units 兆/億/万/千 (e.g. ``1,500万円``, ``1.2億円``, ``１億２０００万円``). Refuses negatives, fractions of a
    yen, amounts above :data:`MAX_YEN`, booleans and anything else with :class:`MoneyError` quoting the value
    (at most 80 characters of it).
    """
    if isinstance(value, bool) or value is None:
        raise MoneyError(f"not an amount of money: {quote(value)}")
    if isinstance(value, int):
        amount = value
    elif isinstance(value, (float, Decimal)):
        if value != value or value in (float("inf"), float("-inf")):
            raise MoneyError(f"not an amount of money: {quote(value)}")
        if value < 0:
            raise MoneyError(f"must not be negative: {quote(value)}")
        if value > MAX_YEN:  # before int(): Decimal("1E+999999999") would take the memory
            raise MoneyError(f"must be at most {MAX_YEN:,} yen (10兆円): {quote(value)}")
        if int(value) != value:
            raise MoneyError(f"not a whole number of yen: {quote(value)}")
        amount = int(value)
    elif isinstance(value, str):
        amount = _parse_text(value)
    else:
        raise MoneyError(f"not an amount of money: {quote(value)}")
    if amount < 0:
        raise MoneyError(f"must not be negative: {quote(value)}")
    if amount > MAX_YEN:
        raise MoneyError(f"must be at most {MAX_YEN:,} yen (10兆円): {quote(value)}")
    return amount


def _parse_text(text: str) -> int:
    if len(text) > MAX_YEN_TEXT:
        raise MoneyError(f"cannot read as yen (more than {MAX_YEN_TEXT} characters): {quote(text)}")
    s = _normalise(text)
    if not s:
        raise MoneyError(f"empty amount: {quote(text)}")
    negative = s.startswith("-")
    if negative:
        s = s[1:]
    pos = 0
    total = Decimal(0)
    last_unit = None
    while pos < len(s):
        m = _PART.match(s, pos)
        if not m or m.end() == pos:
            raise MoneyError(f"cannot read as yen: {quote(text)}")
        number, unit = m.group(1), m.group(2)
        if unit is None and m.end() != len(s):
            raise MoneyError(f"cannot read as yen: {quote(text)}")
        factor = _UNITS[unit] if unit else 1
        if last_unit is not None and factor >= last_unit:
            raise MoneyError(f"units out of order: {quote(text)}")
        try:
            total += Decimal(number) * factor
        except InvalidOperation as exc:  # pragma: no cover - regex admits only digits
            raise MoneyError(f"cannot read as yen: {quote(text)}") from exc
        last_unit = factor
        pos = m.end()
    if total != total.to_integral_value():
        raise MoneyError(f"not a whole number of yen: {quote(text)}")
    amount = int(total)
    return -amount if negative else amount


def format_score(value: float | None, digits: int = 2) -> str:
    """A score for display: ``digits`` decimals, round half up on the shortest decimal form of the float
    (``57.625`` → ``57.63``, although the float is 57.62499…; ``f"{x:.2f}"`` would show 57.62). NaN/None → ``—``."""
    if value is None or value != value:
        return "—"
    return str(Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def round_half_up(values, digits: int = 2):
    """Scores as numbers for display tables, vectorised: ``digits`` decimals, half up, the same results as
    :func:`format_score` (a 1e-9 snap first undoes binary noise: 2.675 is 2.67499… as a float and shows 2.68).
    NaN stays NaN."""
    import numpy as np    # here, not at the top: the login page formats money without loading numpy (issue 15)

    scale = 10.0 ** digits
    v = np.round(np.asarray(values, dtype=float) * scale, 9)
    return np.floor(v + 0.5) / scale


def format_yen(amount: int | None) -> str:
    """``148000000`` → ``148,000,000円``."""
    if amount is None:
        return "—"
    return f"{int(amount):,}円"


def format_man_oku(amount: int | None) -> str:
    """Summary form: ``148000000`` → ``1億4,800万円``; below 1万円, plain yen."""
    if amount is None:
        return "—"
    amount = int(amount)
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    oku, rest = divmod(amount, 10**8)
    man, yen = divmod(rest, 10**4)
    parts = []
    if oku:
        parts.append(f"{oku:,}億")
    if man:
        parts.append(f"{man:,}万")
    if yen or not parts:
        parts.append(f"{yen:,}" if parts else f"{yen:,}")
    return sign + "".join(parts) + "円"
