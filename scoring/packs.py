"""Criteria packs: the schema and its validation — no file is read here.

Two steps, as in pydantic-settings: the file adapter :mod:`scoring.io.packs` turns a YAML file into a dict
(``read_pack_file``; ``load_pack`` reads and validates, given a path, the bytes of a file or a shipped pack id);
:func:`validate_pack` here turns a dict into a :class:`CriteriaPack`, listing every problem at once as
``file: field.path: message``. The format is documented in ``docs/pack-format.md``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal as TLiteral

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from .conditions import ConditionErrors, parse_condition, parse_operand, referenced_facts
from .errors import PackError, Problem, problems_from_validation, quote
from .models import (MAX_ID_CHARS, MAX_NAME_CHARS, MAX_TEXT_CHARS, Aggregation, Normalization, ReviewVisibility,
                     RuleStatus, SelectionMethod)
from .money import MAX_YEN

SHIPPED_PACKS = ("advanced_comms", "ai_edge", "autonomous_l4", "subsidy", "planning_support", "promotion_system")

# Every number a pack holds is bounded (docs/security/text-inputs.md): no NaN or infinity anywhere, points of at
# most MAX_POINTS, yen of at most MAX_YEN (scoring.money), counts of at most MAX_COUNT.
MAX_POINTS = 1_000.0     # total_points, a criterion's or a bonus's points, the bonus cap, the pass line
MAX_LEVEL = 100          # a scale level (the review table holds levels as int16; 0 means "no level")
MAX_COUNT = 1_000_000    # recipients, waitlist, reviews, orders, subsidy rate terms
MAX_ITEMS = 1_000        # criteria, scale levels, bonuses, rules, checks, notes, overrides of one pack

PackId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=MAX_ID_CHARS)]
PackYen = Annotated[int, Field(ge=0, le=MAX_YEN)]
Points = Annotated[float, Field(gt=0, le=MAX_POINTS)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Text(_Strict):
    ja: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    en: str = Field(default="", max_length=MAX_TEXT_CHARS)

    def get(self, lang: str = "ja") -> str:
        return self.en if lang == "en" and self.en else self.ja


class Programme(_Strict):
    code: str = Field(max_length=MAX_NAME_CHARS)
    name: Text
    description: Text | None = None
    source: str = Field(default="", max_length=MAX_TEXT_CHARS)


class ScaleLevel(_Strict):
    level: int = Field(ge=1, le=MAX_LEVEL)
    label: Text
    ratio: float = Field(ge=0, le=1)


class Criterion(_Strict):
    id: PackId
    order: int = Field(ge=-MAX_COUNT, le=MAX_COUNT)
    points: Points
    label: Text
    derived: bool = False
    guidance: dict[int, Text] = Field(default_factory=dict, max_length=MAX_LEVEL)


class Bonus(_Strict):
    id: PackId
    kind: TLiteral["fact", "judged", "ratio"]
    points: Points
    label: Text
    derived: bool = False
    condition: Any = None
    when: Any = None
    numerator: Any = None
    denominator: Any = None


class EligibilityRule(_Strict):
    id: PackId
    label: Text
    when: Any = None
    require: Any
    on_fail: TLiteral["fail", "needs_check", "conditional"] = "fail"
    on_unknown: TLiteral["fail", "needs_check", "conditional"] = "needs_check"
    messages: dict[TLiteral["pass", "fail", "unknown", "not_applicable"], Text] = Field(default_factory=dict)
    advice: Text | None = None
    condition: Text | None = None


class ExpenseCheck(_Strict):
    id: PackId
    label: Text
    flag_when: Any
    message: Text


class CapOverride(_Strict):
    when: Any
    cap_yen: PackYen
    reason: Text | None = None


class SubsidyRate(_Strict):
    numerator: int = Field(gt=0, le=MAX_COUNT)
    denominator: int = Field(gt=0, le=MAX_COUNT)


class Funding(_Strict):
    mode: TLiteral["requested", "subsidy", "capacity"] = "requested"
    cap_yen: PackYen | None = None
    cap_overrides: list[CapOverride] = Field(default_factory=list, max_length=MAX_ITEMS)
    over_cap: TLiteral["clamp", "reject"] = "clamp"
    subsidy_rate: SubsidyRate | None = None
    rounding_yen: int = Field(default=1000, gt=0, le=MAX_YEN)


class Budget(_Strict):
    budget_yen: PackYen | None = None
    capacity_count: Count | None = None


class SelectionPolicy(_Strict):
    aggregation: Aggregation = Aggregation.mean
    normalization: Normalization = Normalization.none
    pass_line: float = Field(default=60.0, ge=0, le=MAX_POINTS)
    criterion_floor: float = Field(default=0.25, ge=0, le=1)
    min_reviews: int = Field(default=3, ge=1, le=MAX_COUNT)
    trim_min_reviews: int = Field(default=5, ge=3, le=MAX_COUNT)
    method: SelectionMethod = SelectionMethod.greedy_skip
    waitlist: Count = 3


class Policy(_Strict):
    reviewers_see_others: bool = False
    anonymise_comments: bool = True


class Bond(_Strict):
    id: str = Field(max_length=MAX_ID_CHARS)
    name: Text
    applies_to: Text | None = None
    appropriation_rate: float = Field(ge=0, le=1)
    grant_tax_measure_rate: float = Field(ge=0, le=1)


class LocalShare(_Strict):
    provisional: bool = True
    label: Text
    bonds: list[Bond] = Field(default_factory=list, max_length=MAX_ITEMS)


class Note(_Strict):
    text: Text
    derived: bool = False


class _HasCriteria(_Strict):
    """A pack or its hearing section: criteria kept in their ``order``, and their ids in that order."""

    @field_validator("criteria", check_fields=False)
    @classmethod
    def _in_order(cls, v: list[Criterion]) -> list[Criterion]:
        return sorted(v, key=lambda c: c.order)

    @property
    def criterion_ids(self) -> list[str]:
        return [c.id for c in self.criteria]


class HearingShortlist(_Strict):
    """stages.md §2: how the document stage's ranked list is cut for the hearing."""

    method: TLiteral["top_n", "budget_multiple", "line"]
    n: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    multiple: float | None = Field(default=None, gt=0, le=MAX_POINTS)


