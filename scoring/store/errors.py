"""The store's errors. All subclass :class:`scoring.errors.ShinsaError`, so the CLI prints them as "error: …" with
exit code 2. Input problems (import files, a level not on the scale, …) raise :class:`scoring.errors.InputError`
with Problem lines instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Sequence

from ..errors import InputError, Problem, ShinsaError

if TYPE_CHECKING:  # annotations only
    from .values import ResolutionInfo, ReviewContent


class StoreError(ShinsaError):
    """Base of the store's errors."""


class PermissionDenied(StoreError):
    """The acting user may not do this (wrong role, not assigned, conflicted, not their review, inactive)."""


class NotFound(StoreError):
    """No such round, proposal, user, review or assignment."""


class Duplicate(StoreError):
    """Something that must be unique already exists (a round name, a username, an external identity)."""


class StaleReview(StoreError):
    """A save was based on an old version: someone (another tab, another session) saved since.

    The newer content is kept untouched; ``current`` holds it (a :class:`ReviewContent`) so the app can show
    it. ``str(exc)`` is "this review was changed elsewhere at HH:MM" (local time, SHINSA_TZ, default Asia/Tokyo).
    """

    def __init__(self, message: str, current: ReviewContent | None = None):
        super().__init__(message)
        self.current = current


class StaleResolution(StoreError):
    """A needs_check resolution changed since the chair's page showed it (another chair, another tab): nothing is
    written; ``current`` is the resolution now stored (a :class:`ResolutionInfo`, or None when there is none)."""

    def __init__(self, message: str, current: ResolutionInfo | None = None):
        super().__init__(message)
        self.current = current


class ReviewLocked(StoreError):
    """The review may not change. ``reason`` says why, for a message in the user's language: ``submitted`` (only
    the chair can reopen it), ``stage_over`` (the programme's document stage is over: document reviews are
    read-only), ``not_hearing`` (the programme is not in its hearing stage), ``not_shortlisted`` (the proposal is
    not on the fixed hearing shortlist), ``saved`` (a review is saved: the assignment stays)."""

    def __init__(self, message: str, reason: str = "submitted"):
        super().__init__(message)
        self.reason = reason


class RoundLocked(StoreError):
    """The round is locked: no review, assignment, conflict or resolution may change."""


class IncompleteReview(StoreError):
    """Submit refused: some criteria have no level. ``missing`` lists their ids (pack order)."""

    def __init__(self, message: str, missing: Sequence[str] = ()):
        super().__init__(message)
        self.missing = list(missing)


class ConflictOfInterest(StoreError):
    """Refused because the reviewer has a conflict of interest with the proposal (利益相反)."""


class AuthenticationFailed(StoreError):
    """Unknown user, wrong password, or no password set (one message for all: no user enumeration)."""


class AccountLocked(AuthenticationFailed):
    """Too many failed logins in a row; ``until`` is when the lock ends (UTC)."""

    def __init__(self, message: str, until: datetime | None = None):
        super().__init__(message)
        self.until = until


class AccountRefused(InputError):
    """A username or password the store refuses (nothing was written). ``reason`` names the rule, one of
    :data:`ACCOUNT_RULES`; the app shows the message ``account.refused.<reason>`` (ja/en), the command line the
    English problem line."""

    def __init__(self, reason: str, problem: Problem):
        super().__init__([problem])
        self.reason = reason


ACCOUNT_RULES = ("username_empty", "username_reserved", "password_short", "password_blank", "password_long",
                 "password_common")
"""Every :attr:`AccountRefused.reason`."""
