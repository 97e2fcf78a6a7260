"""Reading the audit log (``store.audit``): the chair's view of who changed what and when. The log itself is
written by every service (:meth:`~scoring.store.base.ServiceBase._audit`); its actions are
:class:`~scoring.store.values.AuditAction`.

Conflicts of interest hold here too (docs/security/coi.md): a line about a review of a proposal the reader is
conflicted with is kept — who, when, which action, which proposal and reviewer: the log stays complete — but its
content (levels, comments, bonus marks, overall comment; a discussion comment's text and criteria) is left out: ``before``/``after`` keep only the review's
status and version, and the entry says ``withheld=True``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Role
from .base import Actor, ServiceBase, deny
from .schema import AuditLog, as_utc
from .values import AuditEntry, UserInfo


REVIEW = "review"                       # the entity of the lines that carry a review's content
DISCUSSION = "discussion"               # … and of those that carry a comment of the panel's discussion
_BARE_KEYS = frozenset({"status", "version", "comment", "visibility"})   # what a withheld line still shows


class AuditService(ServiceBase):
    """``store.audit``: the append-only audit log, for the chair."""

    def query(self, actor: UserInfo, round_id: int | None = None, *, entity: str | None = None,
              proposal_id: str | None = None, reviewer: str | None = None, actor_name: str | None = None,
              since: datetime | None = None, limit: int = 1000) -> list[AuditEntry]:
        """Chair: audit-log lines, newest first. The log is append-only (the database refuses UPDATE/DELETE).
        Review lines of proposals the reader is conflicted with come without their content (``withheld``)."""
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
            rows = list(s.scalars(q))
            hidden = self._hidden_reviews(s, who, rows)
            out = []
            for a in rows:
                if (a.round_id, a.proposal_id) in hidden:
                    out.append(AuditEntry(a.id, as_utc(a.at), a.actor, a.action, a.entity, a.round_id, a.proposal_id,
                                          a.subject, _bare(a.before), _bare(a.after), withheld=True))
                else:
                    out.append(AuditEntry(a.id, as_utc(a.at), a.actor, a.action, a.entity, a.round_id, a.proposal_id,
                                          a.subject, a.before, a.after))
            return out

    def _hidden_reviews(self, s: Session, who: Actor, rows: list[AuditLog]) -> set[tuple[int, str]]:
        """(round id, proposal id) of the review lines among ``rows`` whose content ``who`` may not read."""
        wanted: dict[int, set[str]] = {}
        for a in rows:
            if a.entity in (REVIEW, DISCUSSION) and a.round_id is not None and a.proposal_id is not None:
                wanted.setdefault(a.round_id, set()).add(a.proposal_id)
        return {(rid, pid) for rid, pids in wanted.items() for pid in self._withheld(s, who, rid, pids)}


def _bare(value: Any) -> Any:
    """A review's logged state without its content: only the keys that say nothing of the assessment."""
    if not isinstance(value, dict):
        return value
    return {k: v for k, v in value.items() if k in _BARE_KEYS}