class HearingCombine(_Strict):
    """stages.md §4: how the final score is made of the two stages."""

    method: TLiteral["hearing_only", "weighted"]
    document_weight: float | None = Field(default=None, ge=0, le=1)
    hearing_weight: float | None = Field(default=None, ge=0, le=1)


class Hearing(_HasCriteria):
    """The optional hearing stage (ヒアリング審査, stages.md): its own criteria on the pack's scale."""

    criteria: list[Criterion] = Field(min_length=1, max_length=MAX_ITEMS)
    min_reviews: int = Field(default=3, ge=1, le=MAX_COUNT)
    pass_line: float | None = Field(default=None, ge=0, le=MAX_POINTS)
    shortlist: HearingShortlist
    combine: HearingCombine
    slot_minutes: int = Field(default=40, gt=0, le=24 * 60)
    break_minutes: int = Field(default=10, ge=0, le=24 * 60)


class CriteriaPack(_HasCriteria):
    id: PackId
    version: str = Field(max_length=MAX_NAME_CHARS)
    programme: Programme
    total_points: Points
    scale: list[ScaleLevel] = Field(min_length=2, max_length=MAX_LEVEL)
    criteria: list[Criterion] = Field(min_length=1, max_length=MAX_ITEMS)
    bonus_cap: float = Field(default=0, ge=0, le=MAX_POINTS)
    bonuses: list[Bonus] = Field(default_factory=list, max_length=MAX_ITEMS)
    eligibility: list[EligibilityRule] = Field(default_factory=list, max_length=MAX_ITEMS)
    expense_checks: list[ExpenseCheck] = Field(default_factory=list, max_length=MAX_ITEMS)
    funding: Funding = Funding()
    budget: Budget = Budget()
    selection: SelectionPolicy = SelectionPolicy()
    policy: Policy = Policy()
    local_share: LocalShare | None = None
    hearing: Hearing | None = None
    # when reviewers see each other's reviews and the discussion (issue 16 §8); None: the default
    # (after_own_submit) unless the round sets its own
    review_visibility: ReviewVisibility | None = None
    notes: list[Note] = Field(default_factory=list, max_length=MAX_ITEMS)

    _compiled: dict = PrivateAttr(default_factory=dict)
    _source: str = PrivateAttr(default="")

    # -- derived views -------------------------------------------------------------------------------------

    @property
    def levels(self) -> dict[int, float]:
        return {s.level: s.ratio for s in self.scale}

    @property
    def judged_bonuses(self) -> list[Bonus]:
        return [b for b in self.bonuses if b.kind == "judged"]

    @property
    def is_capacity(self) -> bool:
        return self.funding.mode == "capacity"

    def compiled(self, key: str):
        """The parsed condition tree of a rule/bonus/check (e.g. ``rule:consortium_local_government``)."""
        return self._compiled[key]

    def facts_read(self) -> set[str]:
        """Every proposal fact any rule, bonus, cap or check of this pack reads."""
        out: set[str] = set()
        for v in self._compiled.values():
            out |= referenced_facts(v)
        return out

    @property
    def source(self) -> str:
        return self._source


