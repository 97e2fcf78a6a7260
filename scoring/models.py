"""The committee's nouns: proposals, consortium members, reviews, reviewers, decisions.

Closed sets are enums; money is ``int`` yen (parsed from what people type by :mod:`scoring.money`).
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from .labels import both
from .money import parse_yen


class StrEnum(str, Enum):
    def __str__(self) -> str:  # so f-strings show the value, not Class.member
        return self.value


class MemberKind(StrEnum):
    local_government = "local_government"
    prefecture = "prefecture"
    company = "company"
    startup = "startup"
    local_ict_company = "local_ict_company"
    university = "university"
    financial_institution = "financial_institution"
    npo = "npo"
    organization = "organization"
    other = "other"


LOCAL_GOVERNMENT_KINDS = frozenset({MemberKind.local_government, MemberKind.prefecture})


class Technology(StrEnum):
    local5g = "local5g"
    wifi_halow = "wifi_halow"
    wifi7 = "wifi7"
    wifi6e = "wifi6e"
    satellite_direct = "satellite_direct"
    apn = "apn"
    haps = "haps"
    lpwa = "lpwa"
    wifi = "wifi"
    lte = "lte"
    other = "other"


class CostCategory(StrEnum):
    lease = "lease"
    purchase = "purchase"
    service = "service"
    licence = "licence"
    travel = "travel"
    utilities = "utilities"
    rental_cloud = "rental_cloud"
    other = "other"


class ReviewStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"


class ReviewerRole(StrEnum):
    reviewer = "reviewer"
    chair = "chair"


class Role(StrEnum):
    """A user's role in the committee's store (the stored ``users.role``; labels: ``auth.role.*``)."""

    chair = "chair"              # 委員長: everything in a round, including reading reviews, reopen, rank, lock
    reviewer = "reviewer"        # 評価委員: own reviews of assigned, non-conflicted proposals only
    secretariat = "secretariat"  # 事務局: rounds, import, users, assignments, progress — never review contents
    system = "system"            # the command line run on the server (not a login; scoring.store.SYSTEM)


ACCOUNT_ROLES = (Role.chair, Role.reviewer, Role.secretariat)
"""The roles an account can have (``system`` is the command line's, never an account's)."""


class RoundStatus(StrEnum):
    """An evaluation round's status (the stored ``rounds.status``)."""

    open = "open"
    locked = "locked"            # 確定: nothing in the round changes any more (the chair may unlock, logged)


class RuleStatus(StrEnum):
    passed = "pass"
    fail = "fail"
    needs_check = "needs_check"
    conditional = "conditional"


class Decision(StrEnum):
    selected = "selected"
    waitlisted = "waitlisted"
    over_budget = "over_budget"
    ranked = "ranked"
    below_pass_line = "below_pass_line"
    below_criterion_floor = "below_criterion_floor"
    insufficient_reviews = "insufficient_reviews"
    ineligible = "ineligible"
    not_shortlisted = "not_shortlisted"   # stages.md §2: qualifying, not invited to the hearing


DECISION_LABELS = {d: both(f"decision.{d.value}") for d in Decision}  # (ja, en), from scoring/vocabulary


class Aggregation(StrEnum):
    mean = "mean"
    median = "median"
    trimmed = "trimmed"


class Normalization(StrEnum):
    none = "none"
    zscore = "zscore"


class SelectionMethod(StrEnum):
    greedy_skip = "greedy_skip"
    greedy_stop = "greedy_stop"


Yen = Annotated[int, BeforeValidator(parse_yen)]


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


OptionalYen = Annotated[Yen | None, BeforeValidator(_blank_to_none)]

FactValue = bool | int | float | str | None


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, str_strip_whitespace=True)


class Applicant(_Model):
    name: str = Field(min_length=1)
    kind: MemberKind
    prefecture: str | None = None
    municipality: str | None = None


class Member(_Model):
    name: str = Field(min_length=1)
    kind: MemberKind
    role: str = ""


class CostLine(_Model):
    item: str = ""
    category: CostCategory
    amount_yen: Yen
    unit_price_yen: OptionalYen = None
    useful_life_years: float | None = Field(default=None, ge=0)
    years: float | None = Field(default=None, ge=0)
    cannot_lease_reason: str | None = None


class Proposal(_Model):
    id: str = Field(min_length=1)
    pack: str = Field(min_length=1)
    title: str = ""
    applicant: Applicant
    consortium: list[Member] = Field(default_factory=list)
    requested_yen: OptionalYen = None
    eligible_cost_yen: OptionalYen = None
    technologies: list[Technology] = Field(default_factory=list)
    facts: dict[str, FactValue] = Field(default_factory=dict)
    cost_lines: list[CostLine] = Field(default_factory=list)
    summary: str = ""

    @field_validator("consortium", "technologies", "cost_lines", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("facts", mode="before")
    @classmethod
    def _facts_none_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value

    def members(self) -> list[tuple[str, MemberKind, bool]]:
        """Every consortium member, the applicant first: (name, kind, is_applicant)."""
        out = [(self.applicant.name, self.applicant.kind, True)]
        out.extend((m.name, m.kind, False) for m in self.consortium)
        return out


class Reviewer(_Model):
    reviewer_id: str = Field(min_length=1)
    name: str = ""
    role: ReviewerRole = ReviewerRole.reviewer
    conflicts: tuple[str, ...] = ()

    @field_validator("conflicts", mode="before")
    @classmethod
    def _split_conflicts(cls, value: Any) -> Any:
        if value is None:
            return ()
        if isinstance(value, str):
            return tuple(p.strip() for p in value.split(";") if p.strip())
        return tuple(value)


class ReviewRow(_Model):
    """One line of the long review table: one reviewer, one proposal, one item."""

    reviewer_id: str = Field(min_length=1)
    proposal_id: str = Field(min_length=1)
    item: str = Field(min_length=1)
    value: int
    status: ReviewStatus
    comment: str = ""

    @field_validator("comment", mode="before")
    @classmethod
    def _comment_none(cls, value: Any) -> Any:
        return "" if value is None else value
