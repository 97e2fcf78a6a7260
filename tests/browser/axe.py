"""axe-core (Deque's accessibility engine, the npm package) run inside a Playwright page (issue 19).

``scripts/install-test-deps.sh`` installs the pinned ``axe-core`` with npm into ``.cache/axe``; nothing of it is
vendored and no rule is written here. :func:`violations` injects it once per document and runs the WCAG 2.1
level A and AA rules (tags ``wcag2a``, ``wcag2aa``, ``wcag21a``, ``wcag21aa``) on the whole document.

``STREAMLIT_KNOWN`` is the exact list of violations that come from Streamlit's own markup, which no theme or
option of ours changes (docs/app.md, Accessibility): a violation is allowed only if its rule id is listed and the
failing element matches the listed CSS selector. Anything else fails the test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE_VERSION = "4.14.1"   # the version scripts/install-test-deps.sh installs
AXE_JS = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@dataclass(frozen=True)
class Known:
    rule: str          # axe rule id
    selector: str      # CSS selector every failing element must match
    upstream: str      # where Streamlit tracks it (or why it is Streamlit's)


# Streamlit >= 1.36 draws the sections of st.navigation as <div>s (a header and the section's <li>s) directly
# inside the menu's <ul> (frontend/app/src/components/Navigation/NavSection.tsx): the <ul> holds non-<li>
# children and those <li>s have no list parent (SC 1.3.1).
STREAMLIT_KNOWN: tuple[Known, ...] = (
    Known("list", "nav[data-testid='stSidebarNav'] ul[data-testid='stSidebarNavItems']",
          "Streamlit NavSection markup (no upstream issue found; see docs/app.md)"),
    Known("listitem", "nav[data-testid='stSidebarNav'] ul[data-testid='stSidebarNavItems'] > div > li",
          "Streamlit NavSection markup (no upstream issue found; see docs/app.md)"),
    Known("scrollable-region-focusable", "[data-testid='pdf-content']",
          "streamlit-pdf 2.1.0 (Streamlit's st.pdf component): its page area scrolls inside a shadow root with no "
          "focusable element; no upstream issue found; see docs/app.md"),
)

_RUN = """async ([tags, known]) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations'],
                                          elementRef: true});
  const out = [];
  for (const v of result.violations) {
    for (const n of v.nodes) {
      const k = known.findIndex(([rule, sel]) => rule === v.id && n.element && n.element.matches(sel));
      out.push({rule: v.id, impact: v.impact, help: v.help, target: JSON.stringify(n.target),
                html: n.html.slice(0, 200), summary: n.failureSummary, known: k});
    }
  }
  return out;
}"""


def ensure_axe() -> str:
    if not AXE_JS.exists():
        pytest.fail(f"axe-core {AXE_VERSION} is required: {AXE_JS} not found (bash scripts/install-test-deps.sh)")
    return AXE_JS.read_text("utf-8")


def violations(page, known: tuple[Known, ...] = STREAMLIT_KNOWN) -> tuple[list[dict], set[int]]:
    """The WCAG 2.1 A/AA violations on the page now, one entry per failing element, and the indexes of the
    ``known`` entries that matched (those are left out of the first list)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=ensure_axe())
    found = page.evaluate(_RUN, [WCAG_21_AA, [[k.rule, k.selector] for k in known]])
    return [f for f in found if f["known"] < 0], {f["known"] for f in found if f["known"] >= 0}


def describe(found: list[dict]) -> str:
    return "\n".join(f"  {f['rule']} ({f['impact']}): {f['help']}\n    at {f['target']}: {f['html']}\n"
                     f"    {f['summary']}".replace("\n    Fix", " Fix") for f in found)
