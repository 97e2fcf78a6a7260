"""The panel's discussion (委員間の議論, issue 16 §7–9): the pure rules — which review-visibility policy holds, whether
a reviewer sees the others' reviews and the thread, and the criteria a comment mentions.

No I/O: the store (:mod:`scoring.store.discussion`) applies these rules to what it reads.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from .models import DEFAULT_REVIEW_VISIBILITY, ReviewVisibility

MAX_COMMENT_CHARS = 5000
"""The longest comment the thread takes."""

_MENTION = re.compile(r"#([A-Za-z0-9_][A-Za-z0-9_\-]*)")


def effective_visibility(round_setting: str | None, pack_setting: str | None) -> ReviewVisibility:
    """The policy in force for a proposal: the round's setting, else its pack's ``review_visibility``, else
    :data:`~scoring.models.DEFAULT_REVIEW_VISIBILITY` (``after_own_submit``)."""
    for value in (round_setting, pack_setting):
        if value:
            return ReviewVisibility(value)
    return DEFAULT_REVIEW_VISIBILITY


def sees_others(policy: ReviewVisibility | str, own_submitted: bool) -> bool:
    """Whether a reviewer (not a chair) sees the other reviewers' scores and comments and the committee's
    comments of the thread under ``policy``, given whether their own review of the proposal is submitted."""
    policy = ReviewVisibility(policy)
    if policy == ReviewVisibility.always:
        return True
    if policy == ReviewVisibility.after_own_submit:
        return bool(own_submitted)
    return False


def mentioned_criteria(text: str, criterion_ids: Sequence[str]) -> list[str]:
    """The criteria a comment mentions as ``#criterion_id`` (known ids only, in order of first mention)."""
    known = set(criterion_ids)
    out: list[str] = []
    for m in _MENTION.finditer(text or ""):
        cid = m.group(1)
        if cid in known and cid not in out:
            out.append(cid)
    return out


def merge_mentions(picked: Iterable[str], text: str, criterion_ids: Sequence[str]) -> list[str]:
    """The criteria picked for a comment followed by those its text mentions, each once, in the pack's order."""
    chosen = set(picked) | set(mentioned_criteria(text, criterion_ids))
    return [c for c in criterion_ids if c in chosen]


def with_labels(text: str, labels: dict[str, str]) -> str:
    """The comment's text with each ``#criterion_id`` shown as ``#label`` (unknown ``#words`` unchanged)."""
    return _MENTION.sub(lambda m: f"#{labels[m.group(1)]}" if m.group(1) in labels else m.group(0), text or "")
