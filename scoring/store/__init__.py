"""The committee's store (issue 3): rounds, reviewers, assignments, reviews — SQLite by default, PostgreSQL by URL.

The browser app and the command line call the services through :class:`Store` only; see ``docs/store.md``.
One module per service, plus their shared parts:

- :mod:`scoring.store.store` — :class:`Store`, one database, composing the services below;
- :mod:`scoring.store.users` — ``store.users``: logins, login tokens, accounts;
- :mod:`scoring.store.rounds` — ``store.rounds``: rounds, proposals, committee, progress, resolutions, ranking;
- :mod:`scoring.store.imports` — the rounds' ``import_files`` / ``export_files`` and the long review table;
- :mod:`scoring.store.assignments` — ``store.assignments``: assignments and conflicts of interest;
- :mod:`scoring.store.reviews` — ``store.reviews``: drafts, submission, reopening;
- :mod:`scoring.store.hearings` — ``store.hearings``: a pack's stage, the hearing shortlist, the two-stage ranking;
- :mod:`scoring.store.audit` — ``store.audit``: reading the audit log;
- :mod:`scoring.store.outbox` — ``store.outbox``: notices and reminders as e-mails, sent at most once by SMTP;
- :mod:`scoring.store.timetables` — ``store.timetables``: the hearing timetable (settings, slots, a member's own);
- :mod:`scoring.store.hearing_forms` — ``store.hearing_forms``: a member's hearing forms and question prompts;
- :mod:`scoring.store.scenarios` — named what-if scenarios (``ScenarioService(store)``);
- :mod:`scoring.store.discussion` — ``store.discussion``: the panel's discussion, review visibility, read markers;
- :mod:`scoring.store.base` — the service base class, the acting user and the permission helpers;
- :mod:`scoring.store.errors`, :mod:`scoring.store.values` (returned dataclasses, :class:`AuditAction`),
  :mod:`scoring.store.times` (time zone, HH:MM, login hours, deadlines);
- :mod:`scoring.store.schema`, :mod:`scoring.store.db`, :mod:`scoring.store.migrate` — tables, engine, migrations;
- the store's sub-commands of ``python -m scoring`` are in :mod:`scoring.cli.store`.

Roles and round statuses are the core's enums (:class:`scoring.models.Role`, :class:`scoring.models.RoundStatus`),
re-exported here.
"""

import importlib

# Every name is imported on first use (PEP 562), so that importing one light module of the store (its errors, its
# times) does not load every service, SQLAlchemy's ORM and pandas: the browser app draws its first page before it
# opens the store (issue 15, docs/app.md "Page speed").
_WHERE = {
    "Role": "..models", "RoundStatus": "..models",
    "AssignmentService": ".assignments", "AuditService": ".audit", "HearingService": ".hearings",
    "PackStage": ".hearings", "ReviewService": ".reviews", "RoundService": ".rounds", "Store": ".store",
    "UserService": ".users",
    **{name: ".errors" for name in (
        "AccountLocked", "AccountRefused", "AuthenticationFailed", "ConflictOfInterest", "Duplicate",
        "IncompleteReview", "NotFound", "PermissionDenied", "ReviewLocked", "RoundLocked", "StaleResolution",
        "StaleReview", "StoreError")},
    **{name: ".values" for name in (
        "SYSTEM", "AssignmentInfo", "AuditAction", "AuditEntry", "AutoAssignReport", "ConflictInfo", "ImportReport",
        "ProgressMatrix", "ResolutionInfo", "ReviewContent", "RoundInfo", "RoundReviewer", "Unsatisfied", "UserInfo",
        "DocumentInfo")},
}


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


__all__ = [
    # errors
    "StoreError", "PermissionDenied", "NotFound", "StaleReview", "StaleResolution", "ReviewLocked", "RoundLocked",
    "IncompleteReview", "ConflictOfInterest", "AuthenticationFailed", "AccountLocked", "AccountRefused", "Duplicate",
    # values
    "Role", "RoundStatus", "AuditAction", "UserInfo", "RoundInfo", "RoundReviewer", "AssignmentInfo",
    "ReviewContent", "ConflictInfo", "ResolutionInfo", "ProgressMatrix", "AutoAssignReport", "Unsatisfied",
    "ImportReport", "AuditEntry", "SYSTEM", "DocumentInfo",
    # services
    "Store", "UserService", "RoundService", "AssignmentService", "ReviewService", "AuditService", "HearingService",
    "PackStage",
]
