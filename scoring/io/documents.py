"""Proposal documents as files (issue 16, docs/store.md "Documents"): a batch read from a folder, a zip or uploaded
files, each file checked — type, size, a PDF that opens — and matched to its proposal by the naming rule.

The naming rule (:func:`match_proposal`): a file belongs to proposal ``P`` when its name is ``P.<ext>`` or starts
with ``P_`` (``L4-001_提案書.pdf``, ``L4-001_別紙1_経費明細.xlsx``); when ids overlap, the longest id wins.

The kind (:func:`kind_of`): a name whose stem ends with ``提案書`` or ``proposal`` is the 提案書 (``proposal``; it
must be a PDF); a name with ``別紙``, ``経費`` or ``attachment`` in it is a 別紙 (``attachment``); anything else is
その他 (``other``). A proposal that after the batch would still have no 提案書 gets its first PDF in name order as
its 提案書 (``P_申請書.pdf`` alone is read as the 提案書) — see :func:`assign_kinds`.

The bounds (environment, read at each call): one file at most ``SHINSA_DOC_MAX_MB`` (default 50) MB; a zip — read
by the one bounded zip reader, :func:`scoring.io.bounded.open_zip` (:func:`zip_limits`, :data:`WORDING`) — at most
:data:`MAX_ZIP_MEMBERS` members, its central directory at most ``ZIP_DIRECTORY_BYTES`` (1 MB) and every member of
more than ``ZIP_RATIO_FLOOR_BYTES`` (1 MB) expanding at most ``ZIP_RATIO`` (100) times, all members together at
most ``SHINSA_DOC_MAX_BATCH_MB`` (default 1000) MB; a declared size is never trusted (a member is read through a
stream that stops one byte past the file limit). A member is known by its base name only (``/`` and ``\\`` both
separate folders: :func:`scoring.io.bounded.entry_name`); a zip inside the zip is a file of an unsupported type,
never opened.

Every problem of every file is collected (:class:`~scoring.errors.Problem` ``file``, field ``(file)``); the store
refuses the whole batch if there is any.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from ..errors import InputError, Problem, quote
from .bounded import (ZIP_DIRECTORY_BYTES, ZIP_RATIO, ZIP_RATIO_FLOOR_BYTES, ZipLimits, ZipRefused, ZipWording,
                      entry_name, open_zip, size_text)

MiB = 1024 * 1024
MAX_ZIP_MEMBERS = 2000            # files in one zip (a round of 200 proposals with 10 files each)
MANIFEST = "documents.json"       # the manifest `export` writes into documents.zip (kinds, who, when)
EXPORT_ZIP = "documents.zip"      # the file `export` writes beside the canonical files

TYPES = {"pdf": "application/pdf",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg"}
"""The file types accepted, by extension (lower case), and the content type stored."""

_MAGIC = {"pdf": (b"%PDF-",), "xlsx": (b"PK\x03\x04",), "docx": (b"PK\x03\x04",), "png": (b"\x89PNG\r\n\x1a\n",),
          "jpg": (b"\xff\xd8\xff",), "jpeg": (b"\xff\xd8\xff",)}
_KINDS = ("proposal", "attachment", "other")


def _env_mb(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default * MiB
    if not raw.isdigit() or int(raw) < 1:
        raise InputError([Problem(name, None, "(setting)", f"must be a positive whole number of MB, not {raw[:40]!r}")])
    return int(raw) * MiB


def max_file_bytes() -> int:
    """One document's size limit: ``SHINSA_DOC_MAX_MB`` (default 50) MB."""
    return _env_mb("SHINSA_DOC_MAX_MB", 50)


def max_batch_bytes() -> int:
    """All the documents of one batch (a zip's members expanded): ``SHINSA_DOC_MAX_BATCH_MB`` (default 1000) MB."""
    return _env_mb("SHINSA_DOC_MAX_BATCH_MB", 1000)


_mb = size_text


@dataclass(frozen=True)
class DocumentFile:
    """One checked file of a batch: its name, bytes, SHA-256, content type and (a PDF) page count."""

    name: str
    data: bytes
    sha256: str
    content_type: str
    pages: int | None


def extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def kind_of(name: str) -> str | None:
    """The kind a file name says (``proposal``/``attachment``), or None when it says neither (see the module)."""
    stem = name.rsplit(".", 1)[0]
    low = stem.lower()
    if stem.endswith("提案書") or low.endswith("proposal"):
        return "proposal"
    if "別紙" in stem or "経費" in stem or "attachment" in low:
        return "attachment"
    return None


