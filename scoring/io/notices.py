"""Notices to applicants (選定結果通知, decisions.md §5) as Word documents: templates checked, filled, written.

- :func:`default_template` — the shipped template of a decision code (``scoring/io/templates/notice_<code>.docx``,
  made by ``scripts/make_notice_templates.py``), formal Japanese letters.
- :func:`check_template` — an uploaded template: a real ``.docx`` within bounds (:mod:`scoring.io.docx_guard`: size,
  zip bomb, DTD), valid docxtpl/Jinja syntax, and only the names of :data:`scoring.notices_data.PLACEHOLDERS`;
  every problem at once, each unknown placeholder named.
- :func:`render_notice` — one notice: a template filled by docxtpl with :func:`scoring.notices_data.placeholders`.
- :func:`write_notices` — ``<proposal_id>.docx`` per notice and ``notices.zip`` of all; PDFs too when asked and
  LibreOffice (``soffice``) is installed. Everything is rendered (and converted) first; nothing is written when
  anything fails; each file is written whole (:func:`scoring.io.safe.write_atomic`).

Safety of the filling (docs/notices.md):
- text inserted is XML-escaped (``autoescape``) and never rendered again, so a title containing ``{{ … }}`` or
  ``{% … %}`` stays literal; characters XML cannot hold are dropped; a line break in a value is a line break;
- templates run in Jinja's sandbox with no globals (no ``range``), a short list of filters, no calls, no ``set``,
  no include/import/macro, no ``**`` and no string or list repetition beyond :data:`MAX_REPEAT` characters — an
  uploaded template can neither reach Python objects nor make a notice of gigabytes.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import tempfile
import zipfile
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Mapping

from docx.oxml import parse_xml
from docxtpl import DocxTemplate
from jinja2 import TemplateError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from ..errors import InputError, Problem, ShinsaError, quote
from ..notices_data import PLACEHOLDERS, CriterionStanding, Feedback, NoticeFields, placeholders
from .docx_guard import check_docx
from .safe import write_atomic

__all__ = ["DECISION_CODES", "FEEDBACK_CODES", "TEMPLATES", "MAX_REPEAT", "ALLOWED_FILTERS", "NoticeError",
           "default_template", "check_template", "render_notice", "write_notices", "soffice_path", "docx_to_pdf",
           "notice_file_name", "notice_mail"]

DECISION_CODES = ("adopted", "adopted_conditional", "reserve", "not_adopted")
FEEDBACK_CODES = ("reserve", "not_adopted")
"""The decisions whose notices may carry feedback (decisions.md §5); any other notice is filled with it off."""
TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_REPEAT = 100_000
"""The longest text or list a template may make with ``*`` (``"－" * 20`` is fine)."""
ALLOWED_FILTERS = frozenset({"default", "d", "e", "escape", "length", "count", "join", "lower", "upper", "trim",
                             "first", "last", "string", "title", "capitalize", "int", "float", "round", "abs",
                             "list", "truncate"})
"""The filters a template may use (none of them can make a text much longer than what it is given)."""
_REFUSED_NODES = {nodes.Include: "{% include %}", nodes.Extends: "{% extends %}", nodes.Import: "{% import %}",
                  nodes.FromImport: "{% from … import %}", nodes.Macro: "{% macro %}",
                  nodes.CallBlock: "{% call %}", nodes.Call: "a function or method call ( … () )",
                  nodes.Assign: "{% set %}", nodes.AssignBlock: "{% set %}", nodes.Pow: "the ** operator"}
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
SOFFICE_TIMEOUT = 120
"""Seconds one LibreOffice conversion may take (``SHINSA_SOFFICE_TIMEOUT``), then it is stopped."""


class NoticeError(ShinsaError):
    """Notices could not be made (a PDF conversion failed or timed out); nothing was written."""


class _Sandbox(SandboxedEnvironment):
    """Jinja's sandbox, with no globals, :data:`ALLOWED_FILTERS` only and bounded repetition."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self) -> None:
        super().__init__(autoescape=True)
        self.globals.clear()
        self.filters = {k: v for k, v in self.filters.items() if k in ALLOWED_FILTERS}

    def call_binop(self, context, operator, left, right):
        if operator == "**":
            raise SecurityError("the ** operator is not allowed in a notice template")
        seq = left if isinstance(left, (str, list, tuple)) else right if isinstance(right, (str, list, tuple)) \
            else None
        times = right if seq is left else left
        if seq is not None and isinstance(times, int) and len(seq) * max(times, 0) > MAX_REPEAT:
            raise SecurityError(f"a repetition longer than {MAX_REPEAT:,} is not allowed in a notice template")
        return super().call_binop(context, operator, left, right)


