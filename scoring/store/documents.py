"""A proposal's documents (``store.documents``; issue 16, docs/store.md "Documents", docs/security/documents.md):
the 提案書 PDF and its attachments, stored content-addressed in the database (``documents``: SHA-256 → bytes, the
same bytes once) and listed per proposal (``proposal_documents``).

Access is the proposal's own: the command line; a chair or the secretariat unless conflicted with the proposal; a
reviewer only for a proposal assigned to them and not conflicted. The rule is checked on every call — listing,
reading bytes — so no route (page, download, the viewer) can serve a document the user may not see.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Sequence

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..errors import InputError, Problem, quote
from ..io.documents import (EXPORT_ZIP, MANIFEST, DocumentFile, assign_kinds, check_file, export_zip, match_proposal,
                            read_manifest, read_source)
from ..io.safe import write_atomic
from .base import ADMIN, Actor, ServiceBase, deny
from .errors import ConflictOfInterest, NotFound
from .schema import Document, ProposalDocument, ProposalRow, Round, as_utc, utcnow
from .values import AuditAction, DocumentInfo, UserInfo

MAX_NAME = 255


def _info(d: ProposalDocument, pid: str, content_type: str, size: int) -> DocumentInfo:
    return DocumentInfo(d.id, d.round_id, pid, d.file_name, d.kind, content_type, size, d.sha256, d.pages,
                        d.uploaded_by, as_utc(d.uploaded_at))


class DocumentService(ServiceBase):
    """``store.documents``: add a batch (all or nothing), list a proposal's documents, read one's bytes."""

    # -- access: the proposal's own rule ----------------------------------------------------------------------
    def _doc_access(self, s: Session, who: Actor, r: Round, p: ProposalRow) -> None:
        if who.id is None:
            return
        if who.is_(*ADMIN):
            if self._conflicted(s, r.id, p, who.id):
                raise ConflictOfInterest(f"{who.username} has a conflict of interest with {p.proposal_id}")
            return
        self._require_access(s, who, r, p)

    def _rows(self, s: Session, r: Round, p: ProposalRow) -> list[DocumentInfo]:
        q = (select(ProposalDocument, Document.content_type, Document.size)
             .join(Document, Document.sha256 == ProposalDocument.sha256)
             .where(ProposalDocument.proposal_pk == p.id).order_by(ProposalDocument.kind != "proposal",
                                                                   ProposalDocument.file_name))
        return [_info(d, p.proposal_id, ct, size) for d, ct, size in s.execute(q)]

    def list_documents(self, actor: UserInfo, round_id: int, proposal_id: str) -> list[DocumentInfo]:
        """The proposal's documents, the 提案書 first, then by file name — to whoever may see the proposal
        (:class:`PermissionDenied` / :class:`ConflictOfInterest` otherwise). Not logged: it returns no content."""
        with self.db.read() as s:
            who = self._who(s, actor)
            r = self._round(s, round_id)
            p = self._proposal(s, r.id, proposal_id)
            self._doc_access(s, who, r, p)
            return self._rows(s, r, p)

    def read(self, actor: UserInfo, round_id: int, proposal_id: str, document_id: int) -> bytes:
        """The bytes of one document of the proposal, after the same check as :meth:`list_documents`; each read
        is logged (``document.read``: who, which proposal, which file)."""
        with self.db.write() as s:
            who = self._who(s, actor)
            r = self._round(s, round_id)
            p = self._proposal(s, r.id, proposal_id)
            self._doc_access(s, who, r, p)
            d = s.scalar(select(ProposalDocument).where(ProposalDocument.id == int(document_id),
                                                        ProposalDocument.proposal_pk == p.id))
            if d is None:
                raise NotFound(f"no document {document_id} of {proposal_id}")
            data = s.scalar(select(Document.content).where(Document.sha256 == d.sha256))
            self._audit(s, who, AuditAction.document_read, "document", round_id=r.id, proposal_id=p.proposal_id,
                        subject=d.file_name[:100], after={"sha256": d.sha256})
            return bytes(data)

    def counts(self, actor: UserInfo, round_id: int) -> dict[str, int]:
        """Chair, secretariat: documents per proposal id (proposals without any left out)."""
        with self.db.read() as s:
            self._admin(s, actor, "count documents")
            r = self._round(s, round_id)
            out: dict[str, int] = {}
            for pid in s.scalars(select(ProposalRow.proposal_id).join(
                    ProposalDocument, ProposalDocument.proposal_pk == ProposalRow.id).where(ProposalRow.round_id == r.id)):
                out[pid] = out.get(pid, 0) + 1
            return out

    # -- adding a batch ---------------------------------------------------------------------------------------
    def add_documents(self, actor: UserInfo, round_id: int,
                      source: str | Path | bytes | Sequence[tuple[str, bytes]], *,
                      name: str | None = None) -> list[DocumentInfo]:
        """Chair, secretariat: a batch of documents — a folder, a zip (path or bytes) or uploaded files
        (``[(file name, bytes)]``, a .zip among them opened) — matched to the round's proposals by the naming rule
        (:mod:`scoring.io.documents`). All or nothing: any problem (unknown proposal, unsupported type, over the
        size limit, a PDF pypdf cannot open or that is encrypted, a name already stored, a second 提案書, the zip
        bounds) refuses the whole batch with every file's problem (:class:`InputError`). A ``documents.json``
        manifest (an exported documents.zip) gives each file's proposal, kind, uploader and time."""
        src, files, problems = read_source(source, name)
        manifest, files, more = read_manifest(files, src)
        problems += more
        checked: list[DocumentFile] = []
        for fname, data in files:
            doc, probs = check_file(fname, data, src)
            problems += probs
            if len(fname) > MAX_NAME:
                problems.append(Problem(f"{src}: {fname[:80]}…", None, "(file)", f"the name is longer than {MAX_NAME}"))
            if doc is not None:
                checked.append(doc)
        with self.db.write() as s:
            who = self._admin(s, actor, "add documents")
            r = self._round(s, round_id, writable=True)
            props = {p.proposal_id: p for p in s.scalars(select(ProposalRow).where(ProposalRow.round_id == r.id))}
            stored = {d.file_name: d for d in s.scalars(select(ProposalDocument)
                                                         .where(ProposalDocument.round_id == r.id))}
            pk_pid = {p.id: pid for pid, p in props.items()}
            has_proposal = {pk_pid[d.proposal_pk] for d in stored.values() if d.kind == "proposal"}
            by_name = {e.get("file_name"): e for e in manifest or []}
            pid_of: dict[str, str] = {}
            for fname, _ in files:
                where = f"{src}: {fname}"
                if manifest is not None:
                    e = by_name.get(fname)
                    pid = e.get("proposal_id") if e else None
                    if e is None:
                        problems.append(Problem(where, None, "(file)", f"not listed in {src}'s documents.json"))
                        continue
                    if pid not in props:
                        problems.append(Problem(where, None, "proposal_id",
                                                f"{quote(pid)} is not a proposal of round {r.name!r}"))
                        continue
                else:
                    pid = match_proposal(fname, props)
                    if pid is None:
                        problems.append(Problem(where, None, "(file)", f"no proposal of round {r.name!r} matches the "
                                                "name: name a file <proposal id>_<anything>.<ext> (e.g. "
                                                f"{next(iter(props), 'P-001')}_提案書.pdf)"))
                        continue
                pid_of[fname] = pid
                if fname in stored:
                    problems.append(Problem(where, None, "(file)", f"a document named {quote(fname)} is already "
                                                                   f"stored for {pk_pid[stored[fname].proposal_pk]}"))
            if manifest is not None:
                kinds = {f: by_name[f]["kind"] for f in pid_of}
                missing = set(by_name) - {f for f, _ in files}
                for f in sorted(str(x) for x in missing):
                    problems.append(Problem(f"{src}: {MANIFEST}", None, "file_name",
                                            f"{quote(f)} is listed but not in the zip"))
            else:
                kinds = assign_kinds([(f, pid) for f, pid in pid_of.items()], has_proposal)
            for doc in checked:
                if doc.name not in kinds:
                    continue
                if kinds[doc.name] == "proposal" and doc.content_type != "application/pdf":
                    problems.append(Problem(f"{src}: {doc.name}", None, "(file)",
                                            "a 提案書 must be a PDF (rename it without 提案書/proposal at the end)"))
            per: dict[str, list[str]] = {}
            for f, k in kinds.items():
                if k == "proposal":
                    per.setdefault(pid_of[f], []).append(f)
            for pid, names in per.items():
                if pid in has_proposal or len(names) > 1:
                    problems.append(Problem(f"{src}: {names[-1]}", None, "(file)", f"{pid} would have a second "
                                            "提案書: a proposal has one (name the others 別紙 or attachment)"))
            if problems:
                raise InputError(problems)
            if not checked:
                raise InputError([Problem(src, None, "(file)", "no documents in the batch")])

            # everything checked: write
            now = utcnow()
            have = set(s.scalars(select(Document.sha256).where(Document.sha256.in_([d.sha256 for d in checked]))))
            for doc in checked:
                if doc.sha256 not in have:
                    s.execute(insert(Document.__table__), [dict(sha256=doc.sha256, content=doc.data, size=len(doc.data),
                                                                content_type=doc.content_type, created_at=now)])
                    have.add(doc.sha256)
            rows = []
            for doc in checked:
                e = by_name.get(doc.name) if manifest is not None else None
                by = str(e["uploaded_by"])[:100] if e else who.username
                at = _parse_at(e["uploaded_at"]) if e else now
                row = ProposalDocument(round_id=r.id, proposal_pk=props[pid_of[doc.name]].id, file_name=doc.name,
                                       kind=kinds[doc.name], sha256=doc.sha256, pages=doc.pages, uploaded_by=by,
                                       uploaded_at=at)
                s.add(row)
                rows.append((row, doc))
            s.flush()
            self._audit(s, who, AuditAction.document_add, "document", round_id=r.id,
                        after={"source": str(src)[:200], "files": [
                            {"proposal_id": pid_of[d.name], "file_name": d.name, "kind": kinds[d.name],
                             "sha256": d.sha256, "size": len(d.data)} for d in checked]})
            return [_info(row, pid_of[doc.name], doc.content_type, len(doc.data)) for row, doc in rows]

    # -- export -----------------------------------------------------------------------------------------------
    def export_zip(self, actor: UserInfo, round_id: int, out_dir: str | Path) -> Path:
        """Chair: ``documents.zip`` in ``out_dir`` — every document of the round under its file name and a
        ``documents.json`` manifest (proposal, kind, sha256, who, when); :meth:`add_documents` of it into the same
        proposals gives the same documents back. A chair conflicted with any proposal of the round is refused
        (the export is the whole round, as :meth:`RoundFiles.export_files`)."""
        with self.db.read() as s:
            who = self._who(s, actor)
            if not who.is_("chair"):
                raise deny(who, "export a round's documents")
            r = self._round(s, round_id)
            withheld = self._withheld(s, who, r.id)
            if withheld:
                raise ConflictOfInterest(f"{who.username} has a conflict of interest with "
                                         f"{', '.join(sorted(withheld)[:10])}: the documents are not exported")
            q = (select(ProposalDocument, ProposalRow.proposal_id).join(ProposalRow,
                 ProposalRow.id == ProposalDocument.proposal_pk).where(ProposalDocument.round_id == r.id)
                 .order_by(ProposalRow.position, ProposalDocument.file_name))
            entries = [{"proposal_id": pid, "file_name": d.file_name, "kind": d.kind, "sha256": d.sha256,
                        "uploaded_by": d.uploaded_by, "uploaded_at": as_utc(d.uploaded_at).isoformat()}
                       for d, pid in s.execute(q)]
            blobs = {}
            for sha in sorted({e["sha256"] for e in entries}):
                blobs[sha] = bytes(s.scalar(select(Document.content).where(Document.sha256 == sha)))
        path = Path(out_dir) / EXPORT_ZIP
        write_atomic(path, export_zip(entries, blobs))
        return path


def _parse_at(value) -> datetime:
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        raise InputError([Problem(MANIFEST, None, "uploaded_at", f"{quote(value)} is not a date and time")]) \
            from None
    return as_utc(at)
