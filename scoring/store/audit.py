"""Reading the audit log (``store.audit``): the chair's view of who changed what and when. The log itself is
written by every service (:meth:`~scoring.store.base.ServiceBase._audit`); its actions are
:class:`~scoring.store.values.AuditAction`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..models import Role
from .base import ServiceBase, deny
from .schema import AuditLog, as_utc
from .values import AuditEntry, UserInfo


class AuditService(ServiceBase):
    """``store.audit``: the append-only audit log, for the chair."""

    def query(self, actor: UserInfo, round_id: int | None = None, *, entity: str | None = None,
              proposal_id: str | None = None, reviewer: str | None = None, actor_name: str | None = None,
              since: datetime | None = None, limit: int = 1000) -> list[AuditEntry]:
        """Chair: audit-log lines, newest first. The log is append-only (the database refuses UPDATE/DELETE)."""
        with self.db.read() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise deny(who, "read the audit log")
            q = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
            if round_id is not None:
                q = q.where(AuditLog.round_id == int(round_id))
            if entity is not None:
                q = q.where(AuditLog.entity == entity)
            if proposal_id is not None:
                q = q.where(AuditLog.proposal_id == proposal_id)
            if reviewer is not None:
                q = q.where(AuditLog.subject == reviewer)
            if actor_name is not None:
                q = q.where(AuditLog.actor == actor_name)
            if since is not None:
                q = q.where(AuditLog.at >= since)
            return [AuditEntry(a.id, as_utc(a.at), a.actor, a.action, a.entity, a.round_id, a.proposal_id, a.subject,
                               a.before, a.after) for a in s.scalars(q)]
