"""Reminder texts (督促文面) for reviewers with reviews still to submit: plain text the secretariat copies into an
e-mail. Pure: the progress page passes what it already shows (names, proposal ids and titles, the deadline)."""

from __future__ import annotations

from datetime import date
from typing import Sequence

from .i18n import t


def reminder_text(name: str, round_name: str, deadline: date | None, items: Sequence[tuple[str, str, str]]) -> str:
    """One reviewer's reminder: greeting, the round, the deadline (or none), then one line per proposal
    ``(id, title, status label)``, and the closing line — in the current language."""
    lines = [t("chair.reminder.greeting", name=name), "",
             t("chair.reminder.body", round=round_name, n=len(items))]
    if deadline is not None:
        lines.append(t("chair.reminder.deadline", date=f"{deadline:%Y-%m-%d}"))
    lines.append("")
    lines += [f"- {pid}　{title}（{status}）" for pid, title, status in items]
    lines += ["", t("chair.reminder.closing")]
    return "\n".join(lines)
