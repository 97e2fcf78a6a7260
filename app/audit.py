"""The chair's view of the audit log (操作履歴): who changed what and when, as a table and a CSV.

A review line of a proposal the chair is conflicted with comes from the store without its content
(``AuditEntry.withheld``); its change column says so, in the table and in the CSV alike (docs/security/coi.md).

Pure helpers (no Streamlit calls): the admin page draws what :func:`audit_frame` returns. The log itself is the
store's append-only ``audit_log`` (docs/store.md); only a chair may read it (``AuditService.query``).
"""

from __future__ import annotations

import json
from typing import Any, Sequence

import pandas as pd

from scoring.io import csv_bytes
from scoring.store import SYSTEM, AuditEntry
from scoring.store.times import local_time

from .i18n import current_lang, t, t_or
from .session import programme_label

ACTIONS = ("review.save", "review.submit", "review.reopen", "assignment.add", "assignment.remove", "member.add",
           "conflict.add", "conflict.remove", "resolution.set", "resolution.remove", "round.create", "round.import",
           "round.deadline", "round.lock", "round.unlock", "user.add", "user.update", "user.password",
           "user.unlock", "user.lockout", "scenario.save", "stage.set", "shortlist.add", "shortlist.remove",
           "outbox.add", "outbox.send", "outbox.fail", "outbox.release", "timetable.set", "decision.set",
           "decision.clear", "decision.confirm", "decision.reopen", "notice.settings", "notice.template",
           "round.visibility", "discussion.post", "discussion.edit", "document.add", "document.read")
ENTITIES = ("review", "assignment", "conflict", "resolution", "round", "import", "scenario", "stage", "outbox", "decision",
            "notice", "discussion", "document", "user")
ROUND_ENTITIES = tuple(e for e in ENTITIES if e != "user")   # user lines have no round
COLUMNS = ("at", "actor", "action", "proposal", "subject", "change")
MAX_CHANGE = 300   # characters of the change summary shown per line (the CSV has the same text)


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """One level of nesting flattened to dotted keys: {"levels": {"a": 4}} → {"levels.a": 4}."""
    if not isinstance(value, dict):
        return {prefix or "value": value} if value is not None else {}
    out: dict[str, Any] = {}
    for k, v in value.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict) and not prefix:
            out.update(_flat(v, key))
        else:
            out[key] = v
    return out


# values that are ids: shown in the reader's words (issue 14 §10: "assigned: True; by: auto_assign")
VALUE_KEYS = {"by": "admin.audit.value.by.", "source": "coi.source.", "status": "admin.audit.value.status.",
              "stage": "admin.audit.value.stage.", "role": "auth.role.", "action": "admin.audit.value.action."}


def key_label(key: str, lang: str | None = None) -> str:
    """``levels.service_need`` → ``評価段階 service_need``: the first part in words, a sub-key (a criterion id,
    a pack id) as stored."""
    head, _, rest = key.partition(".")
    label = t_or(f"admin.audit.key.{head}", head, lang)
    return f"{label} {rest}" if rest else label


def _show(v: Any, key: str = "", lang: str | None = None) -> str:
    if v is None or v == "":
        return "—"
    if isinstance(v, bool):
        return t("common.yes", lang) if v else t("common.no", lang)
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    head = key.partition(".")[0]
    if head == "pack" and isinstance(v, str):
        return programme_label(v, lang)
    if head in VALUE_KEYS and isinstance(v, str):
        return t_or(VALUE_KEYS[head] + v, v, lang)
    return str(v)


def change_summary(before: Any, after: Any, lang: str | None = None) -> str:
    """What changed, one ``key: old → new`` per changed key (``key: new`` when there was nothing before), in a
    stable order, keys and id-like values in the reader's language (``lang``: that language, read once by the
    caller — reading it from the session state per key was a third of ラウンド管理's run, issue 15); long summaries
    are cut with ``…``."""
    b, a = _flat(before), _flat(after)
    parts = []
    for key in list(a) + [k for k in b if k not in a]:
        old, new = b.get(key), a.get(key)
        if old == new or key == "version":
            continue
        label = key_label(key, lang)
        parts.append(f"{label}: {_show(new, key, lang)}" if key not in b
                     else f"{label}: {_show(old, key, lang)} → {_show(new, key, lang)}")
    text = "; ".join(parts)
    return text if len(text) <= MAX_CHANGE else text[:MAX_CHANGE - 1] + "…"


def action_label(action: str, lang: str | None = None) -> str:
    return t(f"admin.audit.action.{action}", lang) if action in ACTIONS else action


def _withheld_summary(e: AuditEntry, withheld: str, lang: str | None = None) -> str:
    """A review line the reader is conflicted with: what is left (status) and that the content is withheld."""
    rest = change_summary(e.before, e.after, lang)
    return f"{rest}; {withheld}" if rest else withheld


def audit_frame(entries: Sequence[AuditEntry]) -> pd.DataFrame:
    """The log lines as the table shows them, newest first (as the store returns them)."""
    lang = current_lang()       # once, not per label (issue 15)
    system = t("admin.audit.system", lang)
    withheld = t("admin.audit.withheld", lang)
    rows = [[local_time(e.at, "%Y-%m-%d %H:%M:%S"), system if e.actor == SYSTEM.username else e.actor,
             action_label(e.action, lang), e.proposal_id or "", e.subject or "",
             _withheld_summary(e, withheld, lang) if e.withheld else change_summary(e.before, e.after, lang)]
            for e in entries]
    return pd.DataFrame(rows, columns=[t(f"admin.audit.col.{c}", lang) for c in COLUMNS])


def audit_csv(frame: pd.DataFrame) -> bytes:
    """The table as CSV (UTF-8 with BOM for Excel; text that would start a formula is guarded)."""
    return csv_bytes(list(frame.columns), frame.itertuples(index=False, name=None))