# --- templates ---------------------------------------------------------------------------------------------------

def default_template(decision_code: str) -> bytes:
    """The shipped template of ``decision_code`` (adopted, adopted_conditional, reserve, not_adopted)."""
    if decision_code not in DECISION_CODES:
        raise ValueError(f"no notice template for decision {decision_code!r} (one of {', '.join(DECISION_CODES)})")
    return (TEMPLATES / f"notice_{decision_code}.docx").read_bytes()


def _template_texts(tpl: DocxTemplate) -> list[tuple[str, str]]:
    """(part, Jinja source as docxtpl renders it) of every part docxtpl fills: body, headers, footers,
    footnotes and the document properties."""
    doc = tpl.get_docx()
    out = [("word/document.xml", tpl.patch_xml(tpl.xml_to_string(doc._element.body)))]
    for rel in doc.part.rels.values():
        if rel.reltype in (tpl.HEADER_URI, tpl.FOOTER_URI) and not rel.is_external:
            part = rel.target_part
            out.append((str(part.partname).lstrip("/"), tpl.patch_xml(tpl.xml_to_string(parse_xml(part.blob)))))
    for part in doc.part.package.parts:
        if part.content_type.endswith("wordprocessingml.footnotes+xml"):
            out.append((str(part.partname).lstrip("/"), tpl.patch_xml(part.blob.decode("utf-8"))))
    props = doc.core_properties
    for prop in ("author", "comments", "identifier", "language", "subject", "title"):
        out.append((f"docProps/core.xml ({prop})", getattr(props, prop) or ""))
    return out


def _sample_fields() -> NoticeFields:
    fb = Feedback(base_score=61.5, pass_line=60.0, band="B",
                  criteria=(CriterionStanding("c1", "観点", "criterion", 0.6, 0.8),), applicant_comments=("所見",))
    return NoticeFields("P-001", "提案名", "申請者", "事業区分", "公募回", "not_adopted", "不採択", 0, "",
                        None, date(2026, 1, 1), "発信者", fb)


def check_template(data: bytes, name: str) -> None:
    """Refuse an uploaded notice template (:class:`InputError`, every problem at once, naming ``name``): not a
    ``.docx`` or beyond the bounds of :mod:`scoring.io.docx_guard`; Jinja syntax errors; each placeholder that is
    not one of :data:`PLACEHOLDERS` (named); constructs the sandbox refuses (calls, ``set``, include, unknown
    filters); a template that fails when filled with sample values."""
    check_docx(data, name)
    try:
        tpl = DocxTemplate(io.BytesIO(bytes(data)))
        texts = _template_texts(tpl)
    except Exception as exc:  # noqa: BLE001 - python-docx refuses a damaged package in many ways
        raise InputError([Problem(name, None, "(file)", f"not a readable Word document: {type(exc).__name__}: "
                                                        f"{quote(str(exc))}")]) from None
    env = _Sandbox()
    problems: list[Problem] = []
    unknown: set[str] = set()
    for part, text in texts:
        try:
            ast = env.parse(text)
        except TemplateError as exc:
            problems.append(Problem(name, None, part, f"not a valid template: {exc.message or exc} "
                                                      f"(check the {{{{ … }}}} and {{% … %}} marks)"))
            continue
        refused = _refused_constructs(ast, name, part)
        problems.extend(refused)
        try:
            unknown |= meta.find_undeclared_variables(ast) - PLACEHOLDERS
        except TemplateError as exc:   # the compiler's own refusal (an unknown filter or test), if not said above
            if not refused:
                problems.append(Problem(name, None, part, f"not a valid template: {exc.message or exc}"))
    for var in sorted(unknown):
        problems.append(Problem(name, None, var, f"unknown placeholder {quote(var)} (a template may use only: "
                                                 f"{', '.join(sorted(PLACEHOLDERS))})"))
    if problems:
        raise InputError(_unique(problems))
    try:
        _render(data, placeholders(_sample_fields()))
    except InputError as exc:
        raise InputError([replace(p, file=name) for p in exc.problems]) from None


