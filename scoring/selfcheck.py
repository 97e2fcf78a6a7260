"""The applicant's self-check (応募前セルフチェック): the committee's yardstick applied to one draft proposal.

Nothing here is a second implementation of a rule: the proposal becomes a one-row :class:`ProposalTable`, the
applicant's own levels one submitted review, and :func:`scoring.selection.rank` (with ``min_reviews=1`` and no
budget line) gives eligibility, expense flags, funded amount, base score, bonus and standing. This module only
arranges those figures for an applicant and adds what a committee never needs: the local share of a subsidy
with the provisional local-bond table, and the weakest criteria with the guidance one level up.

The result is an estimate, never the committee's judgement.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import numpy as np

from .eligibility import O_FAIL, O_UNKNOWN
from .labels import label as vocab
from .models import LOCAL_GOVERNMENT_KINDS, DECISION_LABELS, Decision, Proposal
from .packs import CriteriaPack, Text
from .selection import Params, r6, rank
from .table import ProposalTable, ReviewTable

SELF_REVIEWER = "self"

# Facts documented in formats.md, with the kind of answer they take. A pack may read others: their kind is
# inferred from how its conditions use them (see fact_fields).
KNOWN_FACTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "digikatsu_chusankan": ("bool", ()),
    "preceding_commercialization_area": ("bool", ()),
    "has_wireless_network": ("bool", ()),
    "has_solution_equipment": ("bool", ()),
    "plan_kind": ("choice", ("network_and_solution", "internet_access_only", "solution_only", "city_os")),
    "fiscal_strength_index": ("number", ()),
    "lg_funded_or_nonprofit": ("bool", ()),
    "course": ("choice", ("A", "B")),
    "previously_selected": ("bool", ()),
    "previous_partner_count": ("integer", ()),
    "municipalities_in_prefecture": ("integer", ()),
}

_JUDGED_NOTE = Text(ja="自己判断で{state}（審査では、評価委員の過半数が該当と判断した場合に加点されます）",
                    en="your own judgement: {state} (in the review it counts when a majority of reviewers agree)")
_STATE = {True: Text(ja="該当", en="applies"), False: Text(ja="非該当", en="does not apply")}


@dataclass(frozen=True)
class FactField:
    """One fact the applicant is asked for: ``kind`` is bool, number, integer or choice."""

    name: str
    kind: str
    choices: tuple[str, ...] = ()


def fact_fields(pack: CriteriaPack) -> list[FactField]:
    """The facts the pack's rules, bonuses, caps and checks read, each with the kind of answer it takes."""
    names = pack.facts_read()
    inferred: dict[str, tuple[str, tuple]] = {}
    for node in pack._compiled.values():
        _infer(node, inferred)
    out = []
    order = list(KNOWN_FACTS)
    for name in sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n)):
        kind, choices = KNOWN_FACTS.get(name) or inferred.get(name) or ("number", ())
        out.append(FactField(name, kind, tuple(choices)))
    return out


def _infer(node: Any, out: dict) -> None:
    from .conditions import AllOf, AnyOf, Compare, CostLinesAll, Fact, Literal, Not

    if isinstance(node, Compare):
        for a, b in ((node.left, node.right), (node.right, node.left)):
            if isinstance(a, Fact) and a.name not in out:
                if isinstance(b, Literal):
                    v = b.value
                    if isinstance(v, bool):
                        out[a.name] = ("bool", ())
                    elif isinstance(v, tuple):
                        out[a.name] = ("choice", tuple(x for x in v if isinstance(x, str)))
                    elif isinstance(v, int):
                        out[a.name] = ("integer", ())
                    elif isinstance(v, float):
                        out[a.name] = ("number", ())
                    elif isinstance(v, str):
                        out[a.name] = ("choice", (v,))
                else:
                    out[a.name] = ("integer", ())  # compared with a count
    elif isinstance(node, (AllOf, AnyOf)):
        for p in node.parts:
            _infer(p, out)
    elif isinstance(node, Not):
        _infer(node.part, out)
    elif isinstance(node, CostLinesAll):
        pass


