"""Eligibility (形式・要件審査): a pack's declarative rules evaluated over all proposals at once.

Three-valued logic: every condition yields ``(value, known)`` boolean arrays. A rule whose data is missing
is ``needs_check``, never a silent pass (formats.md). Each outcome has a reason naming the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .conditions import (AllOf, AnyOf, Compare, CostLinesAll, CountMembers, CountTechnologies, Fact, FieldRef,
                         LineField, Literal, Not)
from .labels import label as text
from .models import RuleStatus
from .packs import CriteriaPack, Text
from .table import KIND_CODE, TECH_CODE, ProposalTable

# status codes in the matrix
PASS, FAIL, NEEDS_CHECK, CONDITIONAL = 0, 1, 2, 3
STATUS_OF_CODE = {PASS: RuleStatus.passed, FAIL: RuleStatus.fail, NEEDS_CHECK: RuleStatus.needs_check,
                  CONDITIONAL: RuleStatus.conditional}
CODE_OF_STATUS = {v.value: k for k, v in STATUS_OF_CODE.items()}
# outcome codes (which message explains the status)
O_PASS, O_FAIL, O_UNKNOWN, O_NA, O_RESOLVED = 0, 1, 2, 3, 4

def _is_set(col: np.ndarray) -> np.ndarray:
    return ~pd.isna(col) if len(col) else np.zeros(0, bool)


def isin_small(arr: np.ndarray, values) -> np.ndarray:
    """Membership in a small set of ids: one vectorised comparison per value (no sort, no hashing)."""
    mask = np.zeros(len(arr), bool)
    for v in values:
        mask |= arr == v
    return mask


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _bools(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=bool)


class EvalContext:
    """Evaluation context: the proposal rows, or (inside cost-line conditions) the cost-line rows."""

    def __init__(self, table: ProposalTable, lines: bool = False):
        self.t = table
        self.lines = lines
        self.n = len(table.l_prop) if lines else table.n


def operand_values(op, ctx: EvalContext) -> tuple[np.ndarray, np.ndarray]:
    """The values of a compiled operand for every row of ``ctx``, and whether each is known."""
    n, t = ctx.n, ctx.t
    if isinstance(op, Literal):
        vals = np.empty(n, dtype=object)
        if isinstance(op.value, tuple):
            for i in range(n):
                vals[i] = op.value
        else:
            vals[:] = op.value
        return vals, np.full(n, op.value is not None)
    if isinstance(op, Fact):
        col = t.fact(op.name)
        known = t.fact_known(op.name)
        return _plus(col, known, op.plus), known
    if isinstance(op, FieldRef):
        if op.name == "requested_yen":
            return t.requested + op.plus, t.requested_known.copy()
        if op.name == "eligible_cost_yen":
            return t.eligible_cost + op.plus, t.eligible_cost_known.copy()
        if op.name == "applicant_kind":
            return t.applicant_kind, np.ones(n, bool)
        if op.name == "technology_count":
            return np.bincount(t.t_prop, minlength=n) + op.plus, np.ones(n, bool)
        if op.name == "member_count":
            return np.bincount(t.m_prop, minlength=n) + op.plus, np.ones(n, bool)
        raise ValueError(op.name)  # pragma: no cover - validated at load
    if isinstance(op, CountMembers):
        kinds = set(op.kinds)
        if "local_government" in kinds and "prefecture" not in op.exclude_kinds:
            kinds.add("prefecture")  # a prefecture counts as a local government in every rule
        mask = isin_small(t.m_kind_code, [KIND_CODE[k] for k in kinds])
        if op.exclude_kinds:
            mask &= ~isin_small(t.m_kind_code, [KIND_CODE[k] for k in op.exclude_kinds])
        if not op.include_applicant:
            mask &= ~t.m_is_applicant
        return np.bincount(t.m_prop[mask], minlength=n) + op.plus, np.ones(n, bool)
    if isinstance(op, CountTechnologies):
        tech = t.t_tech_code
        mask = np.ones(len(tech), bool)
        if op.in_ is not None:
            mask &= isin_small(tech, [TECH_CODE[x] for x in op.in_])
        if op.not_in is not None:
            mask &= ~isin_small(tech, [TECH_CODE[x] for x in op.not_in])
        return np.bincount(t.t_prop[mask], minlength=n) + op.plus, np.ones(n, bool)
    if isinstance(op, LineField):
        col = t.l_fields[op.name]
        known = _is_set(col)
        return _plus(col, known, op.plus), known
    raise TypeError(op)  # pragma: no cover


def _plus(vals: np.ndarray, known: np.ndarray | None, plus: float) -> np.ndarray:
    if not plus:
        return vals
    out = vals.copy()
    idx = np.nonzero(known)[0] if known is not None else np.arange(len(vals))
    for i in idx:
        v = out[i]
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
            out[i] = v + plus
    return out


def _as_float(vals: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = np.full(len(vals), np.nan)
    ok = known.copy()
    for i in np.nonzero(known)[0]:
        v = vals[i]
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            ok[i] = False
        else:
            out[i] = float(v)
    return out, ok


def numeric_values(vals: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Operand values as floats; a value that is not a number becomes unknown."""
    if vals.dtype.kind in "iuf":
        return vals.astype(float, copy=False), known
    try:
        f = vals.astype(float)
    except (TypeError, ValueError):
        return _as_float(vals, known)
    has_bool = any(isinstance(v, bool) for v in vals[known][:1000]) if known.any() else False
    if has_bool:
        return _as_float(vals, known)
    return f, known


