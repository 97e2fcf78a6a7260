"""Comments saved as the reviewer types, down to the last keystroke before a reload (issue 14 item 5).

Streamlit sends a text field's value only when it loses focus (or on Ctrl+Enter in a text area): a comment
typed and then the tab reloaded or closed would be lost. :func:`commit_while_typing` installs one script per
browser tab that

1. commits a watched field (its ``on_change`` saves the draft) after ``idle_ms`` without typing, and at once
   when the page is hidden or left (``visibilitychange``/``pagehide``), by pressing (Ctrl+)Enter for the user —
   the field keeps focus and cursor. The commit on leaving is best effort: the browser may close the
   connection before the server has the value;
2. therefore also keeps every keystroke in the browser's ``localStorage`` at once (synchronous, survives a
   reload, a closed tab, a crash) as ``{base, text}`` under the user, the proposal and the field: ``base`` is
   the comment the server had when the typing began. When the page is drawn again, a kept text the server does
   not have yet is put back into its field and committed — only if the server still has ``base`` (a newer
   comment saved in another tab or on another computer is never overwritten by an old one). A kept text is
   dropped as soon as the server has it, when the server's comment changed elsewhere, and after a day.

What the server has is handed to the script on every run (:func:`commit_while_typing` ``saved``), JSON-escaped
so that no comment can end the script element.
"""

from __future__ import annotations

import json
from typing import Mapping

import streamlit as st

# Installed once per tab: the timers, the flush on leaving, the keeping in localStorage and the putting back.
_COMMIT_TYPING_JS = """<script>
(() => {
  if (window.__shinsaCommitTyping) return;
  window.__shinsaCommitTyping = true;
  const PREFIXES = %(prefixes)s, IDLE_MS = %(idle)d, KEEP_MS = 24 * 3600 * 1000, STORE = "shinsa:draft:";
  const timers = new Map();
  const keyOf = el => {
    if (!(el instanceof HTMLTextAreaElement || (el instanceof HTMLInputElement && el.type === "text"))) return null;
    const box = el.closest("[class*='st-key-']");
    const cls = box && [...box.classList].find(c => c.startsWith("st-key-"));
    const key = cls ? cls.slice(7) : null;
    return key && PREFIXES.some(p => key.startsWith(p)) ? key : null;
  };
  const fieldOf = key => document.querySelector(`.st-key-${CSS.escape(key)} textarea, ` +
                                                `.st-key-${CSS.escape(key)} input[type=text]`);
  const slot = (scope, key) => STORE + scope + "\\u001f" + key;
  const read = name => { try { return JSON.parse(localStorage.getItem(name)); } catch (e) { return null; } };
  const write = (name, v) => { try { localStorage.setItem(name, JSON.stringify(v)); } catch (e) {} };
  const drop = name => { try { localStorage.removeItem(name); } catch (e) {} };
  const commit = el => {
    timers.delete(el);
    if (!el.isConnected || el.disabled) return;
    el.dispatchEvent(new KeyboardEvent("keydown", {key: "Enter", code: "Enter", keyCode: 13, which: 13,
      ctrlKey: el instanceof HTMLTextAreaElement, bubbles: true, cancelable: true}));
  };
  document.addEventListener("input", e => {
    const el = e.target, key = keyOf(el);
    if (!key) return;
    const d = window.__shinsaDrafts;
    if (d && key in d.saved) write(slot(d.scope, key), {base: d.saved[key], text: el.value, at: Date.now()});
    clearTimeout(timers.get(el));
    timers.set(el, setTimeout(() => commit(el), IDLE_MS));
  }, true);
  const flush = () => { for (const [el, id] of [...timers]) { clearTimeout(id); commit(el); } };
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") flush(); });
  window.addEventListener("pagehide", flush);
  const setValue = (el, text) => {
    const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
    Object.getOwnPropertyDescriptor(proto, "value").set.call(el, text);
    el.dispatchEvent(new Event("input", {bubbles: true}));
  };
  window.__shinsaReconcile = () => {     // returns how many kept texts wait for their field to be drawn
    const d = window.__shinsaDrafts;
    let waiting = 0;
    if (!d) return waiting;
    for (const [key, saved] of Object.entries(d.saved)) {
      const name = slot(d.scope, key), kept = read(name);
      if (kept === null) continue;
      if (typeof kept !== "object" || kept.text === saved || !(Date.now() - kept.at < KEEP_MS)) { drop(name); continue; }
      const el = fieldOf(key);
      if (!el) { waiting++; continue; }                                   // not drawn yet: the next try
      if (el.disabled) continue;                                          // read-only (submitted, locked)
      if (el.value === kept.text) { write(name, {...kept, base: saved}); continue; }   // typed here, being saved
      if (el.value === saved && kept.base === saved) {                    // a reload lost it: put it back, save
        setValue(el, kept.text);
        setTimeout(() => commit(el), 100);
        continue;
      }
      drop(name);                                                         // changed elsewhere since: theirs wins
    }
    return waiting;
  };
})();
</script>"""

# On every run: what the server has for this user's proposal, then the putting back of what it lacks.
_SAVED_JS = """<script>
window.__shinsaDrafts = {scope: %(scope)s, saved: %(saved)s};
(() => {     // after a reload the fields may be drawn after this script: try again for up to 30 s
  let tries = 0;
  const go = () => { if (window.__shinsaReconcile && window.__shinsaReconcile() > 0 && ++tries < 60) setTimeout(go, 500); };
  go();
})();
</script>"""


def _js(value) -> str:
    """A JSON value safe inside a script element (no ``</script>``, no HTML comment, no line separators)."""
    return (json.dumps(value, ensure_ascii=True).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"))


def commit_while_typing(*key_prefixes: str, scope: str | None = None, saved: Mapping[str, str] | None = None,
                        idle_ms: int = 800) -> None:
    """Have the text fields whose key starts with one of ``key_prefixes`` committed (on_change runs) after
    ``idle_ms`` without typing and when the page is hidden or left. With ``scope`` (the user and the proposal)
    and ``saved`` (field key → the text the server has), every keystroke is also kept in the browser until the
    server has it, and put back after a reload that lost it."""
    st.html(_COMMIT_TYPING_JS % {"prefixes": json.dumps(list(key_prefixes)), "idle": int(idle_ms)},
            unsafe_allow_javascript=True)
    if scope is not None and saved is not None:
        st.html(_SAVED_JS % {"scope": _js(scope), "saved": _js(dict(saved))}, unsafe_allow_javascript=True)