def pack_summary(pack: CriteriaPack, lang: str = "ja") -> dict:
    """What an applicant needs to know about a programme type, from the pack (figures in yen / counts)."""
    f = pack.funding
    rate = f"{f.subsidy_rate.numerator}/{f.subsidy_rate.denominator}" if f.subsidy_rate else None
    return {
        "id": pack.id,
        "code": pack.programme.code,
        "name": pack.programme.name.get(lang),
        "description": pack.programme.description.get(lang) if pack.programme.description else "",
        "funding_mode": f.mode,
        "budget_yen": pack.budget.budget_yen,
        "capacity_count": pack.budget.capacity_count,
        "cap_yen": f.cap_yen,
        "cap_overrides": [{"cap_yen": o.cap_yen, "reason": o.reason.get(lang) if o.reason else ""}
                          for o in f.cap_overrides],
        "over_cap": f.over_cap,
        "subsidy_rate": rate,
        "rounding_yen": f.rounding_yen if f.mode == "subsidy" else None,
        "requirements": [r.label.get(lang) for r in pack.eligibility],
        "pass_line": pack.selection.pass_line,
        "criterion_floor": pack.selection.criterion_floor,
        "bonus_cap": pack.bonus_cap,
        "criteria": [{"id": c.id, "label": c.label.get(lang), "points": c.points} for c in pack.criteria],
        "bonuses": [{"id": b.id, "label": b.label.get(lang), "points": b.points, "kind": b.kind}
                    for b in pack.bonuses],
    }


def self_review(pack: CriteriaPack, levels: dict[str, int], judged: dict[str, bool]) -> ReviewTable:
    """The applicant's own levels as one review of proposal row 0; submitted only when every criterion has a
    level (an incomplete review never counts, exactly as for a reviewer)."""
    known = set(pack.criterion_ids)
    unknown = sorted(set(levels) - known)
    if unknown:
        raise ValueError(f"not a criterion of pack {pack.id}: {', '.join(unknown)}")
    scale = pack.levels
    for cid, lv in levels.items():
        if lv is not None and lv not in scale:
            raise ValueError(f"{cid}: level {lv!r} is not on the scale {sorted(scale)}")
    judged_ids = [b.id for b in pack.judged_bonuses]
    bad = sorted(set(judged) - set(judged_ids))
    if bad:
        raise ValueError(f"not a judged bonus of pack {pack.id}: {', '.join(bad)}")
    row = [int(levels.get(c) or 0) for c in pack.criterion_ids]
    complete = all(row)
    return ReviewTable(
        reviewer=np.array([SELF_REVIEWER], dtype=object),
        prop=np.zeros(1, np.int64),
        submitted=np.array([complete]),
        levels=np.array([row], dtype=np.int16),
        marks=np.array([[1 if judged.get(b) else 0 for b in judged_ids]], dtype=np.int8).reshape(1, len(judged_ids)),
    )


def self_check_params(pack: CriteriaPack) -> Params:
    """The pack's policy with one review enough and no funding line (there is only one proposal)."""
    return replace(Params.from_pack(pack, min_reviews=1), budget_yen=None, capacity_count=None)