def condition(cond, ctx: EvalContext) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate a parsed condition: (value, known) boolean arrays over the context's rows."""
    n = ctx.n
    if isinstance(cond, Compare):
        lv, lk = operand_values(cond.left, ctx)
        op = cond.op
        if op in ("in", "not_in"):
            allowed = cond.right.value if isinstance(cond.right, Literal) else ()
            none_ok = None in allowed
            allowed_set = {a for a in allowed if a is not None}
            member = np.asarray(pd.Series(lv, dtype=object).isin(list(allowed_set)), dtype=bool) & lk
            member |= none_ok & ~lk
            known = lk | (none_ok & ~lk)
            val = member if op == "in" else ~member
            return val & known, known
        if isinstance(cond.right, Literal) and cond.right.value is not None:
            rv, rk = None, np.ones(n, bool)  # a constant: compared as a scalar below
        else:
            rv, rk = operand_values(cond.right, ctx)
        known = lk & rk
        if op in ("eq", "ne"):
            eq = np.zeros(n, bool)
            idx = np.nonzero(known)[0]
            if len(idx):
                right = cond.right.value if isinstance(cond.right, Literal) else rv[idx]
                eq[idx] = np.asarray(lv[idx] == right, dtype=bool)
            val = eq if op == "eq" else ~eq
            return val & known, known
        lf, lk2 = numeric_values(lv, known)
        if isinstance(cond.right, Literal) and _is_number(cond.right.value):
            rf, rk2 = float(cond.right.value), np.ones(n, bool)
        else:
            rf, rk2 = numeric_values(rv, known)
        known = known & lk2 & rk2
        with np.errstate(invalid="ignore"):
            if op == "lt":
                val = lf < rf
            elif op == "le":
                val = lf <= rf
            elif op == "gt":
                val = lf > rf
            else:
                val = lf >= rf
        return val & known, known
    if isinstance(cond, AllOf):
        val, known = np.ones(n, bool), np.ones(n, bool)
        any_false = np.zeros(n, bool)
        for part in cond.parts:
            v, k = condition(part, ctx)
            any_false |= k & ~v
            known &= k
            val &= v
        known |= any_false
        return val & known & ~any_false, known
    if isinstance(cond, AnyOf):
        any_true = np.zeros(n, bool)
        all_known = np.ones(n, bool)
        for part in cond.parts:
            v, k = condition(part, ctx)
            any_true |= k & v
            all_known &= k
        known = all_known | any_true
        return any_true, known
    if isinstance(cond, Not):
        v, k = condition(cond.part, ctx)
        return ~v & k, k
    if isinstance(cond, CostLinesAll):
        t = ctx.t
        lctx = EvalContext(t, lines=True)
        if cond.where is None:
            wv, wk = np.ones(lctx.n, bool), np.ones(lctx.n, bool)
        else:
            wv, wk = condition(cond.where, lctx)
        rv, rk = condition(cond.require, lctx)
        violation = wv & wk & rk & ~rv
        unknown = ~wk | (wv & ~rk)
        n_viol = np.bincount(t.l_prop[violation], minlength=n)
        n_unk = np.bincount(t.l_prop[unknown], minlength=n)
        known = (n_viol > 0) | (n_unk == 0)
        return (n_viol == 0) & known, known
    raise TypeError(cond)  # pragma: no cover