def match_proposal(name: str, proposal_ids: Iterable[str]) -> str | None:
    """The proposal a file name belongs to by the naming rule (``<id>.<ext>`` or ``<id>_…``), longest id first."""
    stem = name.rsplit(".", 1)[0] if "." in name else name
    best = None
    for pid in proposal_ids:
        if (stem == pid or name.startswith(pid + "_")) and (best is None or len(pid) > len(best)):
            best = pid
    return best


def assign_kinds(files: Sequence[tuple[str, str]], has_proposal: set[str]) -> dict[str, str]:
    """File name → kind for ``files`` ((name, proposal id) pairs). ``has_proposal``: proposals that already have a
    stored 提案書. A proposal left without one gets its first PDF (in name order) of kind その他 as its 提案書."""
    kinds = {name: kind_of(name) or "other" for name, _ in files}
    marked = set(has_proposal) | {pid for name, pid in files if kinds[name] == "proposal"}
    for name, pid in sorted(files):
        if pid not in marked and extension(name) == "pdf" and kinds[name] == "other":
            kinds[name] = "proposal"
            marked.add(pid)
    return kinds


def pdf_pages(data: bytes) -> tuple[int | None, str | None]:
    """(page count, None) of a PDF pypdf can open, else (None, why not): not a PDF, encrypted, no pages."""
    from pypdf import PdfReader   # only a batch of documents needs it
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            return None, "the PDF is encrypted (password-protected): upload it without a password"
        n = len(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, RecursionError,
            AssertionError, NotImplementedError, ZeroDivisionError) as exc:
        return None, f"not a readable PDF ({type(exc).__name__}: {str(exc)[:120]})"
    if n < 1:
        return None, "the PDF has no pages"
    return n, None


def check_file(name: str, data: bytes, src: str) -> tuple[DocumentFile | None, list[Problem]]:
    """One file checked: its type (by extension and first bytes), size and, a PDF, that pypdf opens it."""
    where = f"{src}: {name}" if src and src != name else name
    ext = extension(name)
    if ext not in TYPES:
        return None, [Problem(where, None, "(file)", f"unsupported type {('.' + ext) if ext else '(no extension)'}: "
                                                   f"accepted are {', '.join('.' + t for t in TYPES)}")]
    limit = max_file_bytes()
    if len(data) > limit:
        return None, [Problem(where, None, "(file)", f"the file is {_mb(len(data))}, over the limit of {_mb(limit)} "
                                                   "(SHINSA_DOC_MAX_MB)")]
    if not data.startswith(_MAGIC[ext]):
        return None, [Problem(where, None, "(file)", f"the content is not a .{ext} file (its first bytes do not match)")]
    pages = None
    if ext == "pdf":
        pages, why = pdf_pages(data)
        if why:
            return None, [Problem(where, None, "(file)", why)]
    return DocumentFile(name, data, hashlib.sha256(data).hexdigest(), TYPES[ext], pages), []


def zip_limits() -> ZipLimits:
    """The bounds of a zip of documents (the environment's file and batch limits read now)."""
    return ZipLimits(members=MAX_ZIP_MEMBERS, member_bytes=max_file_bytes(), total_bytes=max_batch_bytes(),
                     ratio=ZIP_RATIO, ratio_floor=ZIP_RATIO_FLOOR_BYTES, directory_bytes=ZIP_DIRECTORY_BYTES)


WORDING = ZipWording(
    directory="the zip has {n:,} members, over the limit of {members:,}",
    not_zip="not a readable zip ({type})",
    members="the zip has {n:,} members, over the limit of {limit:,}",
    method="compressed with a method other than stored or deflated",
    member_bytes="the file is {size}, over the limit of {limit} (SHINSA_DOC_MAX_MB)",
    ratio="expands {ratio:,.0f} times, over the limit of {limit} (a zip bomb?)",
    total="the files expand to more than {limit} together (SHINSA_DOC_MAX_BATCH_MB)",
    unreadable="cannot be read from the zip ({type})",
    too_long="over the limit of {limit} (SHINSA_DOC_MAX_MB)")
"""What the shared zip reader says of a zip of documents beyond a bound."""


def _member_ok(info: zipfile.ZipInfo) -> bool:
    base = entry_name(info.filename)
    return not info.is_dir() and base and not base.startswith(".") and not info.filename.startswith("__MACOSX/")


