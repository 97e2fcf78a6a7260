"""A round's hearing-stage state as a file (``stages.json``; docs/store.md "Hearing stage", "Export and import"):
per pack its stage, the fixed shortlist, the hearing parameters the chair chose and the chair's shortlist edits
with who and when. ``export_files`` writes it; ``import_files(…, stages=…)`` restores it (the hearing reviews
travel in ``reviews.csv`` as ``hearing:<id>`` rows).

The file::

    [{"pack": "autonomous_l4", "stage": "hearing", "shortlist": ["T-001", …] | null,
      "hearing_params": {…} | null,
      "edits": [{"proposal_id": "T-004", "action": "add", "reason": "…", "by": "chair", "at": "2026-…+00:00"}]}]

Checked before anything is written, every problem at once as ``file:[i]:field`` (``[i].edits[j]`` for an edit).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Problem
from ..hearing_ranking import EDIT_ACTIONS, HearingParams
from ..models import STAGE_ORDER, Stage
from ..params import WhatIfError
from .schema import ProposalRow, RoundPack, ShortlistEditRow, as_utc

STAGES_FILE = "stages.json"
FIXED = (Stage.hearing, Stage.decided)     # the stages in which a hearing pack's shortlist is fixed
_KEYS = {"pack", "stage", "shortlist", "hearing_params", "edits"}
_EDIT_KEYS = {"proposal_id", "action", "reason", "by", "at"}


def stage_rows(s: Session, round_id: int) -> list[dict]:
    """The round's stage state, one entry per pack in the round's order (for ``stages.json``)."""
    out = []
    for k in s.scalars(select(RoundPack).where(RoundPack.round_id == round_id).order_by(RoundPack.id)):
        edits = [{"proposal_id": pid, "action": e.action, "reason": e.reason, "by": e.created_by,
                  "at": as_utc(e.created_at).isoformat()}
                 for e, pid in s.execute(select(ShortlistEditRow, ProposalRow.proposal_id)
                                         .join(ProposalRow, ShortlistEditRow.proposal_pk == ProposalRow.id)
                                         .where(ShortlistEditRow.round_id == round_id,
                                                ShortlistEditRow.pack_id == k.pack_id)
                                         .order_by(ShortlistEditRow.id))]
        out.append({"pack": k.pack_id, "stage": k.stage or Stage.document.value,
                    "shortlist": None if k.shortlist is None else list(k.shortlist),
                    "hearing_params": None if k.hearing_params is None else dict(k.hearing_params),
                    "edits": edits})
    return out


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _at(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)


def check_stages(data: Any, src: str, packs: dict, pack_rows: dict[str, RoundPack],
                 proposals: dict[str, str], has_edits: set[str]) -> tuple[list[dict], list[Problem]]:
    """``stages.json`` checked against the round: ``packs`` pack id → CriteriaPack, ``pack_rows`` pack id → its
    stored row, ``proposals`` proposal id → pack id (after this import), ``has_edits`` packs with stored edits.
    Returns the entries (``at`` parsed) and the problems.

    Refused: not a list of objects, an unknown key, a pack not of the round or listed twice, a pack that is no
    longer fresh (not in stage document, or with shortlist edits: a file restores a round, it does not merge),
    an unknown stage, a shortlist or hearing stage for a pack without a hearing section, a fixed shortlist
    present outside the hearing and decided stages (or missing in them), a shortlist naming a proposal twice or
    one not of the pack, hearing parameters the core refuses, an edit with an unknown action, without reason,
    who or a valid time, or naming a proposal not of the pack."""
    P: list[Problem] = []
    if not isinstance(data, list):
        return [], [Problem(src, None, "(file)", "a list of packs' stages is expected")]
    out: list[dict] = []
    seen: set[str] = set()
    for i, e in enumerate(data):
        row = f"[{i}]"

        def bad(field: str, message: str, where: str = row) -> None:
            P.append(Problem(src, where, field, message))

        if not isinstance(e, dict):
            bad("(entry)", "an object with pack, stage, shortlist, hearing_params, edits is expected")
            continue
        for key in sorted(set(e) - _KEYS):
            bad(str(key)[:40], f"unknown field (known: {', '.join(sorted(_KEYS))})")
        pid = e.get("pack")
        if pid not in packs:
            bad("pack", f"{str(pid)[:80]!r} is not a pack of the round (packs: {', '.join(packs)})")
            continue
        if pid in seen:
            bad("pack", f"pack {pid} is listed twice")
            continue
        seen.add(pid)
        k, pack = pack_rows[pid], packs[pid]
        if (k.stage or Stage.document) != Stage.document or pid in has_edits:
            bad("pack", f"pack {pid} is in stage {k.stage} or has shortlist edits: stages are imported only into "
                        "a pack still in stage document without edits (a new round)")
        stage = e.get("stage")
        if stage not in [x.value for x in STAGE_ORDER]:
            bad("stage", f"{str(stage)[:40]!r} is not one of {[x.value for x in STAGE_ORDER]}")
            stage = None
        elif pack.hearing is None and stage in (Stage.shortlist, Stage.hearing):
            bad("stage", f"pack {pid} has no hearing section: its stages are document, decided")
        shortlist = e.get("shortlist")
        if shortlist is not None:
            if not isinstance(shortlist, list) or not all(isinstance(x, str) for x in shortlist):
                bad("shortlist", "a list of proposal ids (or null) is expected")
                shortlist = None
            else:
                if len(set(shortlist)) != len(shortlist):
                    bad("shortlist", "a proposal is listed twice")
                for x in shortlist:
                    if proposals.get(x) != pid:
                        bad("shortlist", f"{x[:80]!r} is not a proposal of pack {pid} in the round")
        if stage is not None and pack.hearing is not None and stage in FIXED and shortlist is None:
            bad("shortlist", f"stage {stage}: the fixed shortlist (a list of proposal ids) is needed")
        elif stage is not None and pack.hearing is not None and stage not in FIXED and shortlist is not None:
            bad("shortlist", f"stage {stage}: the shortlist is not fixed yet (null)")
        elif pack.hearing is None and shortlist is not None:
            bad("shortlist", f"pack {pid} has no hearing section: no shortlist")
        hp = e.get("hearing_params")
        if hp is not None:
            if not isinstance(hp, dict) or pack.hearing is None:
                bad("hearing_params", "an object of hearing parameters (or null) is expected"
                    if pack.hearing is not None else f"pack {pid} has no hearing section")
                hp = None
            else:
                try:
                    HearingParams(**{key: v for key, v in hp.items() if key in HearingParams.KEYS})
                except (WhatIfError, TypeError, ValueError) as exc:
                    bad("hearing_params", str(exc)[:200])
                for key in sorted(set(hp) - set(HearingParams.KEYS)):
                    bad(f"hearing_params.{str(key)[:40]}", f"not a hearing parameter ({', '.join(HearingParams.KEYS)})")
        edits = e.get("edits") or []
        if not isinstance(edits, list):
            bad("edits", "a list of shortlist edits is expected")
            edits = []
        if edits and pack.hearing is None:
            bad("edits", f"pack {pid} has no hearing section: no shortlist edits")
        parsed = []
        for j, ed in enumerate(edits):
            where = f"[{i}].edits[{j}]"
            if not isinstance(ed, dict):
                bad("(edit)", "an object with proposal_id, action, reason, by, at is expected", where)
                continue
            for key in sorted(set(ed) - _EDIT_KEYS):
                bad(str(key)[:40], f"unknown field (known: {', '.join(sorted(_EDIT_KEYS))})", where)
            if proposals.get(ed.get("proposal_id")) != pid:
                bad("proposal_id", f"{str(ed.get('proposal_id'))[:80]!r} is not a proposal of pack {pid} in the round",
                    where)
            if ed.get("action") not in EDIT_ACTIONS:
                bad("action", f"{str(ed.get('action'))[:40]!r} is not one of {list(EDIT_ACTIONS)}", where)
            if _text(ed.get("reason")) is None:
                bad("reason", "a shortlist change needs a reason", where)
            if _text(ed.get("by")) is None:
                bad("by", "who made the change is needed", where)
            at = _at(ed.get("at"))
            if at is None:
                bad("at", f"{str(ed.get('at'))[:40]!r} is not a date and time (ISO 8601)", where)
            parsed.append({**ed, "at": at})
        out.append({"pack": pid, "stage": stage, "shortlist": shortlist, "hearing_params": hp, "edits": parsed})
    return out, P


def write_stages(s: Session, round_id: int, entries: list[dict], pack_rows: dict[str, RoundPack],
                 prop_pk: dict[str, int]) -> None:
    """Write checked entries (:func:`check_stages`) into the round; ``prop_pk`` proposal id → its row id."""
    for e in entries:
        k = pack_rows[e["pack"]]
        k.stage = e["stage"]
        k.shortlist = e["shortlist"]
        k.hearing_params = e["hearing_params"]
        for ed in e["edits"]:
            s.add(ShortlistEditRow(round_id=round_id, pack_id=e["pack"], proposal_pk=prop_pk[ed["proposal_id"]],
                                   action=ed["action"], reason=ed["reason"].strip(), created_by=ed["by"].strip(),
                                   created_at=ed["at"]))
    s.flush()


def fixed_shortlists(s: Session, round_id: int, entries: list[dict] | None) -> dict[str, set[str] | None]:
    """Per pack, the fixed shortlist after the import (the file's entry, else the stored one), or None when none
    is fixed (then hearing reviews are accepted: fixing a shortlist that leaves one out is refused later)."""
    out: dict[str, set[str] | None] = {}
    for k in s.scalars(select(RoundPack).where(RoundPack.round_id == round_id)):
        out[k.pack_id] = None if k.shortlist is None else set(k.shortlist)
    for e in entries or []:
        out[e["pack"]] = None if e["shortlist"] is None else set(e["shortlist"])
    return out
