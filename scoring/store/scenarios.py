"""Named what-if scenarios of a round (issue 4): a chair saves the parameters of a what-if under a name.

Additive to the store's public API (``ScenarioService(store)``), without a schema change: a scenario is an
append-only line of the audit log (entity ``scenario``, action ``scenario.save``) holding the pack and the
parameter overrides. Saving one never changes the round's official ranking (that is always ranked with the
pack's own parameters); the newest scenario of a name wins when listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from .schema import AuditLog, as_utc, utcnow
from ..models import Role
from .base import ServiceBase as _Base
from .base import deny as _deny
from .values import UserInfo

ALLOWED = ("budget", "aggregation", "normalization", "selection", "waitlist", "pass_line")


@dataclass(frozen=True)
class ScenarioInfo:
    name: str
    pack: str
    overrides: dict        # keys of ALLOWED → value (what Params.from_pack accepts)
    saved_by: str
    saved_at: datetime


class ScenarioService(_Base):
    def save_scenario(self, actor: UserInfo, round_id: int, name: str, pack: str, overrides: dict) -> ScenarioInfo:
        """Chair: save (or replace) the named scenario of one pack of the round (logged)."""
        name = (name or "").strip()
        if not name:
            raise ValueError("a scenario needs a name")
        unknown = set(overrides) - set(ALLOWED)
        if unknown:
            raise ValueError(f"unknown scenario parameters: {', '.join(sorted(unknown))}")
        clean = {k: overrides[k] for k in ALLOWED if overrides.get(k) is not None}
        with self.db.write() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise _deny(who, "save a scenario")
            r = self._round(s, round_id)
            self.store._pack(s, r.id, pack)  # the pack must be one of the round's
            now = utcnow()
            s.add(AuditLog(at=now, actor=who.username, action="scenario.save", entity="scenario", round_id=r.id,
                           after={"name": name, "pack": pack, "overrides": clean}))
        return ScenarioInfo(name, pack, clean, who.username, now)

    def list_scenarios(self, actor: UserInfo, round_id: int, pack: str | None = None) -> list[ScenarioInfo]:
        """Chair: the round's scenarios (newest save of each name), newest first."""
        with self.db.read() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise _deny(who, "read scenarios")
            r = self._round(s, round_id)
            rows = s.scalars(select(AuditLog).where(AuditLog.round_id == r.id, AuditLog.entity == "scenario")
                             .order_by(AuditLog.id.desc()))
            out: dict[tuple[str, str], ScenarioInfo] = {}
            for row in rows:
                a = row.after or {}
                key = (a.get("pack", ""), a.get("name", ""))
                if key in out or (pack is not None and key[0] != pack):
                    continue
                out[key] = ScenarioInfo(key[1], key[0], dict(a.get("overrides") or {}), row.actor, as_utc(row.at))
            return list(out.values())
