"""Benchmark of the 提案書 viewer (issue 16): opening a proposal on 評価入力 with a 20 MB PDF vs the same proposal
without any document, in the app's own script (Streamlit AppTest, SQLite demo database). Prints a table, then one
JSON line (the last line).

    python bench/documents.py [--mb 20] [--runs 5]

"open" is a new session opening the proposal (the store's access check, the bytes read from the database once
per session and logged, the data: URI built or taken from the cache by SHA-256); "rerun" is the run a level
click asks for: the browser asks Streamlit to rerun the fragment the radio is drawn in (the score form,
``app/pages/reviewer_scoring.py``), or the whole page when the radio is in no fragment. AppTest always reruns
the whole page, so the bench asks for the fragment itself, as the browser does (``fragment_id`` of the rerun
request; the page's only fragment). A page that shows no document never reads one, so other pages do not change.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SHINSA_BCRYPT_ROUNDS", "4")
os.environ.setdefault("SHINSA_SQLITE_SYNCHRONOUS", "NORMAL")

PID = "L4-003"


def big_pdf(mb: int) -> bytes:
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(595, 842)
    w.add_attachment("scan.bin", os.urandom(mb * 1024 * 1024))   # incompressible: a scanned proposal's size
    b = io.BytesIO()
    w.write(b)
    return b.getvalue()


def click_run(at, element) -> None:
    """Run ``at`` after a widget change as the browser would: a rerun of the page's fragment if it has one (the
    score form), else of the whole page."""
    from streamlit.testing.v1 import local_script_runner

    fragments = list(at._fragment_storage._fragments)
    if not fragments:
        element.run()
        return
    assert len(fragments) == 1, fragments
    plain = local_script_runner.RerunData
    local_script_runner.RerunData = functools.partial(plain, fragment_id=fragments[0])
    try:
        element.run()
    finally:
        local_script_runner.RerunData = plain


SENT: list[int] = []   # bytes of the messages each AppTest run sent (what the server would send the browser)


def count_sent() -> None:
    """Record, for every AppTest run, the size of the messages it put on the way to the browser."""
    from streamlit.runtime.scriptrunner import ScriptRunnerEvent
    from streamlit.testing.v1 import local_script_runner

    plain = local_script_runner.LocalScriptRunner.run

    def run(self, *args, **kwargs):
        try:
            return plain(self, *args, **kwargs)
        finally:
            SENT.append(sum(d["forward_msg"].ByteSize() for e, d in zip(self.events, self.event_data)
                            if e == ScriptRunnerEvent.ENQUEUE_FORWARD_MSG))

    local_script_runner.LocalScriptRunner.run = run


def measure(runs: int) -> tuple[list[float], list[float], list[int]]:
    from streamlit.testing.v1 import AppTest

    from app import session
    from app.auth import User

    opens, reruns, sent = [], [], []
    for _ in range(runs):
        session.reset_store()
        at = AppTest.from_file(str(ROOT / "review_app.py"), default_timeout=300)
        at.session_state["auth_user"] = User(username="R01", display_name="R01", role="reviewer", reviewer_id="R01")
        at.query_params["round"] = "1"
        at.query_params["proposal"] = PID
        at.run()
        t0 = time.perf_counter()
        at.switch_page("app/pages/reviewer_scoring.py")
        at.run()
        opens.append(time.perf_counter() - t0)
        assert not at.exception, [e.value for e in at.exception]
        radio = at.radio(key="rv_level_service_need").set_value(3)
        t0 = time.perf_counter()
        click_run(at, radio)
        reruns.append(time.perf_counter() - t0)
        sent.append(SENT[-1])
        assert not at.exception, [e.value for e in at.exception]
        assert at.radio(key="rv_level_service_need").value == 3
    return opens, reruns, sent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=20)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="shinsa-bench-docs-") as tmp:
        os.environ["SHINSA_DATA_DIR"] = tmp
        os.environ["SHINSA_DOC_MAX_MB"] = str(args.mb + 5)
        from sqlalchemy import delete, select

        from app.demo import seed_demo
        from scoring.store import SYSTEM, Store
        from scoring.store.schema import ProposalDocument, ProposalRow

        count_sent()
        store = Store(create=True)
        seed_demo(store)
        with store.db.write() as s:   # the proposal without any document
            pk = s.scalar(select(ProposalRow.id).where(ProposalRow.proposal_id == PID))
            s.execute(delete(ProposalDocument).where(ProposalDocument.proposal_pk == pk))
        without = measure(args.runs)
        data = big_pdf(args.mb)
        store.documents.add_documents(SYSTEM, 1, [(f"{PID}_提案書.pdf", data)])
        with_pdf = measure(args.runs)
        store.close()
    med = {k: statistics.median(v) for k, v in (("open_without", without[0]), ("rerun_without", without[1]),
                                                 ("open_with", with_pdf[0]), ("rerun_with", with_pdf[1]))}
    size = len(data) / 1024 / 1024
    mb = {k: statistics.median(v[2]) / 1024 / 1024 for k, v in (("without", without), ("with", with_pdf))}
    print(f"{'':28}{'without':>10}{f'with {size:.0f} MB PDF':>18}{'ratio':>8}")
    for k in ("open", "rerun"):
        a, b = med[f"{k}_without"], med[f"{k}_with"]
        print(f"{k + ' (median s, n=' + str(args.runs) + ')':28}{a:>10.3f}{b:>18.3f}{b / a:>8.2f}")
    print(f"{'sent by a level click (MB)':28}{mb['without']:>10.3f}{mb['with']:>18.3f}")
    print(json.dumps({"pdf_mb": round(size, 1), "runs": args.runs, **{k: round(v, 4) for k, v in med.items()},
                      "click_sent_mb_without": round(mb["without"], 3), "click_sent_mb_with": round(mb["with"], 3),
                      "ratio_open": round(med["open_with"] / med["open_without"], 2),
                      "ratio_rerun": round(med["rerun_with"] / med["rerun_without"], 2)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
