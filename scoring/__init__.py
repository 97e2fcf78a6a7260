"""Shinsa (審査) — the pure scoring core: packs, models, eligibility, aggregation, bonus, selection.

Adapters (command line, store, Excel, app) build a :class:`scoring.call.Call` — from files with
:func:`scoring.io.call.load_call` — and rank it (:func:`scoring.selection.rank`); the flat modules here import
no adapter, Streamlit, a database or a file format.
"""

__version__ = "0.1.0"