def _raw_conditions(data: dict) -> list[tuple[str, str, Any, bool, str]]:
    """(compiled key, path, raw, in_line, kind) for every condition-bearing field of a raw pack dict."""
    out = []

    def items(name):
        v = data.get(name)
        return v if isinstance(v, list) else []

    for i, r in enumerate(items("eligibility")):
        if isinstance(r, dict):
            rid = r.get("id", i)
            if "require" in r:
                out.append((f"rule:{rid}", f"eligibility[{i}].require", r["require"], False, "cond"))
            if r.get("when") is not None:
                out.append((f"rule_when:{rid}", f"eligibility[{i}].when", r["when"], False, "cond"))
    for i, b in enumerate(items("bonuses")):
        if isinstance(b, dict):
            bid = b.get("id", i)
            if b.get("condition") is not None:
                out.append((f"bonus:{bid}", f"bonuses[{i}].condition", b["condition"], False, "cond"))
            if b.get("when") is not None:
                out.append((f"bonus_when:{bid}", f"bonuses[{i}].when", b["when"], False, "cond"))
            for part in ("numerator", "denominator"):
                if b.get(part) is not None:
                    out.append((f"bonus_{part}:{bid}", f"bonuses[{i}].{part}", b[part], False, "operand"))
    for i, c in enumerate(items("expense_checks")):
        if isinstance(c, dict) and "flag_when" in c:
            out.append((f"expense:{c.get('id', i)}", f"expense_checks[{i}].flag_when", c["flag_when"], True, "cond"))
    funding = data.get("funding") if isinstance(data.get("funding"), dict) else {}
    for i, o in enumerate(funding.get("cap_overrides") or []):
        if isinstance(o, dict) and "when" in o:
            out.append((f"cap:{i}", f"funding.cap_overrides[{i}].when", o["when"], False, "cond"))
    return out


def _criteria_problems(criteria: list[Criterion], total_points: float, levels: list[int], path: str, add,
                       total_name: str = "total_points is") -> None:
    """Ids and orders unique, points summing to ``total_points``, guidance for every level of the scale."""
    ids = [c.id for c in criteria]
    for i, c in enumerate(criteria):
        if ids.count(c.id) > 1:
            add(f"{path}[{i}].id", f"duplicate criterion id {quote(c.id)}")
    orders = [c.order for c in criteria]
    if len(set(orders)) != len(orders):
        add(path, f"criterion orders must be unique (got {quote(orders)})")
    total = sum(c.points for c in criteria)
    if abs(total - total_points) > 1e-9:
        add(path, f"points sum to {total:g}, but {total_name} {total_points:g}")
    for i, c in enumerate(criteria):
        missing = [lv for lv in levels if lv not in c.guidance]
        if missing:
            add(f"{path}[{i}].guidance", f"no guidance for level(s) {quote(missing)}")
        extra = [lv for lv in c.guidance if lv not in levels]
        if extra:
            add(f"{path}[{i}].guidance", f"guidance for level(s) {quote(extra)} not on the scale")


def _hearing_problems(pack: CriteriaPack, levels: list[int], add) -> None:
    """stages.md "Pack fields": the hearing section's criteria, shortlist method and combine weights."""
    h = pack.hearing
    if h is None:
        return
    _criteria_problems(h.criteria, 100.0, levels, "hearing.criteria", add, "hearing points must sum to")
    s = h.shortlist
    if s.method == "top_n" and s.n is None:
        add("hearing.shortlist.n", "shortlist method top_n needs n (how many proposals)")
    if s.method == "budget_multiple" and s.multiple is None:
        add("hearing.shortlist.multiple", "shortlist method budget_multiple needs multiple (× budget)")
    if s.method != "top_n" and s.n is not None:
        add("hearing.shortlist.n", f"n is only for method top_n (method is {s.method})")
    if s.method != "budget_multiple" and s.multiple is not None:
        add("hearing.shortlist.multiple", f"multiple is only for method budget_multiple (method is {s.method})")
    c = h.combine
    if c.method == "weighted":
        if c.document_weight is None or c.hearing_weight is None:
            add("hearing.combine", "method weighted needs document_weight and hearing_weight")
        elif abs(c.document_weight + c.hearing_weight - 1.0) > 1e-9:
            add("hearing.combine", f"document_weight + hearing_weight must be 1 (got {c.document_weight:g} + "
                                   f"{c.hearing_weight:g} = {c.document_weight + c.hearing_weight:g})")
    elif c.document_weight is not None or c.hearing_weight is not None:
        add("hearing.combine", "weights are only for method weighted (method is hearing_only)")


