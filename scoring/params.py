"""The parameters of one ranking run, and a chair's what-if as a value.

:class:`Params` is what :func:`scoring.selection.rank` reads. A pack gives the defaults (``Params.from_pack``); a
what-if (:class:`WhatIf`) changes some of them. "No budget" is a value of its own (:data:`NO_BUDGET`), distinct
from "the pack's budget" (a what-if that leaves ``budget`` unset): ranked only, nobody selected, no waitlist.
Every adapter — the CLI's options, a saved scenario, the chair's what-if widgets — goes through
:meth:`WhatIf.params`, the one place where changes meet the pack.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar, Mapping

from .models import Aggregation, Normalization, SelectionMethod
from .money import MAX_YEN
from .packs import CriteriaPack


class NoBudget:
    """The type of :data:`NO_BUDGET` (a singleton): "rank without a budget"."""

    _instance: ClassVar["NoBudget | None"] = None

    def __new__(cls) -> "NoBudget":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_BUDGET"

    def __reduce__(self):  # pickles (Streamlit's session, caches) as the same singleton
        return (NoBudget, ())


NO_BUDGET = NoBudget()
MAX_POINTS = 1000.0      # a pass line is in points: no pack's total is above this (packs.py bounds points too)
MAX_COUNT = 1_000_000    # waitlist and capacity counts


@dataclass(frozen=True)
class Params:
    """The parameters of one run; a pack gives the defaults, a chair may override any of them (what-if)."""

    aggregation: Aggregation = Aggregation.mean
    normalization: Normalization = Normalization.none
    selection: SelectionMethod = SelectionMethod.greedy_skip
    pass_line: float = 60.0
    criterion_floor: float = 0.25
    min_reviews: int = 3
    trim_min_reviews: int = 5
    waitlist: int = 3
    budget_yen: int | None = None
    capacity_count: int | None = None

    @classmethod
    def of_pack(cls, pack: CriteriaPack) -> "Params":
        """The pack's own parameters (the official ranking)."""
        s = pack.selection
        return cls(aggregation=s.aggregation, normalization=s.normalization, selection=s.method,
                   pass_line=s.pass_line, criterion_floor=s.criterion_floor, min_reviews=s.min_reviews,
                   trim_min_reviews=s.trim_min_reviews, waitlist=s.waitlist, budget_yen=pack.budget.budget_yen,
                   capacity_count=pack.budget.capacity_count)

    @classmethod
    def from_pack(cls, pack: CriteriaPack, **overrides: Any) -> "Params":
        """The pack's parameters with ``overrides``: what-if keys (:attr:`WhatIf.KEYS`; ``budget=NO_BUDGET`` =
        rank without a budget) and any other field of :class:`Params`; ``None`` = not given."""
        whatif = {k: v for k, v in overrides.items() if k in WhatIf.KEYS}
        other = {k: v for k, v in overrides.items() if k not in WhatIf.KEYS and v is not None}
        unknown = set(other) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"unknown parameters: {', '.join(sorted(unknown))}")
        return replace(WhatIf.from_overrides(**whatif).params(pack), **other)

    def budget_limit(self, pack: CriteriaPack) -> int | None:
        return self.capacity_count if pack.is_capacity else self.budget_yen

    def without_budget(self) -> "Params":
        return replace(self, budget_yen=None, capacity_count=None)

    def as_dict(self, pack: CriteriaPack) -> dict:
        out = {"aggregation": self.aggregation.value, "normalization": self.normalization.value,
               "selection": self.selection.value, "pass_line": float(self.pass_line),
               "criterion_floor": float(self.criterion_floor), "min_reviews": int(self.min_reviews),
               "waitlist": int(self.waitlist), "budget_yen": self.budget_yen,
               "trim_min_reviews": int(self.trim_min_reviews)}
        if pack.is_capacity:
            out["capacity_count"] = self.capacity_count
        return out


