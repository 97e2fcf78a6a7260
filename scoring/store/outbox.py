"""The outbox (``store.outbox``; issue 18 item 6, decisions.md §5, docs/notices.md): notices to applicants and
reminders to reviewers as e-mails, each with its status (draft → sending → sent | failed), attempts, last error
and times; sent by SMTP when the secretariat configured a server (:mod:`scoring.io.mail`).

Rules (every one enforced here, whatever the UI shows):

- chair and secretariat only (and the command line); every change logged (``outbox.add``, ``outbox.send``,
  ``outbox.fail``, ``outbox.release``). A member conflicted with a proposal sees nothing of its notice (it is
  left out of :meth:`OutboxService.list`) and can neither add, read nor send it;
- **at most once**: before sending a message a sender claims it with one UPDATE that only matches a ``draft`` or
  ``failed`` row without a claim (``status IN ('draft','failed') AND claim_token IS NULL``), committed before
  the SMTP conversation; a second chair, tab or app server pressing send at the same moment matches no row and
  skips it. The outcome is recorded only under the sender's own claim token;
- a failed message keeps its error and is sent again only on request (:meth:`OutboxService.send` of its id);
  a connection failure (server down, login refused) stops the run: the rest stay drafts;
- a message left ``sending`` by a server that stopped mid-send (its claim older than :data:`STALE_CLAIM`) is never
  resent by itself — it may have been delivered; :meth:`OutboxService.release` marks it failed on request.
- adding a draft replaces an unsent draft (or failed message) of the same notice / the same reminder recipient;
  sent messages are kept as they are.
"""

from __future__ import annotations

import hashlib
import secrets
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ..errors import InputError, Problem, clip, quote
from ..io.mail import MESSAGE_ERRORS, SEND_ERRORS, SmtpConnection, SmtpSettings, address_problem, build_message
from .base import Actor, ServiceBase
from .errors import ConflictOfInterest, NotFound, StoreError
from .schema import OutboxRow, ProposalRow, as_utc, utcnow
from .values import AuditAction, UserInfo

ENTITY = "outbox"
KINDS = ("notice", "reminder")
STATUSES = ("draft", "sending", "sent", "failed")
STALE_CLAIM = timedelta(minutes=10)
"""A claim older than this is a send that was interrupted (a live send holds one for seconds)."""
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_BODY_CHARS = 100_000


class MailNotConfigured(StoreError):
    """No SMTP server is configured (``SHINSA_SMTP_HOST``): nothing was sent."""


@dataclass(frozen=True)
class OutboxDraft:
    """A message to add: a ``notice`` (``proposal_id`` of the round, usually with the .docx attached) or a
    ``reminder`` (``recipient`` the reviewer's username)."""

    kind: str
    recipient: str
    address: str
    subject: str
    body: str
    proposal_id: str | None = None
    attachment_name: str | None = None
    attachment: bytes | None = None


@dataclass(frozen=True)
class OutboxInfo:
    """One message of the outbox as listed (the preview: subject and body; the attachment by :meth:`attachment`)."""

    id: int
    round_id: int
    kind: str
    proposal_id: str | None
    recipient: str
    address: str
    subject: str
    body: str
    attachment_name: str | None
    attachment_bytes: int
    attachment_sha256: str | None
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    created_by: str
    sent_at: datetime | None
    claimed_by: str | None
    claimed_at: datetime | None


@dataclass(frozen=True)
class SendResult:
    id: int
    status: str            # sent | failed | skipped (already sent or being sent by someone else, or not attempted)
    error: str | None = None


def _info(row: OutboxRow) -> OutboxInfo:
    return OutboxInfo(row.id, row.round_id, row.kind, row.proposal_id, row.recipient, row.address, row.subject,
                      row.body, row.attachment_name, len(row.attachment or b""), row.attachment_sha256, row.status,
                      row.attempts, row.last_error, as_utc(row.created_at), row.created_by, as_utc(row.sent_at),
                      row.claimed_by, as_utc(row.claimed_at))


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        parts = [f"{addr}: {code} {msg.decode('utf-8', 'replace') if isinstance(msg, bytes) else msg}"
                 for addr, (code, msg) in exc.recipients.items()]
        return clip("recipient refused — " + "; ".join(parts), 1000)
    if isinstance(exc, smtplib.SMTPResponseException):
        msg = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return clip(f"{type(exc).__name__}: {exc.smtp_code} {msg}", 1000)
    return clip(f"{type(exc).__name__}: {exc}", 1000)


