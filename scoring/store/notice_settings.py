"""Notices of a round (``store.notices``; decisions.md §5, issue 18, docs/store.md "Notices"): the round's notice
settings (feedback on/off — off by default —, the sender named), the templates uploaded per decision code, and
the notices of a confirmed version as :class:`~scoring.notices_data.NoticeFields`, rendered .docx and outbox drafts.

Rules (every one enforced here):

- chair and secretariat; every change logged (``notice.settings``, ``notice.template``);
- a template is checked before it is stored (:func:`scoring.io.notices.check_template`: a real, bounded .docx,
  only known placeholders, each unknown one named) — an upload that fails is refused whole;
- notices are made only from a confirmed version in force, and only when the round's live decisions still are the
  confirmed ones (the round is locked from confirmation on); the round's name is always passed (a notice never
  reads 「　において」);
- feedback is in a notice only when the round turns it on, and only for 補欠 / 不採択; the internal ``comment`` of a
  review never is (only 「申請者への所見」);
- a member conflicted with a proposal gets no notice of it (left out; another member makes it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import InputError, Problem, quote
from ..labels import label
from ..notices_data import NoticeFields, notice_fields
from .base import Actor, ServiceBase
from .errors import NotFound
from .outbox import OutboxDraft
from .schema import NoticeSettingsRow, NoticeTemplateRow, Round, as_utc, utcnow
from .values import AuditAction, UserInfo

ENTITY = "notice"
DECISION_CODES = ("adopted", "adopted_conditional", "reserve", "not_adopted")
MAX_SENDER = 300


@dataclass(frozen=True)
class NoticeSettings:
    round_id: int
    feedback: bool = False
    sender: str = ""                                   # blank: the default sender (notice.default_sender)
    templates: Mapping[str, str] | None = None         # decision code → uploaded file name
    updated_by: str | None = None
    updated_at: datetime | None = None

    def sender_or_default(self) -> str:
        return self.sender or label("notice.default_sender")


def _problem(field: str, message: str) -> InputError:
    return InputError([Problem("notices", None, field, message)])


class NoticeService(ServiceBase):
    """``store.notices``: settings, templates, the notices of a confirmed version."""

    def _settings(self, s: Session, r: Round) -> NoticeSettings:
        row = s.get(NoticeSettingsRow, r.id)
        names = {t.decision_code: t.name for t in s.scalars(select(NoticeTemplateRow)
                                                            .where(NoticeTemplateRow.round_id == r.id))}
        if row is None:
            return NoticeSettings(r.id, templates=names)
        return NoticeSettings(r.id, bool(row.feedback), row.sender or "", names, row.updated_by, as_utc(row.updated_at))

    def settings(self, actor: UserInfo, round_id: int | str) -> NoticeSettings:
        """Chair, secretariat."""
        with self.db.read() as s:
            self._admin(s, actor, "see the notice settings")
            return self._settings(s, self._round(s, round_id))

    def set_settings(self, actor: UserInfo, round_id: int | str, *, feedback: bool | None = None,
                     sender: str | None = None) -> NoticeSettings:
        """Chair, secretariat: feedback on/off, the sender named in the notices (None: unchanged). Logged."""
        if sender is not None and len(sender.strip()) > MAX_SENDER:
            raise _problem("sender", f"at most {MAX_SENDER} characters (got {len(sender.strip())})")
        with self.db.write() as s:
            who = self._admin(s, actor, "change the notice settings")
            r = self._round(s, round_id)
            row = s.get(NoticeSettingsRow, r.id)
            before = None if row is None else {"feedback": row.feedback, "sender": row.sender}
            if row is None:
                row = NoticeSettingsRow(round_id=r.id, feedback=False, sender="")
                s.add(row)
            if feedback is not None:
                row.feedback = bool(feedback)
            if sender is not None:
                row.sender = sender.strip()
            row.updated_by, row.updated_at = who.username, utcnow()
            s.flush()
            self._audit(s, who, AuditAction.notice_settings, ENTITY, round_id=r.id, before=before,
                        after={"feedback": row.feedback, "sender": row.sender})
            return self._settings(s, r)

    # -- templates --------------------------------------------------------------------------------------------
    def upload_template(self, actor: UserInfo, round_id: int | str, decision_code: str, name: str,
                        data: bytes) -> NoticeSettings:
        """Chair, secretariat: the round's template of one decision code (replacing an earlier upload), checked
        first (:func:`scoring.io.notices.check_template`; refused naming each problem, nothing stored)."""
        from ..io.notices import check_template   # docxtpl only where templates are handled
        if decision_code not in DECISION_CODES:
            raise _problem("decision_code", f"{quote(decision_code)} is not one of {list(DECISION_CODES)}")
        name = (name or "template.docx").replace("/", "_").replace("\\", "_")[:200]
        check_template(bytes(data), name)
        with self.db.write() as s:
            who = self._admin(s, actor, "upload notice templates")
            r = self._round(s, round_id)
            row = s.scalar(select(NoticeTemplateRow).where(NoticeTemplateRow.round_id == r.id,
                                                          NoticeTemplateRow.decision_code == decision_code))
            before = None if row is None else {"decision_code": decision_code, "name": row.name}
            if row is None:
                row = NoticeTemplateRow(round_id=r.id, decision_code=decision_code)
                s.add(row)
            row.name, row.data, row.uploaded_by, row.uploaded_at = name, bytes(data), who.username, utcnow()
            s.flush()
            self._audit(s, who, AuditAction.notice_template, ENTITY, round_id=r.id, before=before,
                        after={"decision_code": decision_code, "name": name, "bytes": len(data)})
            return self._settings(s, r)

    def remove_template(self, actor: UserInfo, round_id: int | str, decision_code: str) -> NoticeSettings:
        """Chair, secretariat: back to the shipped default template of a decision code."""
        with self.db.write() as s:
            who = self._admin(s, actor, "remove notice templates")
            r = self._round(s, round_id)
            row = s.scalar(select(NoticeTemplateRow).where(NoticeTemplateRow.round_id == r.id,
                                                          NoticeTemplateRow.decision_code == decision_code))
            if row is None:
                raise NotFound(f"no uploaded template for {decision_code!r} in round {r.name!r}")
            self._audit(s, who, AuditAction.notice_template, ENTITY, round_id=r.id,
                        before={"decision_code": decision_code, "name": row.name}, after=None)
            s.delete(row)
            s.flush()
            return self._settings(s, r)

    def templates(self, actor: UserInfo, round_id: int | str) -> dict[str, bytes]:
        """Chair, secretariat: the uploaded templates by decision code (the others use the shipped defaults)."""
        with self.db.read() as s:
            self._admin(s, actor, "read notice templates")
            r = self._round(s, round_id)
            return {t.decision_code: bytes(t.data) for t in s.scalars(
                select(NoticeTemplateRow).where(NoticeTemplateRow.round_id == r.id))}

    # -- notices ----------------------------------------------------------------------------------------------
    def fields(self, actor: UserInfo, round_id: int | str, pack: str | None = None,
               notice_date: date | None = None) -> list[NoticeFields]:
        """Chair, secretariat: one :class:`NoticeFields` per proposal of the confirmed version in force (final-rank
        order), with the round's name, sender and feedback setting; a conflicted member's proposals left out.
        Refused when nothing is confirmed."""
        from ..io.clock import local_tz   # noqa: PLC0415 (the clock is an adapter concern)
        day = notice_date or datetime.now(local_tz()).date()
        with self.db.read() as s:
            who = self._admin(s, actor, "make notices")
            r = self._round(s, round_id)
            dec = self.store.decisions
            k = dec._pack_row(s, r, pack)
            version = dec._in_force(s, r, k.pack_id)
            if version is None:
                raise _problem("version", f"the decisions of pack {k.pack_id} are not confirmed: confirm them first")
            d, _ = dec._decide(s, self._system_view(who), r, k)
            frozen = {x["proposal_id"]: (x["decision"], x["awarded_yen"]) for x in version.data.get("results", [])}
            live = {x["proposal_id"]: (x["decision"], x["awarded_yen"]) for x in d.results()}
            if frozen != live:
                raise _problem("version", f"the decisions of pack {k.pack_id} no longer match confirmed version "
                                          f"{version.version}: reopen and confirm them again")
            settings = self._settings(s, r)
            hidden = self._withheld(s, who, r.id)
            rows = [int(i) for i in d.ranking.order if str(d.ranking.table.ids[int(i)]) not in hidden]
            return notice_fields(d, round_name=r.name, notice_date=day, sender=settings.sender_or_default(),
                                 with_feedback=settings.feedback, rows=rows)

    @staticmethod
    def _system_view(who: Actor) -> Actor:
        """The ranking behind notices is computed in full (the notices of a conflicted member's proposals are
        left out afterwards, not their reviews)."""
        return Actor(None, who.username, who.role)

    def render(self, actor: UserInfo, round_id: int | str, fields: NoticeFields) -> bytes:
        """One notice as .docx with the round's template of its decision code (else the shipped one)."""
        from ..io.notices import render_notice
        return render_notice(fields, self.templates(actor, round_id).get(fields.decision_code))

    def zip_all(self, actor: UserInfo, round_id: int | str, fields: list[NoticeFields], pdf: bool = False) -> bytes:
        """Every notice (``<proposal_id>.docx``) in one zip, rendered in memory; with ``pdf`` a
        ``<proposal_id>.pdf`` beside each, converted by LibreOffice (:func:`scoring.io.notices.docx_to_pdf`:
        :class:`~scoring.io.notices.NoticeError` when it is missing or a conversion fails — no zip then)."""
        import io
        import tempfile
        import zipfile
        from pathlib import Path

        from ..io.notices import docx_to_pdf, notice_file_name, render_notice
        templates = self.templates(actor, round_id)
        buf = io.BytesIO()
        with tempfile.TemporaryDirectory(prefix="shinsa-notices-") as work, \
                zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for f in fields:
                stem = notice_file_name(f.proposal_id)
                docx = render_notice(f, templates.get(f.decision_code))
                z.writestr(f"{stem}.docx", docx)
                if pdf:
                    z.writestr(f"{stem}.pdf", docx_to_pdf(docx, stem, work=Path(work)))
        return buf.getvalue()

    def to_outbox(self, actor: UserInfo, round_id: int | str, fields: list[NoticeFields],
                  addresses: Mapping[str, str]) -> list[int]:
        """Chair, secretariat: each notice with an address (proposal id → e-mail address) as an outbox draft with
        its .docx attached (:func:`scoring.io.notices.notice_mail`). Every problem at once (the outbox's checks)."""
        from ..io.notices import notice_mail, render_notice
        templates = self.templates(actor, round_id)
        drafts = []
        for f in fields:
            address = (addresses.get(f.proposal_id) or "").strip()
            if not address:
                continue
            subject, body, name = notice_mail(f)
            drafts.append(OutboxDraft("notice", f.applicant_name or f.proposal_id, address, subject, body,
                                      proposal_id=f.proposal_id, attachment_name=name,
                                      attachment=render_notice(f, templates.get(f.decision_code))))
        if not drafts:
            raise _problem("address", "no notice has an e-mail address")
        return self.store.outbox.add_drafts(actor, round_id, drafts)


__all__ = ["NoticeService", "NoticeSettings", "DECISION_CODES"]