def read_zip(data: bytes, src: str) -> tuple[list[tuple[str, bytes]], list[Problem]]:
    """The files of a zip (folders inside it ignored: each member by its base name) within the bounds above,
    read by the one bounded zip reader (:func:`scoring.io.bounded.open_zip`); every member's problem is
    collected, and the batch's total stops the reading."""
    try:
        z = open_zip(data, zip_limits(), WORDING)
    except ZipRefused as exc:
        return [], [Problem(src, None, "(file)", exc.message)]
    limit = max_file_bytes()
    P: list[Problem] = []
    out: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    for info in z.infos:
        if not _member_ok(info):
            continue
        name = entry_name(info.filename)
        where = f"{src}: {info.filename}"
        if name in seen:
            P.append(Problem(where, None, "(file)", f"a second file named {quote(name)} in the zip"))
            continue
        seen.add(name)
        try:
            z.check(info)
            out.append((name, z.read(info, limit)))
        except ZipRefused as exc:
            if exc.why == "total":
                P.append(Problem(src, None, "(file)", exc.message))
                break
            P.append(Problem(where, None, "(file)", exc.message))
    return out, P


def read_source(source: str | Path | bytes | Sequence[tuple[str, bytes]],
                name: str | None = None) -> tuple[str, list[tuple[str, bytes]], list[Problem]]:
    """(the batch's name for messages, [(file name, bytes)], problems) of a folder, a zip (path or bytes) or a
    list of (file name, bytes) — uploaded files; an uploaded ``.zip`` among them is opened."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        src = name or str(path)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            if len(files) > MAX_ZIP_MEMBERS:
                return src, [], [Problem(src, None, "(file)", f"{len(files):,} files, over the limit of "
                                                              f"{MAX_ZIP_MEMBERS:,}")]
            out, P = [], []
            limit = max_file_bytes()
            for p in files:
                if p.stat().st_size > limit:
                    P.append(Problem(f"{src}: {p.name}", None, "(file)", f"the file is {_mb(p.stat().st_size)}, "
                                     f"over the limit of {_mb(limit)} (SHINSA_DOC_MAX_MB)"))
                else:
                    out.append((p.name, p.read_bytes()))
            return src, out, P
        if not path.is_file():
            return src, [], [Problem(src, None, "(file)", "no such file or folder")]
        if path.stat().st_size > max_batch_bytes():
            return src, [], [Problem(src, None, "(file)", f"the zip is {_mb(path.stat().st_size)}, over the limit of "
                                                          f"{_mb(max_batch_bytes())} (SHINSA_DOC_MAX_BATCH_MB)")]
        files, P = read_zip(path.read_bytes(), src)
        return src, files, P
    if isinstance(source, (bytes, bytearray)):
        src = name or "(zip)"
        files, P = read_zip(bytes(source), src)
        return src, files, P
    src = name or "(upload)"
    out, P = [], []
    for fname, data in source:
        if extension(fname) == "zip":
            files, probs = read_zip(bytes(data), fname)
            out.extend(files)
            P.extend(probs)
        else:
            out.append((fname, bytes(data)))
    return src, out, P


def read_manifest(files: list[tuple[str, bytes]], src: str) -> tuple[list[dict] | None, list[tuple[str, bytes]],
                                                                     list[Problem]]:
    """The manifest (``documents.json`` of an exported documents.zip) if there is one, and the other files."""
    rest = [(n, d) for n, d in files if n != MANIFEST]
    raw = next((d for n, d in files if n == MANIFEST), None)
    if raw is None:
        return None, rest, []
    where = f"{src}: {MANIFEST}"
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, rest, [Problem(where, None, "(file)", f"not JSON ({type(exc).__name__})")]
    P = []
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        return None, rest, [Problem(where, None, "(file)", "a list of documents is expected")]
    keys = {"proposal_id", "file_name", "kind", "sha256", "uploaded_by", "uploaded_at"}
    for i, e in enumerate(data):
        for k in sorted(keys - set(e)):
            P.append(Problem(where, f"[{i}]", k, "missing"))
        if e.get("kind") not in _KINDS:
            P.append(Problem(where, f"[{i}]", "kind", f"{quote(e.get('kind'))} is not one of {', '.join(_KINDS)}"))
    return (None if P else data), rest, P


def export_zip(entries: list[dict], blobs: dict[str, bytes]) -> bytes:
    """documents.zip: every document under its file name (so the naming rule reads it back), and the manifest."""
    buf = io.BytesIO()

    def member(name: str) -> zipfile.ZipInfo:   # a fixed time: the same round exports the same bytes
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        return info

    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for e in entries:
            z.writestr(member(e["file_name"]), blobs[e["sha256"]])
        z.writestr(member(MANIFEST), json.dumps(entries, ensure_ascii=False, indent=1) + "\n")
    return buf.getvalue()
