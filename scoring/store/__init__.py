"""The committee's store (issue 3): rounds, reviewers, assignments, reviews — SQLite by default, PostgreSQL by URL.

The browser app and the command line call :mod:`scoring.store.services` only; see ``docs/store.md``.
"""

from .services import *  # noqa: F401,F403
from .services import __all__  # noqa: F401
