"""A proposal's documents in the app (issue 16 item 3; docs/app.md "Documents", docs/security/documents.md).

- :func:`beside_documents` — on 評価入力 and the chair's detail page: the 提案書 in the PDF viewer in a left column
  and the page's own content (summary, score form) in the right one. Streamlit stacks columns on a narrow screen
  (below 640 px), so there the 提案書 comes above the form. Attachments are download buttons under the viewer.
- :func:`upload_section` — ラウンド管理: several files or one zip, all or nothing (``store.documents``).

Access is the store's: every run lists the proposal's documents through ``store.documents.list_documents`` (the
proposal's own rule: a conflicted or unassigned reviewer, a conflicted chair, is refused) before any byte is
shown. The bytes are cached by SHA-256 (``st.cache_data``), so a rerun or a second reviewer of the same 提案書
does not read 20 MB from the database again; the first view in a session is logged (``document.read``).

The viewer is the component behind ``st.pdf`` (``streamlit-pdf``, installed as ``streamlit[pdf]``), given the PDF
as a ``data:`` URI over the session's own connection. ``st.pdf(bytes)`` would instead put the PDF in Streamlit's
media store behind a ``/media/<hash>.pdf`` URL that Streamlit serves to any browser, logged in or not, while any
session shows it — a URL copied from an allowed reviewer's page would open for a conflicted one.
"""

from __future__ import annotations

import base64
from contextlib import contextmanager
from typing import Iterator

import streamlit as st

from scoring.errors import InputError
from scoring.io.documents import max_file_bytes
from scoring.store import ConflictOfInterest, NotFound, PermissionDenied, StoreError

from .i18n import t
from .session import error_text, get_store

SEEN = "docs_seen"           # document ids this session has opened (their first view is logged)
VIEWER_HEIGHT = 900
URI_CACHE_ENTRIES = 8        # data: URIs kept per server process (a 50 MB PDF is a 67 MB URI)


def size_text(n: int) -> str:
    return f"{n / 1024 / 1024:,.1f} MB" if n >= 1024 * 1024 else f"{max(n // 1024, 1):,} KB"


# The viewer draws a page at 72 dpi — an A4 page is 595 px wide, with 16 px either side — and takes no option for
# its scale; its column is narrower on most screens (about 360 px at 1,280 px wide with the sidebar), so the page
# was cut on the right. Once per viewer drawn, when its first page has loaded, this script presses the viewer's
# own "Zoom Out" button (steps of 25 %, down to 50 %) until the page fits the viewer's width; the viewer lays its
# pages out again itself, and its +/- buttons go on from there. Installed once per tab; the viewer is drawn in
# an open shadow root (Streamlit's components v2), which the script enters.
_FIT_JS = """<script>
(() => {
  if (window.__shinsaPdfFit) return;
  window.__shinsaPdfFit = true;
  const done = new WeakSet(), MARGIN = 32, STEP = 0.25, MIN = 0.5;
  const fit = () => {
    for (const host of document.querySelectorAll("[data-testid='stBidiComponentIsolated']")) {
      const root = host.shadowRoot, content = root && root.querySelector("[data-testid='pdf-content']");
      if (!content || done.has(content)) continue;
      const canvas = content.querySelector("[data-index='0'] canvas");
      const out = root.querySelector("button[title='Zoom Out']");
      if (!canvas || !out || !canvas.getBoundingClientRect().width) continue;     // not loaded yet
      done.add(content);
      const width = canvas.getBoundingClientRect().width, room = content.clientWidth - MARGIN;
      let scale = 1;
      while (scale - STEP >= MIN - 1e-9 && width * scale > room) { scale -= STEP; out.click(); }
    }
  };
  setInterval(fit, 300);
})();
</script>"""


@st.cache_resource(max_entries=URI_CACHE_ENTRIES, show_spinner=False)
def _pdf_uri(sha256: str, _load) -> str:
    """The PDF as a ``data:`` URI, cached by its SHA-256 (the same bytes whoever asked; access is checked first).

    ``cache_resource``: a hit is the cached string itself (``cache_data`` would unpickle a copy of up to 67 MB
    on every run); a string cannot be changed by the page that got it."""
    return "data:application/pdf;base64," + base64.b64encode(_load()).decode("ascii")


def _listed(me, rid: int, pid: str):
    try:
        return get_store().documents.list_documents(me, rid, pid)
    except (PermissionDenied, ConflictOfInterest, NotFound):
        return None