# --- rules ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleInfo:
    id: str
    label: Text
    messages: dict
    advice: Text | None
    condition: Text | None


BUILTIN_LABELS = {
    "amount": Text(ja="申請額の記載", en="Amount stated"),
    "cap": Text(ja="上限額以内", en="Within the per-proposal cap"),
}


@dataclass
class EligibilityResult:
    rules: list[RuleInfo]
    status: np.ndarray    # int8 [n, R]
    outcome: np.ndarray   # int8 [n, R]
    resolved_by: dict     # (row, rule index) → resolution dict
    expense_flags: dict   # row → list of flags

    @property
    def ineligible(self) -> np.ndarray:
        return (self.status == FAIL).any(axis=1) if self.status.size else np.zeros(len(self.status), bool)

    def reason(self, row: int, k: int, lang: str = "ja", advice: bool = True) -> str:
        rule = self.rules[k]
        outcome = int(self.outcome[row, k])
        label = rule.label.get(lang)
        if outcome == O_RESOLVED:
            res = self.resolved_by[(row, k)]
            note = text("sep.label", lang) + res["note"] if res.get("note") else ""
            return text("rule.resolved", lang, label=label, verdict=text(f"rule.verdict.{res['status']}", lang),
                        who=res.get("by") or "—", note=note)
        key = {O_PASS: "pass", O_FAIL: "fail", O_UNKNOWN: "unknown", O_NA: "not_applicable"}[outcome]
        msg = rule.messages.get(key)
        out = label + text("sep.label", lang) + (msg.get(lang) if msg is not None else text(f"rule.default.{key}", lang))
        if advice and outcome in (O_FAIL, O_UNKNOWN) and rule.advice is not None:
            out = text("rule.advice", lang, text=out, advice=rule.advice.get(lang))
        return out

    def conditions(self, row: int, lang: str = "ja") -> list[str]:
        out = []
        for k, rule in enumerate(self.rules):
            if self.status[row, k] == CONDITIONAL and rule.condition is not None:
                out.append(rule.condition.get(lang))
        return out


