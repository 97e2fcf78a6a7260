"""Transitional: the names ``app/pages/chair_ranking.py`` still imports from here, until its rewrite imports
them from where they live now — :mod:`app.session` (the store, errors, pickers, cached calls) and
:mod:`app.auth` (:func:`~app.auth.require`). Delete this module then; nothing else uses it."""

from .auth import require
from .session import change_marker, error_text, get_store, round_analysis, round_call, round_pack_header

__all__ = ["change_marker", "error_text", "get_store", "require", "round_analysis", "round_call",
           "round_pack_header"]
