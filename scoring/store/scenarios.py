"""Named what-if scenarios of a round (issue 4): a chair saves the parameters of a what-if under a name.

Additive to the store's public API (``ScenarioService(store)``), without a schema change: a scenario is an
append-only line of the audit log (entity ``scenario``, action ``scenario.save``) holding the pack and the
what-if (:class:`scoring.params.WhatIf` in its stored form: only the changed keys, ``"budget": null`` for "no
budget"). Saving one never changes the round's official ranking (that is always ranked with the pack's own
parameters); the newest scenario of a name wins when listed. A locked round refuses new scenarios.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Mapping

from sqlalchemy import select

from ..models import Role
from ..params import WhatIf
from .base import ServiceBase, deny
from .schema import AuditLog, as_utc, utcnow
from .values import AuditAction, UserInfo

ALLOWED = WhatIf.KEYS


@dataclass(frozen=True)
class ScenarioInfo:
    name: str
    pack: str
    overrides: dict        # the stored form of the what-if (WhatIf.to_dict): changed keys only, budget None = none
    saved_by: str
    saved_at: datetime

    @property
    def whatif(self) -> WhatIf:
        return WhatIf.from_dict(self.overrides)


class ScenarioService(ServiceBase):
    def save_scenario(self, actor: UserInfo, round_id: int, name: str, pack: str,
                      whatif: WhatIf | Mapping) -> ScenarioInfo:
        """Chair: save (or replace) the named scenario of one pack of the round (logged). ``whatif`` is a
        :class:`WhatIf` or its stored form (``{"budget": None}`` = no budget)."""
        name = (name or "").strip()
        if not name:
            raise ValueError("a scenario needs a name")
        if not isinstance(whatif, WhatIf):
            whatif = WhatIf.from_dict(whatif)      # WhatIfError (a ValueError) names an unknown key
        clean = whatif.to_dict()
        with self.db.write() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise deny(who, "save a scenario")
            r = self._round(s, round_id, writable=True)
            self.store._pack(s, r.id, pack)  # the pack must be one of the round's
            now = utcnow()
            s.add(AuditLog(at=now, actor=who.username, action=AuditAction.scenario_save, entity="scenario", round_id=r.id,
                           after={"name": name, "pack": pack, "overrides": clean}))
        return ScenarioInfo(name, pack, clean, who.username, now)

    def list_scenarios(self, actor: UserInfo, round_id: int, pack: str | None = None) -> list[ScenarioInfo]:
        """Chair: the round's scenarios (newest save of each name), newest first."""
        with self.db.read() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise deny(who, "read scenarios")
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
