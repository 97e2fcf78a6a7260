"""Which pages exist and which role sees which — the one place to register a page.

To add a page: write ``app/pages/<name>.py`` (a script; keep logic in ``scoring/`` and the store), add a
:class:`PageSpec` to ``PAGES`` and its id to the roles in ``ROLE_PAGES``, and add its title key to
``app/messages/nav.yaml``. ``st.navigation`` only ever receives the pages of the current role as pages, so
a page a role may not see is not reachable, by menu or by URL. Its address answers with a hidden stand-in
instead of Streamlit's English "Page not found": for a logged-in user ``app/pages/not_available.py`` (the
page is not available to this role, in the user's language), for a visitor the login form (after logging in,
the same address opens the page if the role has it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from .i18n import t

ROOT = Path(__file__).resolve().parent.parent  # where review_app.py lives; page paths are relative to it

ANONYMOUS = None
ELSEWHERE = "nav_elsewhere"    # session key: the id of the page of another role whose address was opened
NOT_AVAILABLE = "app/pages/not_available.py"


@dataclass(frozen=True)
class PageSpec:
    id: str
    path: str          # script, relative to review_app.py
    title_key: str     # message key (app/messages/nav.yaml)
    url_path: str      # stable URL segment
    icon: str = ""
    section_key: str | None = None  # optional group in the menu (message key)


PAGES: dict[str, PageSpec] = {p.id: p for p in (
    PageSpec("login", "app/pages/login.py", "nav.login", "login", ":material/login:"),
    PageSpec("dry_run", "app/pages/dry_run.py", "nav.dry_run", "self_check", ":material/fact_check:"),
    # issue 4: reviewers score, chairs select
    PageSpec("reviewer_home", "app/pages/reviewer_home.py", "reviewer.nav.home", "my_proposals",
             ":material/assignment:", "reviewer.nav.section"),
    PageSpec("reviewer_scoring", "app/pages/reviewer_scoring.py", "reviewer.nav.scoring", "review",
             ":material/rate_review:", "reviewer.nav.section"),
    PageSpec("chair_ranking", "app/pages/chair_ranking.py", "chair.nav.ranking", "ranking",
             ":material/leaderboard:", "chair.nav.section"),
    PageSpec("chair_progress", "app/pages/chair_progress.py", "chair.nav.progress", "progress",
             ":material/grid_view:", "chair.nav.section"),
    PageSpec("chair_stage", "app/pages/chair_stage.py", "chair.nav.stage", "stages",
             ":material/checklist:", "chair.nav.section"),
    PageSpec("chair_proposal", "app/pages/chair_proposal.py", "chair.nav.proposal", "proposal",
             ":material/description:", "chair.nav.section"),
    PageSpec("chair_timetable", "app/pages/chair_timetable.py", "nav.chair_timetable", "hearing_timetable",
             ":material/event_note:", "chair.nav.section"),
    PageSpec("chair_decisions", "app/pages/chair_decisions.py", "nav.chair_decisions", "decisions",
             ":material/gavel:", "chair.nav.section"),
    PageSpec("admin_round", "app/pages/admin_round.py", "admin.nav.round", "admin",
             ":material/settings:", "admin.nav.section"),
    PageSpec("account", "app/pages/account.py", "account.nav.page", "account", ":material/key:",
             "account.nav.section"),
)}

# role → page ids in menu order; the first is the role's default page. None = not logged in.
ROLE_PAGES: dict[str | None, list[str]] = {
    ANONYMOUS: ["login", "dry_run"],
    "reviewer": ["reviewer_home", "reviewer_scoring", "dry_run", "account"],
    "chair": ["chair_ranking", "chair_stage", "chair_progress", "chair_proposal", "chair_timetable", "chair_decisions",
              "admin_round", "reviewer_home", "reviewer_scoring", "dry_run", "account"],
    "secretariat": ["chair_progress", "chair_stage", "chair_decisions", "admin_round", "dry_run", "account"],
    "admin": ["dry_run"],
}


# a page's menu section when a role's menu groups it differently (issue 14 §13: the secretariat's 進捗 is not
# the chair's; it sits with ラウンド管理 under 「管理」)
ROLE_SECTIONS: dict[str | None, dict[str, str]] = {
    "secretariat": {"chair_progress": "admin.nav.section", "chair_stage": "admin.nav.section",
                    "chair_decisions": "admin.nav.section"},
}


def section_key(role: str | None, page_id: str) -> str | None:
    """The message key of the menu section page ``page_id`` is listed under for ``role``."""
    return ROLE_SECTIONS.get(role, {}).get(page_id, PAGES[page_id].section_key)


def page_ids_for(role: str | None) -> list[str]:
    """The pages a role may see; an unknown role sees what an anonymous visitor sees."""
    return list(ROLE_PAGES.get(role, ROLE_PAGES[ANONYMOUS]))


def build_navigation(role: str | None):
    """``st.navigation`` over exactly the role's pages (grouped by section when sections are set)."""
    specs = [PAGES[pid] for pid in page_ids_for(role)]
    # Streamlit serves the default page at "/" only: its own URL (a bookmarked /ranking, say) would answer
    # "Page not found". So the default page gets an internal path and a hidden twin keeps the public one.
    pages = [st.Page(str(ROOT / s.path), title=t(s.title_key), url_path=f"home-{s.url_path}" if i == 0 else s.url_path,
                     icon=s.icon or None, default=(i == 0)) for i, s in enumerate(specs)]
    twin = st.Page(str(ROOT / specs[0].path), title=t(specs[0].title_key), url_path=specs[0].url_path,
                   icon=specs[0].icon or None, visibility="hidden")
    sections = [section_key(role, s.id) for s in specs]
    stand_ins = _stand_ins(role, specs)
    hidden = [twin, *stand_ins.values()]
    if any(sections):
        grouped: dict[str, list] = {}
        for sec, page in zip(sections, pages):
            grouped.setdefault(t(sec) if sec else "", []).append(page)
        grouped.setdefault(t(sections[0]) if sections[0] else "", []).extend(hidden)
        current = st.navigation(grouped)
    else:
        current = st.navigation(pages + hidden)
    wanted = next((pid for pid, page in stand_ins.items() if page.url_path == current.url_path), None)
    if wanted is None or (role is not ANONYMOUS and wanted == "login"):   # /login when logged in: the first page
        st.session_state.pop(ELSEWHERE, None)
    else:
        st.session_state[ELSEWHERE] = wanted
    return current


def _stand_ins(role: str | None, specs: list[PageSpec]) -> dict:
    """page id → a hidden page answering the address of every page this role does not have: the login form
    for a visitor, else the 'not available to this role' page (the login address opens the role's first page)."""
    have = {s.id for s in specs}
    out = {}
    for pid, spec in PAGES.items():
        if pid in have:
            continue
        if role is ANONYMOUS:
            script = PAGES["login"].path
        else:
            script = specs[0].path if pid == "login" else NOT_AVAILABLE
        out[pid] = st.Page(str(ROOT / script), title=t(spec.title_key), url_path=spec.url_path,
                           icon=spec.icon or None, visibility="hidden")
    return out


def elsewhere_title() -> str | None:
    """The title of the page of another role whose address this run answers, if any."""
    pid = st.session_state.get(ELSEWHERE)
    return t(PAGES[pid].title_key) if pid in PAGES else None