def _floor_mul(amount: int, rate: float) -> int:
    """Integer yen × a rate from the pack, rounded down, without floating point in money."""
    return int(Fraction(amount) * Fraction(str(rate)) // 1)


def local_share(pack: CriteriaPack, eligible_cost: int | None, grant: int, lang: str = "ja") -> dict | None:
    """③: the local share (eligible cost − grant) and the provisional local-bond estimate per bond type."""
    if pack.local_share is None or eligible_cost is None:
        return None
    share = int(eligible_cost) - int(grant)
    rows = []
    for b in pack.local_share.bonds:
        bond = _floor_mul(share, b.appropriation_rate)
        measure = _floor_mul(bond, b.grant_tax_measure_rate)
        rows.append({"id": b.id, "name": b.name.get(lang),
                     "applies_to": b.applies_to.get(lang) if b.applies_to else "",
                     "appropriation_rate": b.appropriation_rate,
                     "grant_tax_measure_rate": b.grant_tax_measure_rate,
                     "bond_yen": bond, "tax_measure_yen": measure,
                     "cash_now_yen": share - bond,         # the part of the share not covered by the bond
                     "net_burden_yen": share - measure})   # what the local government bears in the end
    return {"provisional": pack.local_share.provisional, "label": pack.local_share.label.get(lang),
            "share_yen": share, "bonds": rows}


def self_check(pack: CriteriaPack, proposal: Proposal, levels: dict[str, int], judged: dict[str, bool],
               lang: str = "ja") -> dict:
    """Everything the dry-run page and its workbook show, computed by the scoring core."""
    if proposal.pack != pack.id:
        raise ValueError(f"the proposal is for pack {proposal.pack!r}, not {pack.id!r}")
    table = ProposalTable.from_proposals([proposal])
    reviews = self_review(pack, levels, judged)
    params = self_check_params(pack)
    ranking = rank(pack, table, reviews, None, params)
    res = ranking.result(0, lang)
    en = lang == "en"

    elig = ranking.elig
    eligibility = []
    for k, rule in enumerate(elig.rules):
        outcome = int(elig.outcome[0, k])
        advice = rule.advice.get(lang) if rule.advice is not None and outcome in (O_FAIL, O_UNKNOWN) else ""
        eligibility.append({"rule": rule.id, "label": rule.label.get(lang),
                            "status": res["eligibility"][k]["status"],
                            "reason": elig.reason(0, k, lang, advice=False), "advice": advice,
                            "condition": rule.condition.get(lang) if rule.condition is not None
                            and res["eligibility"][k]["status"] == "conditional" else ""})
    check_labels = {c.id: c.label.get(lang) for c in pack.expense_checks}
    flags = [{"line": f["line"], "item": f["item"], "check": f["check"], "label": check_labels.get(f["check"], f["check"]),
              "status": f["status"], "message": f["message_en"] if en and f.get("message_en") else f["message"]}
             for f in res["expense_flags"]]

    funded = res["funded_yen"]
    funding: dict[str, Any] = {
        "mode": pack.funding.mode, "requested_yen": proposal.requested_yen,
        "eligible_cost_yen": proposal.eligible_cost_yen, "funded_yen": funded, "capped": res["capped"],
        "cap_yen": int(ranking.cap[0]) if pack.funding.cap_yen is not None or pack.funding.cap_overrides else None,
        "local_share": None, "applicant_is_local_government": proposal.applicant.kind in LOCAL_GOVERNMENT_KINDS,
    }
    if funding["cap_yen"] is not None and funding["cap_yen"] >= np.iinfo(np.int64).max:
        funding["cap_yen"] = None
    if pack.funding.mode == "subsidy":
        rate = pack.funding.subsidy_rate
        funding.update(grant_yen=funded, subsidy_rate=f"{rate.numerator}/{rate.denominator}",
                       rounding_yen=pack.funding.rounding_yen,
                       local_share=local_share(pack, proposal.eligible_cost_yen, funded, lang))
    if pack.funding.mode == "capacity":
        funding["funded_yen"] = None  # support, not money

    counted = bool(ranking.agg.n_reviews[0] > 0)
    base = res["base_score"] if counted else None
    bonus = res["bonus"]
    floor = params.criterion_floor
    scale_label = {s.level: s.label.get(lang) for s in pack.scale}
    criteria = []
    for k, c in enumerate(pack.criteria):
        lv = levels.get(c.id)
        ratio = pack.levels.get(lv) if lv else None
        criteria.append({"id": c.id, "label": c.label.get(lang), "points": c.points, "level": lv,
                         "level_label": scale_label.get(lv, ""), "ratio": ratio,
                         "score": c.points * ratio if ratio is not None else None,
                         "below_floor": bool(ratio is not None and r6(ratio) < r6(floor)),
                         "guidance": c.guidance[lv].get(lang) if lv in c.guidance else ""})
    missing = [c["id"] for c in criteria if c["level"] is None]

    bonus_items = []
    for k, b in enumerate(pack.bonuses):
        item = res["bonus_items"][k]
        reason = item["reason_en"] if en else item["reason"]
        if b.kind == "judged":
            reason = b.label.get(lang) + vocab("sep.label", lang) + \
                _JUDGED_NOTE.get(lang).format(state=_STATE[bool(judged.get(b.id))].get(lang))
        bonus_items.append({"id": b.id, "label": b.label.get(lang), "kind": b.kind, "points": b.points,
                            "awarded_points": item["points"],
                            "awarded": item["awarded"], "reason": reason})

    decision = Decision(res["decision"])
    if decision == Decision.ineligible:
        standing = "ineligible"
    elif not counted:
        standing = "incomplete"
    elif decision in (Decision.below_criterion_floor, Decision.below_pass_line):
        standing = decision.value
    else:
        standing = "qualifies"
    ja, en_label = DECISION_LABELS[decision]

    return {
        "estimate_only": True,
        "pack": pack.id,
        "pack_version": pack.version,
        "programme": {"code": pack.programme.code, "name": pack.programme.name.get(lang)},
        "proposal_id": proposal.id,
        "eligibility": eligibility,
        "eligible": not bool(elig.ineligible[0]),
        "conditions": res["conditions"] if not en else ranking.elig.conditions(0, "en"),
        "expense_flags": flags,
        "funding": funding,
        "scoring": {
            "complete": not missing, "missing": missing,
            "base": base, "bonus": bonus, "total": (base + bonus) if base is not None else None,
            "pass_line": float(params.pass_line), "criterion_floor": float(floor),
            "meets_pass_line": None if base is None else bool(r6(base) >= r6(params.pass_line)),
            "meets_criterion_floor": None if missing else not any(c["below_floor"] for c in criteria),
            "criteria": criteria, "bonus_items": bonus_items, "bonus_cap": pack.bonus_cap,
            "decision": decision.value, "decision_label": en_label if en else ja,
            "standing": standing,
        },
        "weakest": weakest_criteria(pack, levels, lang),
    }


def weakest_criteria(pack: CriteriaPack, levels: dict[str, int], lang: str = "ja", limit: int = 3) -> list[dict]:
    """The criteria that lose the most points, each with the guidance for the next level up and the gain."""
    by_ratio = sorted(pack.scale, key=lambda s: s.ratio)
    out = []
    for c in pack.criteria:
        lv = levels.get(c.id)
        if not lv:
            continue
        pos = next(i for i, s in enumerate(by_ratio) if s.level == lv)
        if pos == len(by_ratio) - 1:
            continue  # already at the top
        cur, nxt = by_ratio[pos], by_ratio[pos + 1]
        out.append({"id": c.id, "label": c.label.get(lang), "points": c.points, "level": lv,
                    "level_label": cur.label.get(lang), "lost": c.points * (1 - cur.ratio),
                    "next_level": nxt.level, "next_label": nxt.label.get(lang),
                    "next_guidance": c.guidance[nxt.level].get(lang) if nxt.level in c.guidance else "",
                    "gain": c.points * (nxt.ratio - cur.ratio)})
    order = {c.id: i for i, c in enumerate(pack.criteria)}
    out.sort(key=lambda d: (-round(d["lost"], 6), -round(d["gain"], 6), order[d["id"]]))
    return out[:limit]


__all__ = ["self_check", "self_review", "self_check_params", "fact_fields", "FactField", "pack_summary",
           "local_share", "weakest_criteria", "KNOWN_FACTS"]