def _open(me, rid: int, pid: str, doc) -> bytes:
    """The document's bytes for ``me`` (checked again by the store); the session's first view is logged."""
    return get_store().documents.read(me, rid, pid, doc.id)


def show_pdf(me, rid: int, pid: str, doc, key: str) -> None:
    seen = st.session_state.setdefault(SEEN, set())
    if doc.id not in seen:                      # the first view in this session: read (checked, logged)
        data = _open(me, rid, pid, doc)
        seen.add(doc.id)
        uri = _pdf_uri(doc.sha256, lambda: data)
    else:                                       # a rerun: the cache, after this run's access check
        uri = _pdf_uri(doc.sha256, lambda: _open(me, rid, pid, doc))
    from streamlit_pdf import pdf_viewer        # the component st.pdf uses (streamlit[pdf])

    st.caption(t("documents.viewer.caption", file=doc.file_name, pages=doc.pages or "?", size=size_text(doc.size)))
    st.html(_FIT_JS, unsafe_allow_javascript=True)      # the page fits the column (see _FIT_JS)
    pdf_viewer(uri, height=VIEWER_HEIGHT, key=key)


def attachments(me, rid: int, pid: str, docs, key: str) -> None:
    if not docs:
        return
    st.markdown("**" + t("documents.attachments") + "**")
    for d in docs:
        st.download_button(t("documents.download", kind=t(f"documents.kind.{d.kind}"), file=d.file_name,
                             size=size_text(d.size)),
                           data=lambda d=d: _open(me, rid, pid, d),   # read (checked, logged) only on a click
                           file_name=d.file_name, mime=d.content_type, key=f"{key}_dl_{d.id}", on_click="ignore",
                           icon=":material/download:")


@contextmanager
def beside_documents(me, rid: int, pid: str, key: str = "doc") -> Iterator[None]:
    """The proposal's 提案書 (and attachments) in a column left of what the ``with`` block shows; without
    documents (or without access to them) the block is shown as it would be without this."""
    docs = _listed(me, rid, pid)
    if not docs:
        if docs is not None:
            st.caption(t("documents.none"))
        yield
        return
    main = next((d for d in docs if d.kind == "proposal" and d.content_type == "application/pdf"), None)
    rest = [d for d in docs if d is not main]
    left, right = st.columns([5, 6], gap="medium")
    with left:
        st.subheader(t("documents.heading"))
        if main is None:
            st.caption(t("documents.none"))
        else:
            show_pdf(me, rid, pid, main, f"{key}_pdf")
        attachments(me, rid, pid, rest, key)
    with right:
        yield


def upload_section(me, rnd) -> None:
    """ラウンド管理: add documents (several files or one zip), all or nothing."""
    with st.expander(t("documents.upload.heading"), icon=":material/picture_as_pdf:"):
        st.caption(t("documents.upload.help", max=size_text(max_file_bytes())))
        try:
            n = len(get_store().documents.counts(me, rnd.id))
        except StoreError:
            n = 0
        st.caption(t("documents.upload.count", n=n))
        files = st.file_uploader(t("documents.upload.files"), type=["pdf", "xlsx", "docx", "png", "jpg", "jpeg", "zip"],
                                 accept_multiple_files=True, key="adm_docs_files")
        if st.button(t("documents.upload.button"), key="adm_docs_run", type="primary", disabled=not files):
            try:
                added = get_store().documents.add_documents(me, rnd.id, [(f.name, f.getvalue()) for f in files],
                                                            name="upload")
            except InputError as exc:
                st.error(t("documents.upload.refused") + "\n\n" + "\n".join(f"- {p}" for p in exc.problems))
                return
            except StoreError as exc:
                st.error(error_text(exc))
                return
            st.success(t("documents.upload.done", n=len(added)))


def documents_section(me, rid: int, pid: str, key: str = "chair_doc") -> None:
    """The chair's detail page: the 提案書 in the viewer and the attachments, below the page's sections."""
    docs = _listed(me, rid, pid)
    if docs is None:
        return
    st.subheader(t("documents.heading"))
    main = next((d for d in docs if d.kind == "proposal" and d.content_type == "application/pdf"), None)
    if main is None:
        st.caption(t("documents.none"))
    else:
        show_pdf(me, rid, pid, main, f"{key}_pdf")
    attachments(me, rid, pid, [d for d in docs if d is not main], key)