class OutboxService(ServiceBase):
    """``store.outbox``: drafts, the list with previews, sending at most once, retries."""

    # -- helpers ----------------------------------------------------------------------------------------------
    def _check_proposals(self, s: Session, who: Actor, round_id: int, proposal_ids: Iterable[str | None]) -> None:
        ids = {p for p in proposal_ids if p is not None}
        hidden = self._withheld(s, who, round_id, ids) if ids else frozenset()
        if hidden:
            raise ConflictOfInterest(f"{who.username} has a conflict of interest with "
                                     f"{', '.join(sorted(hidden))}: another chair must handle these notices")

    def _rows(self, s: Session, round_id: int, ids: Sequence[int]) -> list[OutboxRow]:
        rows = list(s.scalars(select(OutboxRow).where(OutboxRow.round_id == round_id, OutboxRow.id.in_(list(ids)))))
        missing = set(ids) - {r.id for r in rows}
        if missing:
            raise NotFound(f"no outbox message {', '.join(map(str, sorted(missing)))} in round {round_id}")
        return rows

    def _validate(self, s: Session, round_id: int, drafts: Sequence[OutboxDraft]) -> None:
        problems = []
        known = set(s.scalars(select(ProposalRow.proposal_id).where(
            ProposalRow.round_id == round_id,
            ProposalRow.proposal_id.in_([d.proposal_id for d in drafts if d.proposal_id]))))
        for i, d in enumerate(drafts):
            row = f"[{i}]"

            def bad(field: str, message: str) -> None:
                problems.append(Problem("outbox", row, field, message))

            if d.kind not in KINDS:
                bad("kind", f"one of {', '.join(KINDS)} (got {quote(d.kind)})")
            if d.kind == "notice" and not d.proposal_id:
                bad("proposal_id", "a notice names its proposal")
            if d.proposal_id and d.proposal_id not in known:
                bad("proposal_id", f"no proposal {quote(d.proposal_id)} in this round")
            why = address_problem(d.address)
            if why:
                bad("address", why)
            if not (d.recipient or "").strip() or len(d.recipient) > 200:
                bad("recipient", "a recipient name of 1 to 200 characters")
            if not (d.subject or "").strip() or len(d.subject) > 500:
                bad("subject", "a subject of 1 to 500 characters")
            if len(d.body or "") > MAX_BODY_CHARS:
                bad("body", f"at most {MAX_BODY_CHARS:,} characters")
            if d.attachment is not None:
                if len(d.attachment) > MAX_ATTACHMENT_BYTES:
                    bad("attachment", f"at most {MAX_ATTACHMENT_BYTES // 2**20} MB")
                if not d.attachment_name or any(c in d.attachment_name for c in "/\\\r\n\0"):
                    bad("attachment_name", f"a file name is required (got {quote(d.attachment_name)})")
        if problems:
            raise InputError(problems)

    # -- drafts -----------------------------------------------------------------------------------------------
    def add_drafts(self, actor: UserInfo, round_id: int | str, drafts: Iterable[OutboxDraft]) -> list[int]:
        """Chair, secretariat: add messages as drafts (all or nothing; every problem listed at once). An unsent
        draft or failed message of the same notice (or reminder recipient) is replaced. Returns the new ids."""
        drafts = list(drafts)
        with self.db.write() as s:
            who = self._admin(s, actor, "prepare e-mails")
            r = self._round(s, round_id)
            self._validate(s, r.id, drafts)
            self._check_proposals(s, who, r.id, (d.proposal_id for d in drafts))
            ids = []
            for d in drafts:
                same = (OutboxRow.proposal_id == d.proposal_id) if d.kind == "notice" \
                    else (OutboxRow.recipient == d.recipient)
                replaced = list(s.scalars(select(OutboxRow.id).where(
                    OutboxRow.round_id == r.id, OutboxRow.kind == d.kind, same,
                    OutboxRow.status.in_(("draft", "failed")), OutboxRow.claim_token.is_(None))))
                if replaced:
                    s.execute(delete(OutboxRow).where(OutboxRow.id.in_(replaced)))
                sha = hashlib.sha256(d.attachment).hexdigest() if d.attachment is not None else None
                row = OutboxRow(round_id=r.id, kind=d.kind, proposal_id=d.proposal_id, recipient=d.recipient.strip(),
                                address=d.address.strip(), subject=" ".join(d.subject.split()), body=d.body or "",
                                attachment_name=d.attachment_name, attachment=d.attachment, attachment_sha256=sha,
                                status="draft", attempts=0, created_at=utcnow(), created_by=who.username)
                s.add(row)
                s.flush()
                ids.append(row.id)
                self._audit(s, who, AuditAction.outbox_add, ENTITY, round_id=r.id, proposal_id=d.proposal_id,
                            after={"id": row.id, "kind": d.kind, "address": row.address, "subject": row.subject,
                                   "attachment": d.attachment_name, "sha256": sha, "replaced": replaced or None})
            return ids

    def add_reminders(self, actor: UserInfo, round_id: int | str, pack: str | None,
                      drafts: Iterable[OutboxDraft]) -> list[int]:
        """Chair, secretariat: reviewer reminders (進捗の督促) as drafts of kind ``reminder`` — one per reviewer,
        ``recipient`` the reviewer's username, who must still have reviews to submit (assigned or draft) in the
        programme ``pack`` of the round; no proposal, no attachment. Every problem listed at once, then
        :meth:`add_drafts` (an unsent reminder of the same reviewer is replaced). Returns the new ids."""
        drafts = list(drafts)
        matrix = self.store.rounds.progress(actor, round_id, pack)
        pending = {r for r in matrix.reviewers
                   if any(matrix.cell(r, p) in ("assigned", "draft") for p in matrix.proposals)}
        problems, seen = [], set()
        for i, d in enumerate(drafts):
            row = f"[{i}]"
            if d.kind != "reminder":
                problems.append(Problem("outbox", row, "kind", f"a reminder (got {quote(d.kind)})"))
            if d.proposal_id is not None or d.attachment is not None:
                problems.append(Problem("outbox", row, "proposal_id", "a reminder names no proposal and has no "
                                                                      "attachment"))
            if d.recipient not in pending:
                problems.append(Problem("outbox", row, "recipient", f"{quote(d.recipient)} has no review left to "
                                                                    "submit in this programme"))
            elif d.recipient in seen:
                problems.append(Problem("outbox", row, "recipient", f"{quote(d.recipient)} is reminded twice"))
            seen.add(d.recipient)
        if problems:
            raise InputError(problems)
        return self.add_drafts(actor, round_id, drafts)

    # -- reading ------------------------------------------------------------------------------------------------
    def list(self, actor: UserInfo, round_id: int | str, kind: str | None = None,
             status: str | None = None) -> list[OutboxInfo]:
        """Chair, secretariat: the round's messages with their preview, oldest first; a conflicted member's
        hidden notices left out."""
        with self.db.read() as s:
            who = self._admin(s, actor, "read the outbox")
            r = self._round(s, round_id)
            q = select(OutboxRow).where(OutboxRow.round_id == r.id).order_by(OutboxRow.id)
            if kind is not None:
                q = q.where(OutboxRow.kind == kind)
            if status is not None:
                q = q.where(OutboxRow.status == status)
            rows = list(s.scalars(q))
            hidden = self._withheld(s, who, r.id, {x.proposal_id for x in rows if x.proposal_id})
            return [_info(x) for x in rows if x.proposal_id not in hidden]

    def attachment(self, actor: UserInfo, round_id: int | str, message_id: int) -> tuple[str, bytes] | None:
        """Chair, secretariat: (file name, bytes) of a message's attachment, None when it has none."""
        with self.db.read() as s:
            who = self._admin(s, actor, "read the outbox")
            r = self._round(s, round_id)
            [row] = self._rows(s, r.id, [message_id])
            self._check_proposals(s, who, r.id, [row.proposal_id])
            return (row.attachment_name, row.attachment) if row.attachment is not None else None

    # -- sending --------------------------------------------------------------------------------------------------
    def send(self, actor: UserInfo, round_id: int | str, ids: Sequence[int],
             settings: SmtpSettings | None = None) -> list[SendResult]:
        """Chair, secretariat: send the messages ``ids`` (drafts, or failed ones again) through the configured SMTP
        server, each at most once whoever else sends at the same time. ``settings``: default from the environment
        (:class:`MailNotConfigured` without ``SHINSA_SMTP_HOST``). One result per id, in order."""
        ids = list(dict.fromkeys(int(i) for i in ids))
        with self.db.read() as s:
            who = self._admin(s, actor, "send e-mails")
            r = self._round(s, round_id)
            rows = self._rows(s, r.id, ids)
            self._check_proposals(s, who, r.id, (x.proposal_id for x in rows))
        settings = settings or SmtpSettings.from_env()
        if settings is None:
            raise MailNotConfigured("no SMTP server is configured (SHINSA_SMTP_HOST): the messages stay in the "
                                    "outbox")
        results: dict[int, SendResult] = {}
        conn = SmtpConnection(settings)
        try:
            for mid in ids:
                claimed = self._claim(who, r.id, mid)
                if claimed is None:
                    results[mid] = SendResult(mid, "skipped", "already sent or being sent")
                    continue
                token, msg = claimed
                try:
                    conn.send(build_message(settings.sender, msg.address, msg.subject, msg.body,
                                            msg.attachment_name, msg.attachment))
                except SEND_ERRORS as exc:
                    error = _error_text(exc)
                    self._finish(who, r.id, mid, token, msg.proposal_id, error)
                    results[mid] = SendResult(mid, "failed", error)
                    if not isinstance(exc, MESSAGE_ERRORS):
                        break          # the connection itself failed: the rest stay as they are
                    continue
                except BaseException as exc:
                    self._finish(who, r.id, mid, token, msg.proposal_id, _error_text(exc))
                    raise
                self._finish(who, r.id, mid, token, msg.proposal_id, None)
                results[mid] = SendResult(mid, "sent")
        finally:
            conn.close()
        return [results.get(i) or SendResult(i, "skipped", "not attempted: the connection to the server failed")
                for i in ids]

    def _claim(self, who: Actor, round_id: int, mid: int) -> tuple[str, OutboxRow] | None:
        """Claim one message for this sender (committed at once): its token and content, None when another
        sender has it or it is sent."""
        token = secrets.token_hex(16)
        with self.db.write() as s:
            res = s.execute(update(OutboxRow)
                            .where(OutboxRow.id == mid, OutboxRow.round_id == round_id,
                                   OutboxRow.status.in_(("draft", "failed")), OutboxRow.claim_token.is_(None))
                            .values(status="sending", claim_token=token, claimed_by=who.username,
                                    claimed_at=utcnow(), attempts=OutboxRow.attempts + 1)
                            .execution_options(synchronize_session=False))
            if res.rowcount != 1:
                return None
            row = s.get(OutboxRow, mid)
            s.expunge(row)
            return token, row

    def _finish(self, who: Actor, round_id: int, mid: int, token: str, proposal_id: str | None,
                error: str | None) -> None:
        """Record the outcome of this sender's claim (sent, or failed with the error) and log it."""
        now = utcnow()
        values = dict(status="sent", sent_at=now, last_error=None) if error is None \
            else dict(status="failed", last_error=error)
        with self.db.write() as s:
            s.execute(update(OutboxRow).where(OutboxRow.id == mid, OutboxRow.claim_token == token)
                      .values(claim_token=None, **values).execution_options(synchronize_session=False))
            self._audit(s, who, AuditAction.outbox_send if error is None else AuditAction.outbox_fail, ENTITY,
                        round_id=round_id, proposal_id=proposal_id,
                        after={"id": mid} if error is None else {"id": mid, "error": error})

    def release(self, actor: UserInfo, round_id: int | str, ids: Sequence[int], now: datetime | None = None) -> list[int]:
        """Chair, secretariat: messages left ``sending`` by an interrupted send (claimed over :data:`STALE_CLAIM`
        ago) marked failed, so that they can be sent again on request — after checking they were not delivered.
        Returns the ids released (a fresh claim is left alone)."""
        now = now or utcnow()
        with self.db.write() as s:
            who = self._admin(s, actor, "release e-mails")
            r = self._round(s, round_id)
            rows = self._rows(s, r.id, list(ids))
            self._check_proposals(s, who, r.id, (x.proposal_id for x in rows))
            out = []
            for row in rows:
                claimed = as_utc(row.claimed_at)
                if row.status != "sending" or claimed is None or now - claimed < STALE_CLAIM:
                    continue
                error = f"interrupted while sending (claimed by {row.claimed_by}): it may have been delivered"
                res = s.execute(update(OutboxRow).where(OutboxRow.id == row.id,
                                                        OutboxRow.claim_token == row.claim_token)
                                .values(status="failed", claim_token=None, last_error=error)
                                .execution_options(synchronize_session=False))
                if res.rowcount == 1:
                    out.append(row.id)
                    self._audit(s, who, AuditAction.outbox_release, ENTITY, round_id=r.id,
                                proposal_id=row.proposal_id, after={"id": row.id, "claimed_by": row.claimed_by})
            return out