class WhatIfError(ValueError):
    """A what-if value that cannot be applied (names the key)."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key


_ENUMS = {"aggregation": Aggregation, "normalization": Normalization, "selection": SelectionMethod}


@dataclass(frozen=True)
class WhatIf:
    """A chair's changes to a pack's selection parameters. ``None`` = the pack's own value; ``budget`` may also
    be :data:`NO_BUDGET`. The budget is yen for money packs and a count of recipients for capacity packs."""

    budget: int | NoBudget | None = None
    aggregation: Aggregation | None = None
    normalization: Normalization | None = None
    selection: SelectionMethod | None = None
    pass_line: float | None = None
    waitlist: int | None = None

    KEYS: ClassVar[tuple[str, ...]] = ("budget", "aggregation", "normalization", "selection", "waitlist",
                                       "pass_line")

    def __post_init__(self) -> None:
        for key, enum in _ENUMS.items():
            v = getattr(self, key)
            if v is not None and not isinstance(v, enum):
                try:
                    object.__setattr__(self, key, enum(v))
                except ValueError:
                    raise WhatIfError(key, f"unknown value {str(v)[:40]!r}") from None
        b = self.budget
        if b is not None and b is not NO_BUDGET:
            if (isinstance(b, bool) or not isinstance(b, (int, float)) or b != b or b in (float("inf"), -float("inf"))
                    or b != int(b) or not 0 <= b <= MAX_YEN):
                raise WhatIfError("budget", f"must be a whole number from 0 to {MAX_YEN:,} (got {str(b)[:40]!r})")
            object.__setattr__(self, "budget", int(b))
        if self.waitlist is not None:
            w = self.waitlist
            if (isinstance(w, bool) or not isinstance(w, (int, float)) or w != w or w in (float("inf"), -float("inf"))
                    or int(w) != w or not 0 <= w <= MAX_COUNT):
                raise WhatIfError("waitlist", f"must be a whole number from 0 to {MAX_COUNT:,} (got {str(w)[:40]!r})")
            object.__setattr__(self, "waitlist", int(w))
        if self.pass_line is not None:
            try:
                p = float(self.pass_line)
            except (TypeError, ValueError):
                p = float("nan")
            if not 0 <= p <= MAX_POINTS:
                raise WhatIfError("pass_line", f"must be a number from 0 to {MAX_POINTS:g} "
                                  f"(got {str(self.pass_line)[:40]!r})")
            object.__setattr__(self, "pass_line", p)

    # --- building ------------------------------------------------------------------------------------------
    @classmethod
    def from_overrides(cls, **overrides: Any) -> "WhatIf":
        """Keyword overrides as the CLI gives them: ``None`` = not given."""
        unknown = set(overrides) - set(cls.KEYS)
        if unknown:
            raise WhatIfError(sorted(unknown)[0], "not a what-if parameter "
                              f"(known: {', '.join(cls.KEYS)})")
        return cls(**overrides)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "WhatIf":
        """The stored form (:meth:`to_dict`): a key present with ``null`` budget means no budget."""
        data = dict(data)
        unknown = set(data) - set(cls.KEYS)
        if unknown:
            raise WhatIfError(sorted(unknown)[0], "not a what-if parameter "
                              f"(known: {', '.join(cls.KEYS)})")
        if "budget" in data and data["budget"] is None:
            data["budget"] = NO_BUDGET
        return cls(**data)

    @classmethod
    def from_settings(cls, pack: CriteriaPack, settings: Mapping[str, Any]) -> "WhatIf":
        """A full set of settings, as a form holds them (``budget`` ``None`` = no budget), reduced to what differs
        from the pack's own."""
        own = cls().settings(pack)
        changes: dict[str, Any] = {}
        for key in cls.KEYS:
            if key not in settings:
                continue
            v = settings[key]
            if key in _ENUMS and v is not None:
                v = _ENUMS[key](v).value
            if v != own[key]:
                changes[key] = NO_BUDGET if key == "budget" and v is None else v
        return cls(**changes)

    # --- reading -------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-ready: only the changed keys; no budget is ``"budget": null``."""
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if v is NO_BUDGET:
                out[f.name] = None
            elif v is not None:
                out[f.name] = v.value if hasattr(v, "value") else v
        return out

    @property
    def is_official(self) -> bool:
        """No change at all: the pack's own ranking."""
        return not self.to_dict()

    def params(self, pack: CriteriaPack) -> Params:
        """The one place a what-if meets the pack."""
        p = Params.of_pack(pack)
        changes: dict[str, Any] = {k: getattr(self, k) for k in ("aggregation", "normalization", "selection",
                                                                    "pass_line", "waitlist")
                                   if getattr(self, k) is not None}
        if self.budget is NO_BUDGET:
            changes["capacity_count" if pack.is_capacity else "budget_yen"] = None
        elif self.budget is not None:
            changes["capacity_count" if pack.is_capacity else "budget_yen"] = int(self.budget)
        return replace(p, **changes)

    def settings(self, pack: CriteriaPack) -> dict:
        """Every setting a form shows, the pack's own where unchanged (``budget`` ``None`` = no budget)."""
        p = self.params(pack)
        return {"budget": p.budget_limit(pack), "aggregation": p.aggregation.value,
                "normalization": p.normalization.value, "selection": p.selection.value,
                "waitlist": int(p.waitlist), "pass_line": float(p.pass_line)}

    def changes(self, pack: CriteriaPack) -> list[tuple[str, Any, Any]]:
        """``(key, the pack's value, the what-if's value)`` for every setting that differs from the pack."""
        own, mine = WhatIf().settings(pack), self.settings(pack)
        return [(k, own[k], mine[k]) for k in self.KEYS if own[k] != mine[k]]