def evaluate(pack: CriteriaPack, table: ProposalTable, resolutions: dict | None = None) -> EligibilityResult:
    """Every rule of the pack (and the built-in ones) on every proposal.

    ``resolutions`` maps ``(proposal_id, rule_id)`` to ``{"status": "pass"|"fail", "by": …, "at": …, "note": …}``:
    a chair's resolution of a ``needs_check`` outcome.
    """
    n = table.n
    ctx = EvalContext(table)
    rules: list[RuleInfo] = []
    statuses, outcomes = [], []

    amount_known = _funding_amount_known(pack, table)
    if amount_known is not None:
        rules.append(RuleInfo("amount", BUILTIN_LABELS["amount"], {
            "pass": Text(ja="金額が記載されています", en="an amount is stated"),
            "unknown": Text(ja="申請額（補助事業は補助対象経費）が未記載です", en="no amount stated (for a subsidy: the eligible cost)"),
        }, Text(ja="申請額を記載してください", en="State the amount requested"), None))
        statuses.append(np.where(amount_known, PASS, NEEDS_CHECK))
        outcomes.append(np.where(amount_known, O_PASS, O_UNKNOWN))
    if pack.funding.mode == "requested" and pack.funding.over_cap == "reject":
        caps = per_proposal_cap(pack, table)
        over = table.requested_known & (table.requested > caps)
        cap_text = f"{int(pack.funding.cap_yen or 0):,}円" if pack.funding.cap_yen is not None else "—"
        rules.append(RuleInfo("cap", BUILTIN_LABELS["cap"], {
            "pass": Text(ja="上限額以内です", en="within the cap"),
            "fail": Text(ja=f"申請額が上限額（{cap_text}）を超えています", en=f"the amount exceeds the cap ({cap_text})"),
        }, Text(ja="上限額以内に減額してください", en="Reduce the amount to the cap"), None))
        statuses.append(np.where(over, FAIL, PASS))
        outcomes.append(np.where(over, O_FAIL, O_PASS))

    for rule in pack.eligibility:
        rv, rk = condition(pack.compiled(f"rule:{rule.id}"), ctx)
        on_fail = CODE_OF_STATUS[rule.on_fail]
        on_unknown = CODE_OF_STATUS[rule.on_unknown]
        status = np.where(rk, np.where(rv, PASS, on_fail), on_unknown)
        outcome = np.where(rk, np.where(rv, O_PASS, O_FAIL), O_UNKNOWN)
        if rule.when is not None:
            wv, wk = condition(pack.compiled(f"rule_when:{rule.id}"), ctx)
            na = wk & ~wv
            status = np.where(~wk, on_unknown, np.where(na, PASS, status))
            outcome = np.where(~wk, O_UNKNOWN, np.where(na, O_NA, outcome))
        rules.append(RuleInfo(rule.id, rule.label, dict(rule.messages), rule.advice, rule.condition))
        statuses.append(status)
        outcomes.append(outcome)

    status = np.stack(statuses, axis=1).astype(np.int8) if statuses else np.zeros((n, 0), np.int8)
    outcome = np.stack(outcomes, axis=1).astype(np.int8) if outcomes else np.zeros((n, 0), np.int8)
    resolved_by = {}
    if resolutions:
        row_of = table.index_of()
        col_of = {r.id: k for k, r in enumerate(rules)}
        for (pid, rid), res in resolutions.items():
            i, k = row_of.get(pid), col_of.get(rid)
            if i is None or k is None or status[i, k] != NEEDS_CHECK:
                continue  # a resolution only settles an open needs_check
            status[i, k] = PASS if res["status"] == "pass" else FAIL
            outcome[i, k] = O_RESOLVED
            resolved_by[(i, k)] = res
    return EligibilityResult(rules, status, outcome, resolved_by, expense_flags(pack, table))


def _funding_amount_known(pack: CriteriaPack, table: ProposalTable):
    mode = pack.funding.mode
    if mode == "requested":
        return table.requested_known
    if mode == "subsidy":
        return table.eligible_cost_known
    return None


def per_proposal_cap(pack: CriteriaPack, table: ProposalTable) -> np.ndarray:
    """The cap for each proposal (int64 yen; a huge number where there is none), overrides applied."""
    base = pack.funding.cap_yen
    caps = np.full(table.n, np.iinfo(np.int64).max if base is None else base, dtype=np.int64)
    ctx = EvalContext(table)
    for i, override in enumerate(pack.funding.cap_overrides):
        v, k = condition(pack.compiled(f"cap:{i}"), ctx)
        caps = np.where(v & k, np.minimum(caps, override.cap_yen), caps)
    return caps


def expense_flags(pack: CriteriaPack, table: ProposalTable) -> dict[int, list[dict]]:
    """Cost-line warnings: row → [{line, item, check, status: flagged|check, message}]; never disqualifying."""
    out: dict[int, list[dict]] = {}
    if not pack.expense_checks or not len(table.l_prop):
        return out
    lctx = EvalContext(table, lines=True)
    for check in pack.expense_checks:
        v, k = condition(pack.compiled(f"expense:{check.id}"), lctx)
        hit = (v & k) | ~k
        for j in np.nonzero(hit)[0]:
            row = int(table.l_prop[j])
            out.setdefault(row, []).append({
                "line": int(table.l_no[j]) + 1,
                "item": table.l_fields["item"][j],
                "check": check.id,
                "status": "flagged" if k[j] else "check",
                "message": check.message.ja,
                "message_en": check.message.en,
            })
    return out