def _refused_constructs(ast: nodes.Template, name: str, part: str) -> list[Problem]:
    out = []
    for node in ast.find_all(tuple(_REFUSED_NODES) + (nodes.Filter,)):
        if isinstance(node, nodes.Filter):
            if node.name not in ALLOWED_FILTERS:
                out.append(Problem(name, None, part, f"the filter |{node.name} is not allowed in a notice template "
                                                     f"(allowed: {', '.join(sorted(ALLOWED_FILTERS))})"))
            continue
        what = next(v for k, v in _REFUSED_NODES.items() if isinstance(node, k))
        out.append(Problem(name, None, part, f"{what} is not allowed in a notice template"))
    return out


def _unique(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


# --- filling ------------------------------------------------------------------------------------------------------

def _clean(value: Any) -> Any:
    """Text XML can hold: characters it cannot (NUL, other control characters but tab and line breaks) dropped,
    ``\\r\\n`` and ``\\r`` made line breaks; lists and dicts cleaned through."""
    if isinstance(value, str):
        return _NOT_XML.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def _context(fields: NoticeFields) -> dict[str, Any]:
    if fields.decision_code not in DECISION_CODES:
        raise ValueError(f"unknown decision code {fields.decision_code!r}")
    if fields.decision_code not in FEEDBACK_CODES and fields.feedback is not None:
        fields = replace(fields, feedback=None)   # feedback is for reserve / not adopted only (decisions.md §5)
    return _clean(placeholders(fields))


def _render(template: bytes, context: Mapping[str, Any]) -> bytes:
    try:
        tpl = DocxTemplate(io.BytesIO(bytes(template)))
        tpl.render(dict(context), jinja_env=_Sandbox(), autoescape=True)
        out = io.BytesIO()
        tpl.save(out)
    except (TemplateError, SecurityError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise InputError([Problem("template", None, "(fill)", f"the template cannot be filled: "
                                                              f"{type(exc).__name__}: {quote(str(exc), 300)}")]) \
            from None
    return out.getvalue()


def render_notice(fields: NoticeFields, template: bytes | None = None) -> bytes:
    """One notice as a ``.docx``: ``template`` (checked first; default: the shipped one of the decision) filled
    with the notice's placeholders."""
    if template is None:
        template = default_template(fields.decision_code)
    else:
        check_template(template, "template")
    return _render(template, _context(fields))


# --- files --------------------------------------------------------------------------------------------------------

_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def notice_file_name(proposal_id: str) -> str:
    """The file name stem of a proposal's notice: the id with characters no file name may hold replaced by
    ``_`` (and no leading dot), at most 120 characters."""
    stem = _UNSAFE_NAME.sub("_", proposal_id).strip().lstrip(".") or "_"
    return stem[:120]


def soffice_path() -> str | None:
    """LibreOffice's ``soffice`` when installed (PDF conversion), else None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def _timeout() -> int:
    try:
        value = int(os.environ.get("SHINSA_SOFFICE_TIMEOUT", ""))
    except ValueError:
        return SOFFICE_TIMEOUT
    return value if value > 0 else SOFFICE_TIMEOUT


def docx_to_pdf(docx: bytes, stem: str = "notice", *, work: Path | None = None) -> bytes:
    """``docx`` converted by ``soffice --headless --convert-to pdf`` (a fresh LibreOffice profile in ``work``,
    a temporary folder by default), stopped after ``SHINSA_SOFFICE_TIMEOUT`` seconds: :class:`NoticeError`
    when LibreOffice is missing, fails or times out."""
    soffice = soffice_path()
    if soffice is None:
        raise NoticeError("LibreOffice (soffice) is not installed: no PDF can be made")
    with tempfile.TemporaryDirectory(prefix="shinsa-pdf-") as tmp:
        base = Path(work) if work is not None else Path(tmp)
        src = Path(tmp) / f"{stem}.docx"
        src.write_bytes(docx)
        outdir = Path(tmp) / "out"
        outdir.mkdir()
        cmd = [soffice, "--headless", "--norestore", "--nologo", "--nolockcheck",
               f"-env:UserInstallation={(base / 'lo-profile').resolve().as_uri()}",
               "--convert-to", "pdf", "--outdir", str(outdir), str(src)]
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
        try:
            _, err = proc.communicate(timeout=_timeout())
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)   # soffice starts soffice.bin: stop the whole group it made
            proc.communicate()
            raise NoticeError(f"{stem}: the PDF conversion took over {_timeout()} s and was stopped "
                              "(SHINSA_SOFFICE_TIMEOUT)") from None
        pdf = outdir / f"{stem}.pdf"
        if proc.returncode != 0 or not pdf.is_file():
            raise NoticeError(f"{stem}: LibreOffice could not convert the notice to PDF "
                              f"(exit {proc.returncode}: {err.decode('utf-8', 'replace').strip()[:300]})")
        return pdf.read_bytes()


def write_notices(out_dir: Path, fields: Iterable[NoticeFields], templates: Mapping[str, bytes] | None = None,
                  pdf: bool = False) -> list[Path]:
    """``<proposal_id>.docx`` per notice in ``out_dir`` (made if missing) and ``notices.zip`` of them all; with
    ``pdf`` and LibreOffice installed a ``<proposal_id>.pdf`` beside each (also in the zip). ``templates``: the
    round's own template per decision code (others use the shipped default), each checked.

    Every notice is rendered (and converted) before anything is written: an :class:`InputError` (a template, a
    duplicate file name) or :class:`NoticeError` (PDF) leaves ``out_dir`` as it was. Returns the paths written,
    the zip last."""
    fields = list(fields)
    problems: list[Problem] = []
    chosen: dict[str, bytes] = {}
    for code, data in (templates or {}).items():
        if code not in DECISION_CODES:
            problems.append(Problem(f"template for {code}", None, "decision",
                                    f"unknown decision code {quote(code)} (one of {', '.join(DECISION_CODES)})"))
            continue
        try:
            check_template(data, f"template for {code}")
            chosen[code] = data
        except InputError as exc:
            problems.extend(exc.problems)
    stems: dict[str, str] = {}
    for f in fields:
        stem = notice_file_name(f.proposal_id)
        if stem.lower() in stems:
            problems.append(Problem(f.proposal_id, None, "proposal_id", f"the notice file {stem}.docx would also be "
                                    f"the one of {quote(stems[stem.lower()])}"))
        stems[stem.lower()] = f.proposal_id
    if problems:
        raise InputError(problems)

    files: list[tuple[str, bytes]] = []
    convert = pdf and soffice_path() is not None
    with tempfile.TemporaryDirectory(prefix="shinsa-notices-") as work:
        for f in fields:
            stem = notice_file_name(f.proposal_id)
            template = chosen.get(f.decision_code) or default_template(f.decision_code)
            docx = _render(template, _context(f))
            files.append((f"{stem}.docx", docx))
            if convert:
                files.append((f"{stem}.pdf", docx_to_pdf(docx, stem, work=Path(work))))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            z.writestr(name, data)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files + [("notices.zip", buf.getvalue())]:
        write_atomic(out_dir / name, data)
        written.append(out_dir / name)
    return written


def notice_mail(fields: NoticeFields) -> tuple[str, str, str]:
    """(subject, body, attachment file name) of the e-mail that carries a notice (its .docx attached)."""
    stem = notice_file_name(fields.proposal_id)
    subject = f"【地域社会DX推進パッケージ事業】選定結果の通知（提案番号 {fields.proposal_id}）"
    body = (f"{fields.applicant_name} 様\n\n"
            f"{fields.round_name + 'において' if fields.round_name.strip() else ''}御提出いただいた提案「{fields.title}」（提案番号 {fields.proposal_id}）の"
            "選定結果を、添付の通知書のとおりお知らせします。\n\n"
            f"添付ファイル：{stem}.docx\n\n"
            "本メールは送信専用です。お問い合わせは通知書に記載の発信者までお願いします。\n\n"
            f"{fields.sender}\n")
    return _clean(subject), _clean(body), f"{stem}.docx"