def _semantic_problems(pack: CriteriaPack, add) -> None:
    levels = [s.level for s in pack.scale]
    _criteria_problems(pack.criteria, pack.total_points, levels, "criteria", add)
    if len(set(levels)) != len(levels):
        add("scale", f"levels must be unique (got {quote(levels)})")
    ratios = [s.ratio for s in pack.scale]
    if len(set(ratios)) != len(ratios):
        add("scale", f"ratios must be unique (got {quote(ratios)})")
    _hearing_problems(pack, levels, add)
    bids = [b.id for b in pack.bonuses]
    for i, b in enumerate(pack.bonuses):
        if bids.count(b.id) > 1:
            add(f"bonuses[{i}].id", f"duplicate bonus id {quote(b.id)}")
        if b.kind == "fact" and b.condition is None:
            add(f"bonuses[{i}].condition", "a fact bonus needs a condition")
        if b.kind == "ratio" and (b.numerator is None or b.denominator is None):
            add(f"bonuses[{i}]", "a ratio bonus needs numerator and denominator")
        if b.kind == "judged" and (b.condition is not None or b.numerator is not None):
            add(f"bonuses[{i}]", "a judged bonus is marked by reviewers: no condition or ratio")
    rids = [r.id for r in pack.eligibility]
    for i, r in enumerate(pack.eligibility):
        if rids.count(r.id) > 1 or r.id in ("amount", "cap"):
            add(f"eligibility[{i}].id", f"duplicate or reserved rule id {quote(r.id)}")
        if r.on_fail == "conditional" and r.condition is None:
            add(f"eligibility[{i}].condition", "a conditional rule needs the condition text")
    f = pack.funding
    if f.mode == "subsidy" and f.subsidy_rate is None:
        add("funding.subsidy_rate", "a subsidy pack needs subsidy_rate")
    if f.mode == "capacity" and pack.budget.budget_yen is not None:
        add("budget.budget_yen", "a capacity pack counts recipients: use capacity_count, not budget_yen")
    if f.mode != "capacity" and pack.budget.capacity_count is not None:
        add("budget.capacity_count", "capacity_count is only for funding.mode capacity")
    if pack.bonuses and pack.bonus_cap <= 0:
        add("bonus_cap", "the pack has bonus items but bonus_cap is 0")
    if pack.policy.reviewers_see_others and pack.review_visibility == ReviewVisibility.never:
        add("review_visibility", "never contradicts policy.reviewers_see_others: true (drop one of them)")


def validate_pack(data: dict, source: str = "<pack>") -> CriteriaPack:
    """Step two: dict → :class:`CriteriaPack`, or :class:`PackError` listing every problem at once."""
    problems: list[Problem] = []

    def add(field: str, message: str) -> None:
        problems.append(Problem(source, None, field, message))

    col = ConditionErrors()
    compiled = {}
    for key, path, raw, in_line, kind in _raw_conditions(data):
        if kind == "operand":
            compiled[key] = parse_operand(raw, path, col, in_line)
        else:
            compiled[key] = parse_condition(raw, path, col, in_line)
    for path, msg in col.errors:
        add(path, msg)
    try:
        pack = CriteriaPack.model_validate(data)
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, source))
        raise PackError(problems) from None
    _semantic_problems(pack, add)
    if problems:
        raise PackError(problems)
    pack._compiled = compiled
    pack._source = source
    return pack


def pack_from_dict(data: dict, source: str = "<stored pack>") -> CriteriaPack:
    """Rebuild a pack stored as data (e.g. a round's frozen copy)."""
    return validate_pack(data, source=source)


def pack_to_dict(pack: CriteriaPack) -> dict:
    return pack.model_dump(mode="json", exclude_none=False)


__all__ = ["CriteriaPack", "Criterion", "Hearing", "HearingShortlist", "HearingCombine", "Bonus", "EligibilityRule", "Text", "validate_pack", "pack_from_dict",
           "pack_to_dict", "PackError", "SHIPPED_PACKS", "RuleStatus"]
