"""Which pages exist and which role sees which — the one place to register a page.

To add a page: write ``app/pages/<name>.py`` (a script; keep logic in ``scoring/`` and the store), add a
:class:`PageSpec` to ``PAGES`` and its id to the roles in ``ROLE_PAGES``, and add its title key to
``app/messages/nav.yaml``. ``st.navigation`` only ever receives the pages of the current role, so a page
a role may not see is not reachable, by menu or by URL (Streamlit falls back to the role's default page).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from .i18n import t

ROOT = Path(__file__).resolve().parent.parent  # where review_app.py lives; page paths are relative to it

ANONYMOUS = None


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
    "chair": ["chair_ranking", "chair_progress", "chair_proposal", "chair_timetable", "chair_decisions", "admin_round", "reviewer_home",
              "reviewer_scoring", "dry_run", "account"],
    "secretariat": ["chair_progress", "chair_decisions", "admin_round", "dry_run", "account"],
    "admin": ["dry_run"],
}


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
    if any(s.section_key for s in specs):
        grouped: dict[str, list] = {}
        for s, page in zip(specs, pages):
            grouped.setdefault(t(s.section_key) if s.section_key else "", []).append(page)
        grouped.setdefault(t(specs[0].section_key) if specs[0].section_key else "", []).append(twin)
        return st.navigation(grouped)
    return st.navigation(pages + [twin])
