"""The committee's nouns: proposals, consortium members, reviews, reviewers, decisions.

Closed sets are enums; money is ``int`` yen (parsed from what people type by :mod:`scoring.money`).
"""

from __future__ import annotations

import math
from enum import Enum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from .errors import quote
from .labels import both
from .money import parse_yen

# Bounds of what a proposal or a reviewer may hold (docs/security/text-inputs.md): every text, list and number
# of a file is bounded, so that one hostile or careless row cannot take the memory, the time or the messages.
MAX_ID_CHARS = 200          # ids: proposal, pack, reviewer, item
MAX_NAME_CHARS = 1_000      # names, titles, roles, short texts
MAX_TEXT_CHARS = 100_000    # free text: a summary, a comment
MAX_MEMBERS = 1_000         # consortium members of one proposal
MAX_COST_LINES = 10_000     # cost lines of one proposal
MAX_TECHNOLOGIES = 100
MAX_CONFLICTS = 10_000      # conflict declarations of one reviewer
MAX_FACTS = 500             # facts of one proposal
MAX_FACT_NUMBER = 10**15    # |a fact's number| (yen are ≤ 10**13; counts and ratios far below)
MAX_YEARS = 1_000.0         # useful life, years of a cost line

Id = Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS)]
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS)]
ShortText = Annotated[str, Field(max_length=MAX_NAME_CHARS)]
LongText = Annotated[str, Field(max_length=MAX_TEXT_CHARS)]
Years = Annotated[float, Field(ge=0, le=MAX_YEARS, allow_inf_nan=False)]


def _bounded_list(value: Any, limit: int, what: str) -> Any:
    """``None`` → ``[]``; a list longer than ``limit`` refused before its items are validated."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)) and len(value) > limit:
        raise ValueError(f"at most {limit:,} {what} (got {len(value):,})")
    return value


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


class Stage(StrEnum):
    """A pack's stage in a round (the stored ``round_packs.stage``; stages.md): 書面審査 → ヒアリング対象の選定 →
    ヒアリング → 決定. A pack without a ``hearing`` section goes from ``document`` straight to ``decided``."""

    document = "document"        # 書面審査: document reviews are written
    shortlist = "shortlist"      # ヒアリング対象の選定: document reviews read-only; the chair edits the shortlist
    hearing = "hearing"          # ヒアリング: the shortlist is fixed; hearing reviews are written
    decided = "decided"          # 決定: every review read-only


STAGE_ORDER = (Stage.document, Stage.shortlist, Stage.hearing, Stage.decided)


class ReviewVisibility(StrEnum):
    """When a reviewer sees the other reviewers' scores and comments and the panel's discussion of a proposal
    (a pack's ``review_visibility`` or the round's setting; issue 16 §8). Chairs always see them."""

    never = "never"                          # only their own review and their own posts
    after_own_submit = "after_own_submit"    # once their own review of the proposal is submitted (the default)
    always = "always"


DEFAULT_REVIEW_VISIBILITY = ReviewVisibility.after_own_submit


class CommentVisibility(StrEnum):
    """Who reads a comment of the panel's discussion (委員間の議論; the stored ``discussion_comments.visibility``)."""

    committee = "committee"      # every committee member the review-visibility policy lets see the thread
    chairs = "chairs"            # the chairs only (and its author)


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
    name: Name
    kind: MemberKind
    prefecture: ShortText | None = None
    municipality: ShortText | None = None


class Member(_Model):
    name: Name
    kind: MemberKind
    role: ShortText = ""


class CostLine(_Model):
    item: ShortText = ""
    category: CostCategory
    amount_yen: Yen
    unit_price_yen: OptionalYen = None
    useful_life_years: Years | None = None
    years: Years | None = None
    cannot_lease_reason: LongText | None = None


_LIST_LIMITS = {"consortium": (MAX_MEMBERS, "members"), "technologies": (MAX_TECHNOLOGIES, "technologies"),
                "cost_lines": (MAX_COST_LINES, "cost lines")}


class Proposal(_Model):
    id: Id
    pack: Id
    title: ShortText = ""
    applicant: Applicant
    consortium: list[Member] = Field(default_factory=list)
    requested_yen: OptionalYen = None
    eligible_cost_yen: OptionalYen = None
    technologies: list[Technology] = Field(default_factory=list)
    facts: dict[str, FactValue] = Field(default_factory=dict)
    cost_lines: list[CostLine] = Field(default_factory=list)
    summary: LongText = ""

    @field_validator("consortium", "technologies", "cost_lines", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any, info) -> Any:
        return _bounded_list(value, *_LIST_LIMITS[info.field_name])

    @field_validator("facts", mode="before")
    @classmethod
    def _facts_bounded(cls, value: Any) -> Any:
        """``None`` → ``{}``; at most :data:`MAX_FACTS` facts with short names, each a flat value (true/false,
        a finite number of at most :data:`MAX_FACT_NUMBER`, a text of at most :data:`MAX_TEXT_CHARS`, null)."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            return value  # pydantic's own message
        if len(value) > MAX_FACTS:
            raise ValueError(f"at most {MAX_FACTS} facts (got {len(value):,})")
        for key, v in value.items():
            if isinstance(key, str) and not 0 < len(key) <= MAX_ID_CHARS:
                raise ValueError(f"a fact name has 1 to {MAX_ID_CHARS} characters (got {quote(key)})")
            name = quote(key)
            if isinstance(v, (dict, list, tuple, set)):
                raise ValueError(f"fact {name}: must be true/false, a number, a text or null, not a "
                                 f"{'mapping' if isinstance(v, dict) else 'list'} (got {quote(v)})")
            if isinstance(v, bool) or v is None:
                continue
            if isinstance(v, float) and not math.isfinite(v):
                raise ValueError(f"fact {name}: must be a finite number (got {quote(v)})")
            if isinstance(v, (int, float)) and abs(v) > MAX_FACT_NUMBER:
                raise ValueError(f"fact {name}: must be between -{MAX_FACT_NUMBER:,} and {MAX_FACT_NUMBER:,} "
                                 f"(got {quote(v)})")
            if isinstance(v, str) and len(v) > MAX_TEXT_CHARS:
                raise ValueError(f"fact {name}: at most {MAX_TEXT_CHARS:,} characters (got {len(v):,})")
        return value

    def members(self) -> list[tuple[str, MemberKind, bool]]:
        """Every consortium member, the applicant first: (name, kind, is_applicant)."""
        out = [(self.applicant.name, self.applicant.kind, True)]
        out.extend((m.name, m.kind, False) for m in self.consortium)
        return out


class Reviewer(_Model):
    reviewer_id: Id
    name: ShortText = ""
    role: ReviewerRole = ReviewerRole.reviewer
    conflicts: tuple[Id, ...] = ()

    @field_validator("conflicts", mode="before")
    @classmethod
    def _split_conflicts(cls, value: Any) -> Any:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [p.strip() for p in value.split(";") if p.strip()]
        return tuple(_bounded_list(value, MAX_CONFLICTS, "conflicts"))


class ReviewRow(_Model):
    """One line of the long review table: one reviewer, one proposal, one item."""

    reviewer_id: Id
    proposal_id: Id
    item: Id
    value: int = Field(ge=-1_000, le=1_000)
    status: ReviewStatus
    comment: LongText = ""

    @field_validator("comment", mode="before")
    @classmethod
    def _comment_none(cls, value: Any) -> Any:
        return "" if value is None else value
